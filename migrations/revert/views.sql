-- Revert pyexchange:views from pg
BEGIN;
DROP VIEW exchange.trading_pair_stats, exchange.user_balances;
COMMIT;
