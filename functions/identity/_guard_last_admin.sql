-- exchange._guard_last_admin(p_user_id bigint) RETURNS void
-- Internal: refuses to take away the last ACTIVE admin (by revoking the role, suspending or
-- closing the user). Does nothing when p_user_id is not an active admin.
-- Raises: EX324 p_user_id is the only ACTIVE user holding the admin role.
-- Locks: the admin row of exchange.roles (FOR UPDATE), so that two concurrent calls removing
--        two different admins take turns and cannot remove both.
CREATE OR REPLACE FUNCTION exchange._guard_last_admin(p_user_id bigint)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_admin_role integer;
BEGIN
    SELECT id INTO v_admin_role FROM exchange.roles WHERE name = 'admin' FOR UPDATE;
    IF v_admin_role IS NULL OR NOT EXISTS (
            SELECT 1 FROM exchange.user_roles ur JOIN exchange.users u ON u.id = ur.user_id
             WHERE ur.user_id = p_user_id AND ur.role_id = v_admin_role AND u.status = 'ACTIVE') THEN
        RETURN;
    END IF;
    IF NOT EXISTS (
            SELECT 1 FROM exchange.user_roles ur JOIN exchange.users u ON u.id = ur.user_id
             WHERE ur.role_id = v_admin_role AND ur.user_id <> p_user_id AND u.status = 'ACTIVE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX324',
            MESSAGE = 'this is the last active admin',
            DETAIL = format('user %s', p_user_id),
            HINT = 'Grant the admin role to another active user first.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._guard_last_admin(bigint) IS
    'Internal: refuses (EX324) to remove the last ACTIVE admin; locks the admin role row.';
REVOKE ALL ON FUNCTION exchange._guard_last_admin(bigint) FROM PUBLIC;
