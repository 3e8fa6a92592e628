-- Revert pyexchange:audit_ddl from pg
BEGIN;
DROP EXTENSION IF EXISTS pgaudit;
DROP EVENT TRIGGER IF EXISTS exchange_ddl_audit_drop;
DROP EVENT TRIGGER IF EXISTS exchange_ddl_audit;
DROP EVENT TRIGGER IF EXISTS exchange_ddl_audit_start;
DO $$
DECLARE
    v_part regclass;
BEGIN
    FOR v_part IN
        SELECT g.tgrelid::regclass FROM pg_catalog.pg_trigger g
         WHERE g.tgname = 'tg_audit_logs__no_truncate'
           AND g.tgrelid <> 'exchange.audit_logs'::regclass
    LOOP
        EXECUTE format('DROP TRIGGER tg_audit_logs__no_truncate ON %s', v_part);
    END LOOP;
END
$$;
DROP FUNCTION exchange.tg_ddl__audit_drop();
DROP FUNCTION exchange.tg_ddl__audit();
DROP FUNCTION exchange.tg_ddl__snapshot();
DROP FUNCTION exchange._protect_audit_log();
COMMIT;
