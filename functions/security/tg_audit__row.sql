-- exchange.tg_audit__row(): AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW trigger that writes
-- one exchange.audit_logs row per change: the table, the operation, the key (the values of
-- the columns named as trigger arguments, joined with ':'), the old and new rows as JSONB
-- without password_hash (a changed hash shows as "password_changed": true), the login role
-- (session_user) and the acting application user (exchange.acting_user_id). An UPDATE that
-- changes nothing but updated_at is not logged.
-- Raises: EX320 malformed acting user setting. Locks: none of its own.
CREATE OR REPLACE FUNCTION exchange.tg_audit__row()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_old jsonb;
    v_new jsonb;
    v_row jsonb;
    v_key text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        v_old := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        v_new := to_jsonb(NEW);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF (v_old - 'updated_at') = (v_new - 'updated_at') THEN
            RETURN NULL;
        END IF;
        IF (v_old ->> 'password_hash') IS DISTINCT FROM (v_new ->> 'password_hash') THEN
            v_new := v_new || '{"password_changed": true}'::jsonb;
        END IF;
    END IF;
    v_old := v_old - 'password_hash';
    v_new := v_new - 'password_hash';
    v_row := coalesce(v_new, v_old);
    SELECT string_agg(v_row ->> a.col, ':' ORDER BY a.ord) INTO v_key
      FROM unnest(TG_ARGV) WITH ORDINALITY AS a(col, ord);
    INSERT INTO exchange.audit_logs (db_role, app_user_id, table_name, operation, entity_key,
                                     old_values, new_values)
    VALUES (session_user, exchange._acting_user_id(), TG_TABLE_NAME, TG_OP, v_key, v_old, v_new);
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION exchange.tg_audit__row() IS
    'AFTER row trigger: appends the change (key from the trigger arguments, old/new JSONB without password_hash, login role, acting user) to audit_logs.';
REVOKE ALL ON FUNCTION exchange.tg_audit__row() FROM PUBLIC;
