-- Verify pyexchange:audit_log on pg
BEGIN;
SELECT 'exchange.audit_trail(text, text, integer)'::regprocedure;
SELECT 1/count(*) FROM pg_trigger
 WHERE tgrelid = 'exchange.audit_logs'::regclass AND tgname = 'tg_audit_logs__append_only';
SELECT 1/count(*) FROM pg_trigger
 WHERE tgrelid = 'exchange.users'::regclass AND tgname = 'tg_users__audit';
ROLLBACK;
