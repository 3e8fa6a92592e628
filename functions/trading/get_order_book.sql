-- exchange.get_order_book(p_symbol text, p_depth integer DEFAULT 20)
--   RETURNS TABLE(symbol text, sequence bigint, bids jsonb, asks jsonb)
-- The book aggregated by price level, best first, p_depth levels per side, each level
-- ["price", "amount", orders], with the book's sequence number (it increases with every
-- change of that book: each placement that rests or trades, each cancel). One statement,
-- so the levels and the sequence are of one snapshot. Each side walks its index level by
-- level (a loose index scan), so the cost is p_depth levels, not the book's size.
-- Raises: EX201 unknown pair; EX001 p_depth outside 1..1000 (NULL: 20). Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_order_book(p_symbol text, p_depth integer DEFAULT 20)
RETURNS TABLE (symbol text, sequence bigint, bids jsonb, asks jsonb)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_pair_id integer;
    v_depth   integer := COALESCE(p_depth, 20);
BEGIN
    IF v_depth NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid order book depth',
            DETAIL = format('p_depth = %s', p_depth),
            HINT = 'Ask for 1 to 1000 price levels per side.';
    END IF;
    SELECT tp.id INTO v_pair_id FROM exchange.trading_pairs tp WHERE tp.symbol = p_symbol;
    IF v_pair_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX201',
            MESSAGE = format('unknown trading pair %s', exchange._quote(p_symbol)),
            DETAIL = 'exchange.trading_pairs has no pair with this symbol.',
            HINT = 'List the pairs with exchange.get_trading_pairs().';
    END IF;
    RETURN QUERY
    WITH RECURSIVE
    bid_levels(n, price) AS (
        SELECT 1, (SELECT max(b.price) FROM exchange.order_book b
                    WHERE b.trading_pair_id = v_pair_id AND b.side = 'BUY')
        UNION ALL
        SELECT l.n + 1, (SELECT max(b.price) FROM exchange.order_book b
                          WHERE b.trading_pair_id = v_pair_id AND b.side = 'BUY'
                            AND b.price < l.price)
          FROM bid_levels l WHERE l.price IS NOT NULL AND l.n < v_depth
    ),
    ask_levels(n, price) AS (
        SELECT 1, (SELECT min(b.price) FROM exchange.order_book b
                    WHERE b.trading_pair_id = v_pair_id AND b.side = 'SELL')
        UNION ALL
        SELECT l.n + 1, (SELECT min(b.price) FROM exchange.order_book b
                          WHERE b.trading_pair_id = v_pair_id AND b.side = 'SELL'
                            AND b.price > l.price)
          FROM ask_levels l WHERE l.price IS NOT NULL AND l.n < v_depth
    )
    SELECT p_symbol,
           (SELECT ms.book_sequence FROM exchange.market_state ms WHERE ms.trading_pair_id = v_pair_id),
           (SELECT COALESCE(jsonb_agg(jsonb_build_array(trim_scale(l.price)::text,
                                                        trim_scale(a.amount)::text, a.cnt)
                                      ORDER BY l.n), '[]'::jsonb)
              FROM bid_levels l
              CROSS JOIN LATERAL (SELECT sum(b.remaining) AS amount, count(*) AS cnt
                                    FROM exchange.order_book b
                                   WHERE b.trading_pair_id = v_pair_id AND b.side = 'BUY'
                                     AND b.price = l.price) a
             WHERE l.price IS NOT NULL),
           (SELECT COALESCE(jsonb_agg(jsonb_build_array(trim_scale(l.price)::text,
                                                        trim_scale(a.amount)::text, a.cnt)
                                      ORDER BY l.n), '[]'::jsonb)
              FROM ask_levels l
              CROSS JOIN LATERAL (SELECT sum(b.remaining) AS amount, count(*) AS cnt
                                    FROM exchange.order_book b
                                   WHERE b.trading_pair_id = v_pair_id AND b.side = 'SELL'
                                     AND b.price = l.price) a
             WHERE l.price IS NOT NULL);
END;
$$;
COMMENT ON FUNCTION exchange.get_order_book(text, integer) IS
    'The book aggregated by price level (best first, p_depth per side) with its sequence number. Raises EX001, EX201.';
REVOKE ALL ON FUNCTION exchange.get_order_book(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_order_book(text, integer) TO exchange_app;
