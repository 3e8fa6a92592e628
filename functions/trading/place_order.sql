-- exchange.place_order(p_user_id bigint, p_symbol text, p_side text, p_type text,
--     p_amount numeric, p_price numeric DEFAULT NULL, p_time_in_force text DEFAULT 'GTC',
--     p_client_order_id text DEFAULT NULL, p_stop_price numeric DEFAULT NULL,
--     p_quote_amount numeric DEFAULT NULL, p_stp_mode text DEFAULT NULL)
--   RETURNS SETOF exchange.order_result (one row)
-- Places one order and returns it as it stands after matching, with its fills (the trades
-- it took as taker: trade_id, maker_order_id, price, amount, quote_amount, fee). The single
-- form of exchange.place_orders: see there for the rules, errors and locks.
CREATE OR REPLACE FUNCTION exchange.place_order(
    p_user_id bigint,
    p_symbol text,
    p_side text,
    p_type text,
    p_amount numeric,
    p_price numeric DEFAULT NULL,
    p_time_in_force text DEFAULT 'GTC',
    p_client_order_id text DEFAULT NULL,
    p_stop_price numeric DEFAULT NULL,
    p_quote_amount numeric DEFAULT NULL,
    p_stp_mode text DEFAULT NULL
)
RETURNS SETOF exchange.order_result
-- PL/pgSQL rather than SQL: its statement's plan is cached in the session, where a SQL
-- function (not inlinable: SECURITY DEFINER, SET) parses and plans its body on every call.
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT * FROM exchange.place_orders(ARRAY[ROW(
        p_user_id, p_symbol, p_side, p_type, p_amount, p_price, p_time_in_force,
        p_client_order_id, p_stop_price, p_quote_amount, p_stp_mode)::exchange.order_request]);
END;
$$;
COMMENT ON FUNCTION exchange.place_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text) IS
    'Places one order (the single form of place_orders) and returns it after matching, with its fills. Raises EX101, EX201-EX215, EX218, EX219.';
REVOKE ALL ON FUNCTION exchange.place_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.place_order(bigint, text, text, text, numeric, numeric, text, text, numeric, numeric, text) TO exchange_app;
