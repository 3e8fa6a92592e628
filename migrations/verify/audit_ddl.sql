-- Verify pyexchange:audit_ddl on pg
BEGIN;
SELECT 'exchange._protect_audit_log()'::regprocedure;
SELECT 'exchange.tg_ddl__audit()'::regprocedure;
SELECT 'exchange.tg_ddl__audit_drop()'::regprocedure;
SELECT 1/count(*) FROM pg_catalog.pg_event_trigger
 WHERE evtname = 'exchange_ddl_audit'
    OR NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
ROLLBACK;
