-- Verify pyexchange:market_data on pg
BEGIN;
SELECT trading_pair_id, interval, open_time, open_price, high_price, low_price, close_price,
       volume, quote_volume, trades_count FROM exchange.klines WHERE false;
SELECT trading_pair_id, open_price, high_price, low_price, close_price, volume,
       price_change_percent, updated_at FROM exchange.ticker_24hr WHERE false;
ROLLBACK;
