-- Deploy pyexchange:audit_ddl to pg
-- requires: audit_log partitions
-- The audit trail that the owner cannot erase: TRUNCATE (and UPDATE, DELETE) refused on every
-- audit_logs partition, present and future; every DDL command on schema exchange (partitions
-- made, attached, detached and dropped included) written to the audit log by event triggers;
-- pgaudit where the server preloads it. Event triggers can only be made by a superuser: a
-- migration run by a non-superuser member of exchange_owner skips them with a WARNING (and
-- docs/security.md says what a superuser must run). See docs/security.md, "The audit log".
BEGIN;

\ir ../../functions/security/_protect_audit_log.sql
\ir ../../functions/security/tg_ddl__snapshot.sql
\ir ../../functions/security/tg_ddl__audit.sql
\ir ../../functions/security/tg_ddl__audit_drop.sql

-- The partitions made so far get their guard now; later ones from the event trigger.
SELECT exchange._protect_audit_log();

DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE WARNING 'DDL audit not installed: event triggers need a superuser (see docs/security.md)';
        RETURN;
    END IF;
    CREATE EVENT TRIGGER exchange_ddl_audit_start ON ddl_command_start
        WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION exchange.tg_ddl__snapshot();
    CREATE EVENT TRIGGER exchange_ddl_audit ON ddl_command_end
        EXECUTE FUNCTION exchange.tg_ddl__audit();
    CREATE EVENT TRIGGER exchange_ddl_audit_drop ON sql_drop
        EXECUTE FUNCTION exchange.tg_ddl__audit_drop();
    -- pgaudit: only where the server preloads it (CREATE EXTENSION fails otherwise).
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pgaudit')
       AND 'pgaudit' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) THEN
        CREATE EXTENSION IF NOT EXISTS pgaudit;
    END IF;
END
$$;

COMMIT;
