-- Revert pyexchange:market_data from pg
BEGIN;
DROP TABLE exchange.ticker_24hr, exchange.klines;
COMMIT;
