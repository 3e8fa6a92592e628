-- exchange.get_ticker_24hr(p_symbol text DEFAULT NULL)
--   RETURNS TABLE(symbol, open, high, low, close, volume, quote_volume, trades_count,
--                 price_change, price_change_percent, last_price, window_start)
-- The rolling 24-hour statistics of one pair or all, computed when read from the 1m K-lines
-- of the last 24 hours (at most 1,440 rows per pair, read through the K-lines' primary key),
-- so placing orders pays nothing for it. The window is aligned to whole minutes: it starts at
-- the minute 24 hours before the current one. A pair without trades in the window shows its
-- last price, no change and zero volume. (The table exchange.ticker_24hr is not maintained
-- on the hot path; see docs/trading.md.)
-- Raises: EX201 unknown pair. Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_ticker_24hr(p_symbol text DEFAULT NULL)
RETURNS TABLE (symbol text, open numeric, high numeric, low numeric, close numeric,
               volume numeric, quote_volume numeric, trades_count bigint, price_change numeric,
               price_change_percent numeric, last_price numeric, window_start timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF p_symbol IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM exchange.trading_pairs tp WHERE tp.symbol = p_symbol) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX201',
            MESSAGE = format('unknown trading pair %s', exchange._quote(p_symbol)),
            DETAIL = 'exchange.trading_pairs has no pair with this symbol.',
            HINT = 'List the pairs with exchange.get_trading_pairs().';
    END IF;
    RETURN QUERY
    SELECT tp.symbol::text,
           trim_scale(w.open), trim_scale(w.high), trim_scale(w.low), trim_scale(w.close),
           trim_scale(COALESCE(w.volume, 0)), trim_scale(COALESCE(w.quote_volume, 0)),
           COALESCE(w.trades, 0),
           trim_scale(COALESCE(w.close - w.open, 0)),
           COALESCE(round((w.close - w.open) * 100 / w.open, 4), 0),
           trim_scale(ms.last_price),
           date_trunc('minute', now()) - interval '24 hours'
      FROM exchange.trading_pairs tp
      LEFT JOIN exchange.market_state ms ON ms.trading_pair_id = tp.id
      LEFT JOIN LATERAL (
          SELECT (array_agg(k.open_price ORDER BY k.open_time))[1] AS open,
                 max(k.high_price) AS high, min(k.low_price) AS low,
                 (array_agg(k.close_price ORDER BY k.open_time DESC))[1] AS close,
                 sum(k.volume) AS volume, sum(k.quote_volume) AS quote_volume,
                 sum(k.trades_count) AS trades
            FROM exchange.klines k
           WHERE k.trading_pair_id = tp.id AND k.interval = '1m'
             AND k.open_time >= date_trunc('minute', now()) - interval '24 hours'
      ) w ON true
     WHERE p_symbol IS NULL OR tp.symbol = p_symbol
     ORDER BY tp.symbol;
END;
$$;
COMMENT ON FUNCTION exchange.get_ticker_24hr(text) IS
    'Rolling 24h open/high/low/close/volume/change of one pair or all, computed from the 1m K-lines when read. Raises EX201.';
REVOKE ALL ON FUNCTION exchange.get_ticker_24hr(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_ticker_24hr(text) TO exchange_app;
