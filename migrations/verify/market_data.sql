-- Verify pyexchange:market_data on pg
BEGIN;
SELECT trading_pair_id, interval, open_time, open_price, high_price, low_price, close_price,
       volume, quote_volume, trades_count FROM exchange.klines WHERE false;
ROLLBACK;
