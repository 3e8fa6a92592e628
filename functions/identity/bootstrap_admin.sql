-- exchange.bootstrap_admin(p_username text, p_email text, p_password text)
--   RETURNS exchange.user_profiles
-- Makes the first administrator of a freshly migrated database: registers the user, makes
-- them ACTIVE and gives them the admin role. Not granted to exchange_app: only the
-- database owner (exchange_owner and its members) and superusers may call it. Refused once
-- an ACTIVE admin exists; from then on admins grant roles with exchange.grant_role.
-- CLI: pyexchange user create-admin.
-- Raises: EX325 an active admin exists; the errors of register_user.
-- Locks: the admin row of exchange.roles (concurrent bootstraps take turns).
CREATE OR REPLACE FUNCTION exchange.bootstrap_admin(p_username text, p_email text, p_password text)
RETURNS exchange.user_profiles
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_role_id integer;
    v_user    exchange.user_profiles;
BEGIN
    SELECT id INTO v_role_id FROM exchange.roles WHERE name = 'admin' FOR UPDATE;
    IF EXISTS (SELECT 1 FROM exchange.user_roles ur JOIN exchange.users u ON u.id = ur.user_id
                WHERE ur.role_id = v_role_id AND u.status = 'ACTIVE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX325',
            MESSAGE = 'an active admin already exists',
            DETAIL = 'bootstrap_admin creates the first admin only.',
            HINT = 'Ask an admin to grant the role (exchange.grant_role).';
    END IF;
    v_user := exchange.register_user(p_username, p_email, p_password);
    UPDATE exchange.users SET status = 'ACTIVE', version = version + 1 WHERE id = v_user.id;
    INSERT INTO exchange.user_roles (user_id, role_id) VALUES (v_user.id, v_role_id);
    SELECT * INTO v_user FROM exchange.user_profiles WHERE id = v_user.id;
    RETURN v_user;
END;
$$;
COMMENT ON FUNCTION exchange.bootstrap_admin(text, text, text) IS
    'Owner/superuser only: creates the first ACTIVE admin of a fresh database. Raises EX325 once an active admin exists.';
REVOKE ALL ON FUNCTION exchange.bootstrap_admin(text, text, text) FROM PUBLIC;
