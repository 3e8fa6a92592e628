-- exchange._require_admin(p_resource text, p_action text, p_duty_role text DEFAULT NULL)
--   RETURNS bigint
-- Internal: the one guard of administrative functions (docs/security.md, "one rule for
-- every administrative function"). With an acting user (exchange.acting_user_id) it is
-- exchange._require_permission(p_resource, p_action) and returns that user's id. Without
-- one, the session's login must be a member of exchange_owner (a DBA in psql, or the
-- migrations), or of p_duty_role when given (e.g. exchange_custody for the deposit watcher
-- and the withdrawal processor), and it returns NULL; the application role alone never
-- passes that way.
-- Raises: what exchange._require_permission raises (EX320 for a session that is neither).
-- Locks: none (plain reads).
CREATE OR REPLACE FUNCTION exchange._require_admin(
    p_resource text, p_action text, p_duty_role text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF exchange._acting_user_id() IS NULL
       AND (pg_has_role(session_user, 'exchange_owner', 'MEMBER')
            OR (p_duty_role IS NOT NULL AND pg_has_role(session_user, p_duty_role, 'MEMBER'))) THEN
        RETURN NULL;
    END IF;
    RETURN exchange._require_permission(p_resource, p_action);
END;
$$;
COMMENT ON FUNCTION exchange._require_admin(text, text, text) IS
    'Internal: the acting user''s permission check, or (no acting user) membership of exchange_owner (or of p_duty_role) for a DBA or service session. Raises EX320, EX321, EX303.';
REVOKE ALL ON FUNCTION exchange._require_admin(text, text, text) FROM PUBLIC;
