-- Revert pyexchange:assets from pg
BEGIN;
DROP TABLE exchange.transactions, exchange.journal, exchange.accounts, exchange.assets;
COMMIT;
