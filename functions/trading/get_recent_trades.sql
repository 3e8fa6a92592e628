-- exchange.get_recent_trades(p_symbol text, p_limit integer DEFAULT 50,
--     p_before_id bigint DEFAULT NULL, p_after_id bigint DEFAULT NULL)
--   RETURNS TABLE(id bigint, symbol text, price numeric, amount numeric, quote_amount numeric,
--                 taker_side exchange.order_side, is_maker_buyer boolean, buyer_fee numeric,
--                 seller_fee numeric, created_at timestamptz)
-- The pair's latest trades (every pair's when p_symbol is NULL), newest first (created_at,
-- then id). Keyset pages: with p_before_id, the p_limit trades just older than that trade
-- (the next page); with p_after_id, the p_limit trades just newer (the previous page), still
-- newest first. Cost: one index range scan per partition, of (trading_pair_id, created_at,
-- id) for a pair, of (created_at, id) exchange-wide.
-- Raises: EX201 unknown pair; EX001 p_limit outside 1..1000, both cursors given, or a cursor
-- that is not a trade (of this pair). Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_recent_trades(
    p_symbol text,
    p_limit integer DEFAULT 50,
    p_before_id bigint DEFAULT NULL,
    p_after_id bigint DEFAULT NULL
)
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
    v_limit   integer := COALESCE(p_limit, 50);
    v_cursor  bigint := COALESCE(p_before_id, p_after_id);
    v_at      timestamptz;
BEGIN
    IF v_limit NOT BETWEEN 1 AND 1000 OR (p_before_id IS NOT NULL AND p_after_id IS NOT NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid trade query',
            DETAIL = format('limit %s, before_id %s, after_id %s', p_limit, p_before_id, p_after_id),
            HINT = 'A limit of 1 to 1000, and at most one of before_id and after_id.';
    END IF;
    IF p_symbol IS NOT NULL THEN
        SELECT tp.id INTO v_pair_id FROM exchange.trading_pairs tp WHERE tp.symbol = p_symbol;
        IF v_pair_id IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'EX201',
                MESSAGE = format('unknown trading pair %s', exchange._quote(p_symbol)),
                DETAIL = 'exchange.trading_pairs has no pair with this symbol.',
                HINT = 'List the pairs with exchange.get_trading_pairs().';
        END IF;
    END IF;
    IF v_cursor IS NOT NULL THEN
        SELECT t.created_at INTO v_at FROM exchange.trades t
         WHERE t.id = v_cursor AND (v_pair_id IS NULL OR t.trading_pair_id = v_pair_id);
        IF v_at IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'unknown page cursor',
                DETAIL = format('trade %s is not a trade of %s', v_cursor,
                                COALESCE(exchange._quote(p_symbol), 'any pair')),
                HINT = 'Page with the id of a trade from the previous page.';
        END IF;
    END IF;
    -- Built from fixed fragments only (values go through USING), so that each call gets the
    -- plan of its own filters: an index range scan that stops after p_limit rows.
    RETURN QUERY EXECUTE format($q$
        SELECT r.id, tp.symbol::text, trim_scale(r.price), trim_scale(r.amount),
               trim_scale(r.quote_amount),
               CASE WHEN r.is_maker_buyer THEN 'SELL' ELSE 'BUY' END::exchange.order_side,
               r.is_maker_buyer, trim_scale(r.buyer_fee), trim_scale(r.seller_fee), r.created_at
          FROM (SELECT t.* FROM exchange.trades t
                 WHERE true %s %s
                 ORDER BY t.created_at %s, t.id %s
                 LIMIT $1) r
          JOIN exchange.trading_pairs tp ON tp.id = r.trading_pair_id
         ORDER BY r.created_at DESC, r.id DESC$q$,
        CASE WHEN v_pair_id IS NOT NULL THEN 'AND t.trading_pair_id = $2' ELSE '' END,
        CASE WHEN p_before_id IS NOT NULL THEN 'AND (t.created_at, t.id) < ($3, $4)'
             WHEN p_after_id IS NOT NULL THEN 'AND (t.created_at, t.id) > ($3, $4)'
             ELSE '' END,
        CASE WHEN p_after_id IS NULL THEN 'DESC' ELSE 'ASC' END,
        CASE WHEN p_after_id IS NULL THEN 'DESC' ELSE 'ASC' END)
    USING v_limit, v_pair_id, v_at, v_cursor;
END;
$$;
COMMENT ON FUNCTION exchange.get_recent_trades(text, integer, bigint, bigint) IS
    'The pair''s (or, with NULL, every pair''s) latest trades, newest first; keyset pages before or after a trade id. Raises EX001, EX201.';
REVOKE ALL ON FUNCTION exchange.get_recent_trades(text, integer, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_recent_trades(text, integer, bigint, bigint) TO exchange_app;
