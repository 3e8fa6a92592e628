-- exchange.get_klines(p_symbol text, p_interval text DEFAULT '1m',
--     p_from timestamptz DEFAULT NULL, p_to timestamptz DEFAULT NULL,
--     p_limit integer DEFAULT 500)
--   RETURNS TABLE(open_time, close_time, open, high, low, close, volume, quote_volume,
--                 trades_count)
-- Candlesticks of one pair and interval (1m, 5m, 15m, 1h, 4h, 1d), oldest first: those
-- opening in [p_from, p_to), at most p_limit; without p_from, the latest p_limit. K-lines
-- are maintained exactly by every placement that trades (intervals aligned to UTC).
-- Raises: EX201 unknown pair, EX223 unknown interval or bad limit. Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_klines(
    p_symbol text,
    p_interval text DEFAULT '1m',
    p_from timestamptz DEFAULT NULL,
    p_to timestamptz DEFAULT NULL,
    p_limit integer DEFAULT 500
)
RETURNS TABLE (open_time timestamptz, close_time timestamptz, open numeric, high numeric,
               low numeric, close numeric, volume numeric, quote_volume numeric,
               trades_count integer)
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
            MESSAGE = format('unknown trading pair %s', exchange._quote(p_symbol)),
            DETAIL = 'exchange.trading_pairs has no pair with this symbol.',
            HINT = 'List the pairs with exchange.get_trading_pairs().';
    END IF;
    IF p_interval IS NULL OR p_interval NOT IN ('1m', '5m', '15m', '1h', '4h', '1d')
       OR p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 10000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX223',
            MESSAGE = format('invalid kline interval %s or limit %s', exchange._quote(p_interval), p_limit),
            DETAIL = 'The interval is not one of 1m, 5m, 15m, 1h, 4h, 1d, or the limit is outside 1..10000.',
            HINT = 'Intervals: 1m, 5m, 15m, 1h, 4h, 1d; limit 1 to 10000.';
    END IF;
    RETURN QUERY
    SELECT k.open_time, k.close_time, trim_scale(k.open_price), trim_scale(k.high_price),
           trim_scale(k.low_price), trim_scale(k.close_price), trim_scale(k.volume),
           trim_scale(k.quote_volume), k.trades_count
      FROM (SELECT * FROM exchange.klines kl
             WHERE kl.trading_pair_id = v_pair_id
               AND kl.interval = p_interval::exchange.kline_interval
               AND (p_from IS NULL OR kl.open_time >= p_from)
               AND (p_to IS NULL OR kl.open_time < p_to)
             ORDER BY CASE WHEN p_from IS NULL THEN kl.open_time END DESC,
                      kl.open_time
             LIMIT p_limit) AS k
     ORDER BY k.open_time;
END;
$$;
COMMENT ON FUNCTION exchange.get_klines(text, text, timestamptz, timestamptz, integer) IS
    'Candlesticks of one pair and interval, oldest first. Raises EX201, EX223.';
REVOKE ALL ON FUNCTION exchange.get_klines(text, text, timestamptz, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_klines(text, text, timestamptz, timestamptz, integer) TO exchange_app;
