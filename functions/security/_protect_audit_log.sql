-- exchange._protect_audit_log() RETURNS void
-- Internal, called by the DDL event trigger (exchange.tg_ddl__audit) after every DDL command
-- on schema exchange, and by the audit_ddl migration: keeps the audit log append-only for
-- its owner too.
-- * Every partition of exchange.audit_logs gets the statement trigger
--   tg_audit_logs__no_truncate (BEFORE UPDATE OR DELETE OR TRUNCATE, refusing with EX340):
--   the parent's TRUNCATE trigger does not reach a partition truncated by name, and a
--   statement trigger is not cloned to new partitions. A partition made later (by
--   create_monthly_partitions or by hand: CREATE TABLE ... PARTITION OF, ATTACH PARTITION) gets
--   it from the same event trigger in the same transaction. It stays on a detached partition.
-- * Refuses (EX380) a command that removed or disabled a guard: the parent's row trigger
--   tg_audit_logs__append_only or statement trigger tg_audit_logs__no_truncate, or a
--   partition's trigger disabled (ALTER TABLE ... DISABLE TRIGGER). The whole DDL command is
--   rolled back. Superusers can still get past this (session_replication_role, dropping the
--   event trigger): see docs/security.md.
-- Access: internal (no grant): called by the DDL event triggers and the audit_ddl migration.
-- Raises: EX380. Locks: CREATE TRIGGER takes SHARE ROW EXCLUSIVE on a new partition.
CREATE OR REPLACE FUNCTION exchange._protect_audit_log()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_part record;
    v_bad  text;
BEGIN
    IF to_regclass('exchange.audit_logs') IS NULL THEN
        RETURN;  -- dropped: the sql_drop trigger has refused or recorded it
    END IF;
    SELECT string_agg(w.what, ', ') INTO v_bad
      FROM (SELECT format('%s on exchange.audit_logs is missing', t.tgname) AS what
              FROM unnest(ARRAY['tg_audit_logs__append_only', 'tg_audit_logs__no_truncate']) AS t(tgname)
             WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                                WHERE g.tgrelid = 'exchange.audit_logs'::regclass
                                  AND g.tgname = t.tgname)
            UNION ALL
            SELECT format('%s on %s is disabled', g.tgname, g.tgrelid::regclass)
              FROM pg_catalog.pg_trigger g
             WHERE g.tgenabled = 'D'
               AND g.tgname IN ('tg_audit_logs__append_only', 'tg_audit_logs__no_truncate')
               AND (g.tgrelid = 'exchange.audit_logs'::regclass
                    OR g.tgrelid IN (SELECT i.inhrelid FROM pg_catalog.pg_inherits i
                                      WHERE i.inhparent = 'exchange.audit_logs'::regclass))) AS w;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX380',
            MESSAGE = 'the audit log''s append-only guards may not be removed or disabled',
            DETAIL = v_bad,
            HINT = 'The audit log is append-only for every role but a superuser (docs/security.md).';
    END IF;

    FOR v_part IN
        SELECT n.nspname, c.relname
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE i.inhparent = 'exchange.audit_logs'::regclass
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger g
                            WHERE g.tgrelid = c.oid AND g.tgname = 'tg_audit_logs__no_truncate')
    LOOP
        EXECUTE format('CREATE TRIGGER tg_audit_logs__no_truncate '
                       'BEFORE UPDATE OR DELETE OR TRUNCATE ON %I.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_audit_logs__append_only()',
                       v_part.nspname, v_part.relname);
    END LOOP;
END;
$$;
COMMENT ON FUNCTION exchange._protect_audit_log() IS
    'Internal: gives every audit_logs partition its no-TRUNCATE/UPDATE/DELETE statement trigger and refuses (EX380) a DDL command that removed or disabled a guard.';
REVOKE ALL ON FUNCTION exchange._protect_audit_log() FROM PUBLIC;
