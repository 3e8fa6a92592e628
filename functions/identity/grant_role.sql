-- exchange.grant_role(p_user_id bigint, p_role text) RETURNS boolean
-- exchange.revoke_role(p_user_id bigint, p_role text) RETURNS boolean
-- Gives a role to a user, or takes it away; true when something changed, false when the
-- user already had (or did not have) the role. The acting user needs role:grant. The last
-- ACTIVE admin cannot lose the admin role; a CLOSED user gets no new role.
-- Raises: EX309 no such user; EX303 granting to a CLOSED user; EX323 no such role;
--         EX320/EX321 acting user missing or without role:grant; EX324 last active admin.
-- Locks: the admin role row when revoking admin; the user_roles row.
CREATE OR REPLACE FUNCTION exchange.grant_role(p_user_id bigint, p_role text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_actor   bigint := exchange._require_admin('role', 'grant');
    v_role_id integer;
    v_status  exchange.user_status;
    v_count   integer;
BEGIN
    SELECT id INTO v_role_id FROM exchange.roles WHERE name = p_role;
    IF v_role_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX323',
            MESSAGE = format('no role named %s', exchange._quote(p_role)),
            DETAIL = 'exchange.roles has no role with this name.',
            HINT = 'The roles are admin, trader, risk_officer, auditor and support.';
    END IF;
    SELECT status INTO v_status FROM exchange.users WHERE id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    IF v_status = 'CLOSED' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX303', MESSAGE = format('user %s is CLOSED', p_user_id),
            DETAIL = 'A CLOSED user is final and gets no roles.',
            HINT = 'Grant the role to an open account.';
    END IF;
    INSERT INTO exchange.user_roles (user_id, role_id, granted_by)
    VALUES (p_user_id, v_role_id, v_actor)
    ON CONFLICT (user_id, role_id) DO NOTHING;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count > 0;
END;
$$;
COMMENT ON FUNCTION exchange.grant_role(bigint, text) IS
    'Gives a role to a user (role:grant); true if newly granted. Raises EX303, EX309, EX320, EX321, EX323.';
REVOKE ALL ON FUNCTION exchange.grant_role(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.grant_role(bigint, text) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.revoke_role(p_user_id bigint, p_role text)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_role_id integer;
    v_count   integer;
BEGIN
    PERFORM exchange._require_admin('role', 'grant');
    SELECT id INTO v_role_id FROM exchange.roles WHERE name = p_role;
    IF v_role_id IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX323',
            MESSAGE = format('no role named %s', exchange._quote(p_role)),
            DETAIL = 'exchange.roles has no role with this name.',
            HINT = 'The roles are admin, trader, risk_officer, auditor and support.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM exchange.users WHERE id = p_user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    IF p_role = 'admin' THEN
        PERFORM exchange._guard_last_admin(p_user_id);
    END IF;
    DELETE FROM exchange.user_roles WHERE user_id = p_user_id AND role_id = v_role_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count > 0;
END;
$$;
COMMENT ON FUNCTION exchange.revoke_role(bigint, text) IS
    'Takes a role from a user (role:grant); true if it was held. Raises EX309, EX320, EX321, EX323, EX324.';
REVOKE ALL ON FUNCTION exchange.revoke_role(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.revoke_role(bigint, text) TO exchange_app;
