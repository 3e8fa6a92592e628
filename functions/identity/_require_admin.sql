-- exchange._require_admin(p_resource text, p_action text) RETURNS bigint
-- Internal: the guard of administrative functions that a DBA may also call in psql. With an
-- acting user (exchange.acting_user_id) it is exchange._require_permission(p_resource,
-- p_action) and returns that user's id. Without one, the session's login must be a member of
-- exchange_owner (a DBA, or the migrations), and it returns NULL; the application role alone
-- never passes that way (docs/security.md, "the DBA path").
-- Raises: what exchange._require_permission raises (EX320 for a session that is neither).
-- Locks: none (plain reads).
CREATE OR REPLACE FUNCTION exchange._require_admin(p_resource text, p_action text)
RETURNS bigint
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF exchange._acting_user_id() IS NULL
       AND pg_has_role(session_user, 'exchange_owner', 'MEMBER') THEN
        RETURN NULL;
    END IF;
    RETURN exchange._require_permission(p_resource, p_action);
END;
$$;
COMMENT ON FUNCTION exchange._require_admin(text, text) IS
    'Internal: the acting user''s permission check, or (no acting user) membership of exchange_owner for a DBA session. Raises EX320, EX321, EX303.';
REVOKE ALL ON FUNCTION exchange._require_admin(text, text) FROM PUBLIC;
