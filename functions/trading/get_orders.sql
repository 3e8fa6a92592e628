-- exchange.get_orders(p_user_id bigint, p_symbol text DEFAULT NULL,
--     p_open_only boolean DEFAULT false, p_limit integer DEFAULT 100,
--     p_order_id bigint DEFAULT NULL) RETURNS SETOF exchange.order_result
-- The user's orders, newest first (fills NULL): all, one pair's, only open ones
-- (NEW, PARTIALLY_FILLED, PENDING), or one order by id.
-- Access: the user, or an acting user with order:read (exchange._authorize_for_user).
-- Raises: EX320, EX360, EX303, EX321, EX322 (access); nothing else (an unknown pair gives no rows).
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_orders(
    p_user_id bigint,
    p_symbol text DEFAULT NULL,
    p_open_only boolean DEFAULT false,
    p_limit integer DEFAULT 100,
    p_order_id bigint DEFAULT NULL
)
RETURNS SETOF exchange.order_result
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'order', 'read');
    RETURN QUERY
    SELECT o.id, o.uuid, o.user_id, tp.symbol::text, o.client_order_id::text, o.side, o.type,
           o.time_in_force, o.stp_mode, o.status, o.price::numeric, o.stop_price::numeric,
           o.amount::numeric, o.quote_amount::numeric, o.filled_amount::numeric,
           o.remaining_amount::numeric, o.filled_quote::numeric, o.fee_paid::numeric,
           o.hold_amount::numeric, o.created_at, o.updated_at, NULL::jsonb
      FROM exchange.orders o
      JOIN exchange.trading_pairs tp ON tp.id = o.trading_pair_id
     WHERE o.user_id = p_user_id
       AND (p_symbol IS NULL OR tp.symbol = p_symbol)
       AND (NOT COALESCE(p_open_only, false) OR o.status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING'))
       AND (p_order_id IS NULL OR o.id = p_order_id)
     ORDER BY o.created_at DESC, o.id DESC
     LIMIT COALESCE(p_limit, 100);
END;
$$;
COMMENT ON FUNCTION exchange.get_orders(bigint, text, boolean, integer, bigint) IS
    'The user''s orders, newest first; optionally one pair, open only, or one order.';
REVOKE ALL ON FUNCTION exchange.get_orders(bigint, text, boolean, integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_orders(bigint, text, boolean, integer, bigint) TO exchange_app;

-- exchange.get_trading_pairs() RETURNS TABLE(...)
-- Every trading pair with its rules, status and last price. Raises nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_trading_pairs()
RETURNS TABLE (id integer, symbol text, base_asset text, quote_asset text,
               price_precision integer, amount_precision integer, min_order_amount numeric,
               min_notional numeric, maker_fee_rate numeric, taker_fee_rate numeric,
               status exchange.pair_status, stp_mode exchange.stp_mode, last_price numeric,
               book_sequence bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT tp.id, tp.symbol::text, ba.symbol::text, qa.symbol::text, tp.price_precision,
           tp.amount_precision, trim_scale(tp.min_order_amount), trim_scale(tp.min_notional),
           trim_scale(tp.maker_fee_rate), trim_scale(tp.taker_fee_rate), tp.status, tp.stp_mode,
           trim_scale(ms.last_price), ms.book_sequence
      FROM exchange.trading_pairs tp
      JOIN exchange.assets ba ON ba.id = tp.base_asset_id
      JOIN exchange.assets qa ON qa.id = tp.quote_asset_id
      LEFT JOIN exchange.market_state ms ON ms.trading_pair_id = tp.id
     ORDER BY tp.symbol;
$$;
COMMENT ON FUNCTION exchange.get_trading_pairs() IS 'Every trading pair with its rules, status and last price.';
REVOKE ALL ON FUNCTION exchange.get_trading_pairs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_trading_pairs() TO exchange_app;
