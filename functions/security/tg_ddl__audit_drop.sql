-- exchange.tg_ddl__audit_drop() RETURNS event_trigger
-- Event trigger exchange_ddl_audit_drop (sql_drop): writes every object of schema exchange
-- dropped by a command (the objects named, and those dropped with them by CASCADE; not the
-- internal ones such as a table's row type) to the audit log: table_name 'ddl', operation
-- DROP_<OBJECT TYPE> (DROP_TABLE, DROP_INDEX, DROP_FUNCTION, DROP_TABLE_COLUMN, ...),
-- entity_key the object, old_values {object_type, object_identity, original, statement}.
-- Dropping an audit_logs partition (retention) is recorded like any other drop. A drop whose
-- record cannot be written is refused (e.g. the audit partition of the current month, or the
-- audit log itself: the record would have nowhere to go), and so is a DROP TRIGGER of one of
-- the audit log's guards (exchange._protect_audit_log).
-- Access: event trigger function (no grant); runs as the role running the DDL.
-- Raises: EX380 (the audit log, or a guard), the insert's error (check violation) when the
-- record cannot be written.
-- Locks: none of its own.
CREATE OR REPLACE FUNCTION exchange.tg_ddl__audit_drop()
RETURNS event_trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_obj       record;
    v_touched   boolean := false;
    v_statement text := left(current_query(), 2000);
BEGIN
    FOR v_obj IN
        SELECT d.object_type, d.object_identity, d.original
          FROM pg_catalog.pg_event_trigger_dropped_objects() d
         WHERE (d.schema_name = 'exchange'
                OR (d.object_type = 'schema' AND d.object_identity = 'exchange'))
           AND (d.original OR d.normal)
    LOOP
        v_touched := true;
        IF to_regclass('exchange.audit_logs') IS NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX380',
                MESSAGE = 'the audit log may not be dropped',
                DETAIL = format('%s %s', v_obj.object_type, v_obj.object_identity),
                HINT = 'Old months are removed by dropping their partitions.';
        END IF;
        INSERT INTO exchange.audit_logs (db_role, app_user_id, table_name, operation, entity_key,
                                         old_values)
        VALUES (session_user, exchange._acting_user_id(), 'ddl',
                'DROP_' || upper(replace(v_obj.object_type, ' ', '_')), v_obj.object_identity,
                jsonb_build_object('object_type', v_obj.object_type,
                                   'object_identity', v_obj.object_identity,
                                   'original', v_obj.original, 'statement', v_statement));
    END LOOP;
    IF v_touched THEN
        PERFORM exchange._protect_audit_log();  -- DROP TRIGGER of a guard: EX380
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange.tg_ddl__audit_drop() IS
    'Event trigger (sql_drop): records every object of schema exchange dropped (audit partitions included) in the audit log; refuses a drop whose record cannot be written.';
REVOKE ALL ON FUNCTION exchange.tg_ddl__audit_drop() FROM PUBLIC;
