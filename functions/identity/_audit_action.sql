-- exchange._audit_action(p_operation text, p_entity text, p_entity_key text,
--                        p_details jsonb DEFAULT NULL) RETURNS void
-- Internal: records an administrative action that is not itself a row change of an audited
-- table (e.g. a withdrawal completed, a login lockout) in exchange.audit_logs, with the
-- database login role and the acting application user. p_operation is an upper-case verb
-- ('COMPLETE_WITHDRAWAL'); p_entity the table or concept ('withdrawals'); p_entity_key its
-- key as text. Callers must not pass secrets in p_details.
-- Raises: EX002-style partition errors if the month has no partition.
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange._audit_action(
    p_operation text, p_entity text, p_entity_key text, p_details jsonb DEFAULT NULL)
RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO exchange.audit_logs (db_role, app_user_id, table_name, operation, entity_key,
                                     new_values)
    VALUES (session_user, exchange._acting_user_id(), p_entity, upper(p_operation),
            p_entity_key, p_details);
$$;
COMMENT ON FUNCTION exchange._audit_action(text, text, text, jsonb) IS
    'Internal: appends an administrative action (operation, entity, key, details) to the audit log with the login role and acting user.';
REVOKE ALL ON FUNCTION exchange._audit_action(text, text, text, jsonb) FROM PUBLIC;
