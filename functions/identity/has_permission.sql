-- exchange.has_permission(p_user_id bigint, p_resource text, p_action text) RETURNS boolean
-- Whether the user holds resource:action through one of their roles and is ACTIVE.
-- Access: a user asks about themselves; asking about another user needs role:read (the
-- rule of exchange._authorize_for_user; a DBA session without an acting user may ask).
-- Never raises for an unknown user or permission (false).
-- Raises: EX320, EX360, EX303, EX321, EX322 (access). Locks: none.
CREATE OR REPLACE FUNCTION exchange.has_permission(p_user_id bigint, p_resource text, p_action text)
RETURNS boolean
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'role', 'read');
    RETURN EXISTS (
        SELECT 1
          FROM exchange.users u
          JOIN exchange.user_roles ur ON ur.user_id = u.id
          JOIN exchange.role_permissions rp ON rp.role_id = ur.role_id
          JOIN exchange.permissions p ON p.id = rp.permission_id
         WHERE u.id = p_user_id AND u.status = 'ACTIVE'
           AND p.resource = p_resource AND p.action = p_action);
END;
$$;
COMMENT ON FUNCTION exchange.has_permission(bigint, text, text) IS
    'Whether an ACTIVE user holds resource:action through a role (self, or role:read). Raises EX320, EX360, EX303, EX321, EX322 (access) only.';
REVOKE ALL ON FUNCTION exchange.has_permission(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.has_permission(bigint, text, text) TO exchange_app;
