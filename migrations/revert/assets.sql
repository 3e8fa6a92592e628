-- Revert pyexchange:assets from pg
BEGIN;
DROP TABLE exchange.transactions, exchange.journal, exchange.accounts, exchange.assets;
DROP FUNCTION exchange.tg_accounts__check_owner();
COMMIT;
