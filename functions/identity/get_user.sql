-- exchange.get_user(p_user_id bigint) RETURNS exchange.user_profiles
-- exchange.find_user(p_login text) RETURNS exchange.user_profiles
-- A user's profile (never the password hash), by id or by username/email
-- (case-insensitive).
-- Access: the user, or an acting user with user:read (exchange._authorize_for_user); a DBA
-- session without an acting user. find_user tells that a login does not exist only to those.
-- Raises: EX309 no such user; EX320, EX360, EX303, EX321, EX322 (access).
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_user(p_user_id bigint)
RETURNS exchange.user_profiles
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_result exchange.user_profiles;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'user', 'read');
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
        PERFORM exchange._authorize_for_user(NULL, 'user', 'read');
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
