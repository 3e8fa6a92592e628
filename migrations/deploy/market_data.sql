-- Deploy pyexchange:market_data to pg
-- requires: orders
-- Market data domain: K-lines (partitioned by month on open_time) and the 24h ticker.
BEGIN;

-- The seed's UNIQUE(trading_pair_id, interval, open_time) is the natural key and already
-- includes the partition key, so it is the primary key; the seed's
-- idx_klines_trading_pair_interval would duplicate it and is not created.
CREATE TABLE exchange.klines (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    trading_pair_id integer NOT NULL,
    interval        exchange.kline_interval NOT NULL,
    open_time       timestamptz NOT NULL,
    close_time      timestamptz NOT NULL,
    open_price      exchange.amount NOT NULL,
    high_price      exchange.amount NOT NULL,
    low_price       exchange.amount NOT NULL,
    close_price     exchange.amount NOT NULL,
    volume          exchange.amount NOT NULL DEFAULT 0,
    quote_volume    exchange.amount NOT NULL DEFAULT 0,
    trades_count    integer NOT NULL DEFAULT 0,
    CONSTRAINT klines_pkey PRIMARY KEY (trading_pair_id, interval, open_time),
    CONSTRAINT klines_trading_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id),
    CONSTRAINT klines_prices_positive CHECK (low_price > 0),
    CONSTRAINT klines_high_low CHECK (low_price <= LEAST(open_price, close_price)
                                      AND high_price >= GREATEST(open_price, close_price)),
    CONSTRAINT klines_volume_nonnegative CHECK (volume >= 0 AND quote_volume >= 0),
    CONSTRAINT klines_trades_count_nonnegative CHECK (trades_count >= 0),
    CONSTRAINT klines_time_order CHECK (close_time > open_time)
) PARTITION BY RANGE (open_time);
COMMENT ON TABLE exchange.klines IS 'Candlesticks per pair and interval, range-partitioned by month on open_time.';

-- No ticker_24hr table: the 24-hour ticker is computed when read (get_ticker_24hr, from
-- the 1m K-lines of the window). A table kept true would cost a write on every trade, and a
-- rolling window cannot be kept by increments alone (trades leave it as time passes).

COMMIT;
