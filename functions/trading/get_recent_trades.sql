-- exchange.get_recent_trades(p_symbol text, p_limit integer DEFAULT 50)
--   RETURNS TABLE(id bigint, symbol text, price numeric, amount numeric, quote_amount numeric,
--                 taker_side exchange.order_side, is_maker_buyer boolean, buyer_fee numeric,
--                 seller_fee numeric, created_at timestamptz)
-- The pair's latest trades, newest first. Raises: EX201 unknown pair. Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_recent_trades(p_symbol text, p_limit integer DEFAULT 50)
RETURNS TABLE (id bigint, symbol text, price numeric, amount numeric, quote_amount numeric,
               taker_side exchange.order_side, is_maker_buyer boolean, buyer_fee numeric,
               seller_fee numeric, created_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_pair_id integer;
BEGIN
    SELECT tp.id INTO v_pair_id FROM exchange.trading_pairs tp WHERE tp.symbol = p_symbol;
    IF v_pair_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX201',
            MESSAGE = format('unknown trading pair %s', COALESCE(p_symbol, 'NULL')),
            HINT = 'List the pairs with exchange.get_trading_pairs().';
    END IF;
    RETURN QUERY
    SELECT t.id, p_symbol, trim_scale(t.price), trim_scale(t.amount), trim_scale(t.quote_amount),
           CASE WHEN t.is_maker_buyer THEN 'SELL' ELSE 'BUY' END::exchange.order_side,
           t.is_maker_buyer, trim_scale(t.buyer_fee), trim_scale(t.seller_fee), t.created_at
      FROM exchange.trades t
     WHERE t.trading_pair_id = v_pair_id
     ORDER BY t.created_at DESC, t.id DESC
     LIMIT COALESCE(p_limit, 50);
END;
$$;
COMMENT ON FUNCTION exchange.get_recent_trades(text, integer) IS 'The pair''s latest trades, newest first. Raises EX201.';
REVOKE ALL ON FUNCTION exchange.get_recent_trades(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_recent_trades(text, integer) TO exchange_app;
