-- exchange._order_result(p_order_id bigint, p_created_at timestamptz, p_fills jsonb)
--   RETURNS SETOF exchange.order_result (one row)
-- Internal (place_orders' results): the order as it stands now, by its key (only its
-- partition is read), with p_fills as its fills (exchange._order_fills reads them for an
-- order of an earlier call). A one-SELECT SQL function: the planner inlines it. (The trades
-- are not read here: a subquery over the trades, even one never run, initialises a scan of
-- every trades partition at each call, about 10 % of a resting order.)
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
           p_fills
      FROM exchange.orders o
     WHERE o.id = p_order_id AND o.created_at = p_created_at
$$;
COMMENT ON FUNCTION exchange._order_result(bigint, timestamptz, jsonb) IS
    'Internal (place_orders): the order as it stands now with p_fills as its fills; inlined by the planner.';
REVOKE ALL ON FUNCTION exchange._order_result(bigint, timestamptz, jsonb) FROM PUBLIC;
