-- Revert pyexchange:orders from pg
BEGIN;
DROP TABLE exchange.trades, exchange.orders;
ALTER TABLE exchange.accounts DROP CONSTRAINT accounts_trading_pair_fkey;
DROP TABLE exchange.trading_pairs;
COMMIT;
