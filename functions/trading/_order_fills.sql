-- exchange._order_fills(p_order_id bigint) RETURNS jsonb
-- Internal (place_orders, a client_order_id seen again): the taker fills of an order of an
-- earlier call, read through the trades' buyer and seller order indexes, oldest first.
-- Raises: nothing. Locks: none.
-- Access: internal (exchange.place_orders).
CREATE OR REPLACE FUNCTION exchange._order_fills(p_order_id bigint)
RETURNS jsonb
LANGUAGE sql
STABLE
AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object(
               'trade_id', t.id,
               'maker_order_id', CASE WHEN t.buyer_order_id = p_order_id THEN t.seller_order_id ELSE t.buyer_order_id END,
               'price', trim_scale(t.price)::text, 'amount', trim_scale(t.amount)::text,
               'quote_amount', trim_scale(t.quote_amount)::text,
               'fee', trim_scale(CASE WHEN t.buyer_order_id = p_order_id THEN t.buyer_fee ELSE t.seller_fee END)::text)
               ORDER BY t.id), '[]'::jsonb)
      FROM (SELECT * FROM exchange.trades b
             WHERE b.buyer_order_id = p_order_id AND b.is_maker_buyer = false
            UNION ALL
            SELECT * FROM exchange.trades s
             WHERE s.seller_order_id = p_order_id AND s.is_maker_buyer = true) AS t
$$;
COMMENT ON FUNCTION exchange._order_fills(bigint) IS
    'Internal (place_orders): the taker fills of an order of an earlier call, from the trades.';
REVOKE ALL ON FUNCTION exchange._order_fills(bigint) FROM PUBLIC;
