-- exchange._order_result(p_order_id bigint, p_created_at timestamptz, p_fills jsonb)
--   RETURNS SETOF exchange.order_result (one row)
-- Internal (place_orders' results): the order as it stands now, by its key (only its
-- partition is read), with p_fills as its fills; NULL p_fills (an order of an earlier call,
-- a client_order_id seen again) reads its taker fills from the trades, through the buyer and
-- seller order indexes. A one-SELECT SQL function: the planner inlines it.
-- Raises: nothing. Locks: none.
-- Access: internal (exchange.place_orders).
CREATE OR REPLACE FUNCTION exchange._order_result(
    p_order_id bigint, p_created_at timestamptz, p_fills jsonb)
RETURNS SETOF exchange.order_result
LANGUAGE sql
STABLE
AS $$
    SELECT o.id, o.uuid, o.user_id,
           (SELECT tp.symbol FROM exchange.trading_pairs tp WHERE tp.id = o.trading_pair_id)::text,
           o.client_order_id::text, o.side, o.type,
           o.time_in_force, o.stp_mode, o.status, o.price::numeric, o.stop_price::numeric,
           o.amount::numeric, o.quote_amount::numeric, o.filled_amount::numeric,
           o.remaining_amount::numeric, o.filled_quote::numeric, o.fee_paid::numeric,
           o.hold_amount::numeric, o.created_at, o.updated_at,
           COALESCE(p_fills,
               (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                            'trade_id', t.id,
                            'maker_order_id', CASE WHEN t.buyer_order_id = o.id THEN t.seller_order_id ELSE t.buyer_order_id END,
                            'price', trim_scale(t.price)::text, 'amount', trim_scale(t.amount)::text,
                            'quote_amount', trim_scale(t.quote_amount)::text,
                            'fee', trim_scale(CASE WHEN t.buyer_order_id = o.id THEN t.buyer_fee ELSE t.seller_fee END)::text)
                            ORDER BY t.id), '[]'::jsonb)
                  FROM (SELECT * FROM exchange.trades b
                         WHERE b.buyer_order_id = o.id AND b.is_maker_buyer = false
                        UNION ALL
                        SELECT * FROM exchange.trades s
                         WHERE s.seller_order_id = o.id AND s.is_maker_buyer = true) AS t))
      FROM exchange.orders o
     WHERE o.id = p_order_id AND o.created_at = p_created_at
$$;
COMMENT ON FUNCTION exchange._order_result(bigint, timestamptz, jsonb) IS
    'Internal (place_orders): the order as it stands now with its fills (read from the trades when p_fills is NULL); inlined by the planner.';
REVOKE ALL ON FUNCTION exchange._order_result(bigint, timestamptz, jsonb) FROM PUBLIC;
