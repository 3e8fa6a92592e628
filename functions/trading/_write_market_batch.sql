-- exchange._write_market_batch(p_pairs integer[], p_last_prices numeric[],
--     p_book_increments bigint[], p_trade_pairs integer[], p_trade_prices numeric[],
--     p_trade_amounts numeric[], p_trade_quotes numeric[], p_event_aggregates text[],
--     p_event_ids text[], p_event_types text[], p_event_data jsonb[]) RETURNS integer
-- Internal: the last stage of exchange.place_orders, once per call: each market's last
-- price, last trade time and book sequence (p_pairs, with the batch's last price and its
-- number of book changes per market), the K-lines of every interval from the batch's trades
-- (parallel arrays, in trade order), and the batch's outbox events (parallel arrays). One
-- statement for the markets and the events, whatever the number of markets (a single order
-- touches one), and one for the K-lines when the batch traded: every market row is already
-- the caller's by its advisory lock, so the order in which market_state rows are updated
-- cannot deadlock. Returns the number of outbox events written.
-- Who: place_orders only (not granted). Raises: nothing of its own.
-- Locks: the batch's market_state rows and K-line rows, all of markets the caller has locked.
CREATE OR REPLACE FUNCTION exchange._write_market_batch(
    p_pairs integer[],
    p_last_prices numeric[],
    p_book_increments bigint[],
    p_trade_pairs integer[],
    p_trade_prices numeric[],
    p_trade_amounts numeric[],
    p_trade_quotes numeric[],
    p_event_aggregates text[],
    p_event_ids text[],
    p_event_types text[],
    p_event_data jsonb[])
RETURNS integer
LANGUAGE plpgsql
-- No SET clauses: it runs under place_orders' (generic plans, no JIT), and a SET clause
-- costs a settings save and restore at every call.
AS $$
DECLARE
    v_events integer;
BEGIN
    WITH ms AS (
        UPDATE exchange.market_state s
           SET last_price = COALESCE(m.last, s.last_price),
               last_trade_at = CASE WHEN m.pair = ANY (p_trade_pairs) THEN now()
                                    ELSE s.last_trade_at END,
               book_sequence = s.book_sequence + m.inc
          FROM unnest(p_pairs, p_last_prices, p_book_increments) AS m(pair, last, inc)
         WHERE s.trading_pair_id = m.pair
           AND (m.inc <> 0 OR m.pair = ANY (p_trade_pairs))
    )
    INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type, event_data, correlation_id)
    SELECT e.agg, e.aid, e.typ, e.data,
           NULLIF(current_setting('exchange.correlation_id', true), '')::uuid
      FROM unnest(p_event_aggregates, p_event_ids, p_event_types, p_event_data) AS e(agg, aid, typ, data);
    GET DIAGNOSTICS v_events = ROW_COUNT;
    IF cardinality(p_trade_pairs) > 0 THEN
        -- every trade of the call happens at now(), so it falls in the same bucket of each
        -- interval: one aggregate per market, repeated for the six intervals
        INSERT INTO exchange.klines AS k
            (trading_pair_id, interval, open_time, close_time, open_price, high_price,
             low_price, close_price, volume, quote_volume, trades_count)
        SELECT a.pair, iv.name, date_bin(iv.width, now(), TIMESTAMPTZ '2000-01-01 00:00:00+00'),
               date_bin(iv.width, now(), TIMESTAMPTZ '2000-01-01 00:00:00+00') + iv.width,
               a.open, a.high, a.low, a.close, a.volume, a.quote, a.n
          FROM (SELECT t.pair, (array_agg(t.price ORDER BY t.ord))[1] AS open,
                       max(t.price) AS high, min(t.price) AS low,
                       (array_agg(t.price ORDER BY t.ord DESC))[1] AS close,
                       sum(t.qty) AS volume, sum(t.quote) AS quote, count(*) AS n
                  FROM unnest(p_trade_pairs, p_trade_prices, p_trade_amounts, p_trade_quotes)
                       WITH ORDINALITY AS t(pair, price, qty, quote, ord)
                 GROUP BY t.pair) AS a
         CROSS JOIN (VALUES ('1m'::exchange.kline_interval, interval '1 minute'),
                            ('5m', interval '5 minutes'), ('15m', interval '15 minutes'),
                            ('1h', interval '1 hour'), ('4h', interval '4 hours'),
                            ('1d', interval '1 day')) AS iv(name, width)
        ON CONFLICT (trading_pair_id, interval, open_time) DO UPDATE
           SET high_price = GREATEST(k.high_price, excluded.high_price),
               low_price = LEAST(k.low_price, excluded.low_price),
               close_price = excluded.close_price,
               volume = k.volume + excluded.volume,
               quote_volume = k.quote_volume + excluded.quote_volume,
               trades_count = k.trades_count + excluded.trades_count;
    END IF;
    RETURN v_events;
END;
$$;
COMMENT ON FUNCTION exchange._write_market_batch(integer[], numeric[], bigint[], integer[], numeric[], numeric[], numeric[], text[], text[], text[], jsonb[]) IS
    'Internal: place_orders'' last stage: markets'' last price and book sequence and outbox events in one statement, K-lines in another when the batch traded.';
REVOKE ALL ON FUNCTION exchange._write_market_batch(integer[], numeric[], bigint[], integer[], numeric[], numeric[], numeric[], text[], text[], text[], jsonb[]) FROM PUBLIC;
