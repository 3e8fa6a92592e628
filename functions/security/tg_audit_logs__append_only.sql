-- exchange.tg_audit_logs__append_only(): BEFORE UPDATE OR DELETE (row) and BEFORE TRUNCATE
-- (statement) trigger on exchange.audit_logs and its partitions: the log is append-only, for
-- every role including the owner. Retention drops whole partitions (DROP/DETACH), which
-- fires no trigger.
-- Raises: EX340 always. Locks: none.
CREATE OR REPLACE FUNCTION exchange.tg_audit_logs__append_only()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'EX340',
        MESSAGE = format('the audit log is append-only: %s refused', TG_OP),
        DETAIL = format('table %s', TG_TABLE_NAME),
        HINT = 'Old months are removed by dropping whole partitions.';
END;
$$;
COMMENT ON FUNCTION exchange.tg_audit_logs__append_only() IS
    'BEFORE UPDATE/DELETE/TRUNCATE on audit_logs: refuses (EX340); the log is append-only.';
REVOKE ALL ON FUNCTION exchange.tg_audit_logs__append_only() FROM PUBLIC;
