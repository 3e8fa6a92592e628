-- Verify pyexchange:access on pg
BEGIN;
SELECT 'exchange._apply_ownership_and_grants()'::regprocedure;
SELECT 'exchange.create_login(text, text, text)'::regprocedure;
SELECT 1/count(*) FROM pg_namespace WHERE nspname = 'exchange' AND nspowner = 'exchange_owner'::regrole;
SELECT 1/(NOT has_table_privilege('exchange_app', 'exchange.users', 'SELECT'))::int;
ROLLBACK;
