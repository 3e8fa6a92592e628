-- exchange.get_user(p_user_id bigint) RETURNS exchange.user_profiles
-- exchange.find_user(p_login text) RETURNS exchange.user_profiles
-- A user's profile (never the password hash), by id or by username/email
-- (case-insensitive). The acting user is the user themselves or holds user:read; with no
-- acting user the application is trusted (it authenticated the caller).
-- Raises: EX309 no such user; EX321 not allowed.
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_user(p_user_id bigint)
RETURNS exchange.user_profiles
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_acting bigint := exchange._acting_user_id();
    v_result exchange.user_profiles;
BEGIN
    IF v_acting IS NOT NULL AND v_acting <> p_user_id THEN
        PERFORM exchange._require_permission(v_acting, 'user', 'read');
    END IF;
    SELECT * INTO v_result FROM exchange.user_profiles WHERE id = p_user_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.get_user(bigint) IS
    'A user''s profile without the password hash (self or user:read). Raises EX309, EX321.';
REVOKE ALL ON FUNCTION exchange.get_user(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_user(bigint) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.find_user(p_login text)
RETURNS exchange.user_profiles
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    SELECT id INTO v_id FROM exchange.users
     WHERE lower(username) = lower(btrim(p_login)) OR lower(email) = lower(btrim(p_login))
     LIMIT 1;
    IF v_id IS NULL THEN
        -- Only a reader of other users learns that a login does not exist.
        IF exchange._acting_user_id() IS NOT NULL THEN
            PERFORM exchange._require_permission('user', 'read');
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = 'no such user',
            DETAIL = 'No user has this login.',
            HINT = 'Check the username or email.';
    END IF;
    RETURN exchange.get_user(v_id);
END;
$$;
COMMENT ON FUNCTION exchange.find_user(text) IS
    'A user''s profile by username or email, case-insensitive (self or user:read). Raises EX309, EX321.';
REVOKE ALL ON FUNCTION exchange.find_user(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.find_user(text) TO exchange_app;
