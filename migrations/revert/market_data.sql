-- Revert pyexchange:market_data from pg
BEGIN;
DROP TABLE exchange.klines;
COMMIT;
