-- Verify pyexchange:counter_rules_barrier on pg
BEGIN;
SELECT 'exchange.tg_counter_rules__barrier()'::regprocedure;
SELECT 1 / count(*) FROM pg_trigger
 WHERE tgname IN ('tg_kyc_limits__barrier', 'tg_risk_rules__barrier', 'tg_users__kyc_level_barrier')
HAVING count(*) = 3;
ROLLBACK;
