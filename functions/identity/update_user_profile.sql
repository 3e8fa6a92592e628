-- exchange.update_user_profile(p_user_id bigint, p_expected_version integer,
--     p_first_name text DEFAULT NULL, p_last_name text DEFAULT NULL, p_phone text DEFAULT NULL,
--     p_email text DEFAULT NULL) RETURNS exchange.user_profiles
-- Changes profile fields under optimistic concurrency: the caller passes the version it read;
-- a concurrent change has bumped it and the call is refused. NULL leaves a field as it is;
-- '' clears an optional field (names, phone). A new email is validated and must be unique.
-- Access: the user, or an acting user with user:update (exchange._authorize_for_user).
-- Raises: EX309 no such user; EX311 stale version; EX305 invalid email; EX308 email taken;
--         EX312 invalid field; EX320, EX360, EX303, EX321, EX322 (access).
-- Locks: the user row.
CREATE OR REPLACE FUNCTION exchange.update_user_profile(
    p_user_id bigint, p_expected_version integer,
    p_first_name text DEFAULT NULL, p_last_name text DEFAULT NULL, p_phone text DEFAULT NULL,
    p_email text DEFAULT NULL)
RETURNS exchange.user_profiles
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_version integer;
    v_result  exchange.user_profiles;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'user', 'update');
    PERFORM exchange._validate_profile(nullif(p_first_name, ''), nullif(p_last_name, ''),
                                       nullif(p_phone, ''));
    IF p_email IS NOT NULL AND (char_length(p_email) > 100
       OR p_email !~ '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX305', MESSAGE = 'invalid email address',
            DETAIL = format('email of %s characters', length(p_email)),
            HINT = 'An email is local@domain.tld, at most 100 characters.';
    END IF;

    SELECT version INTO v_version FROM exchange.users WHERE id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309', MESSAGE = format('user %s does not exist', p_user_id),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    IF p_expected_version IS DISTINCT FROM v_version THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX311',
            MESSAGE = 'the profile was changed since it was read',
            DETAIL = format('user %s: expected version %s, current version %s',
                            p_user_id, p_expected_version, v_version),
            HINT = 'Read the profile again and reapply the change.';
    END IF;
    IF p_email IS NOT NULL AND EXISTS (
            SELECT 1 FROM exchange.users WHERE lower(email) = lower(p_email) AND id <> p_user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX308', MESSAGE = 'this email is already registered',
            DETAIL = 'Emails are unique, compared case-insensitively.',
            HINT = 'Use another email.';
    END IF;

    UPDATE exchange.users
       SET first_name = CASE WHEN p_first_name IS NULL THEN first_name ELSE nullif(p_first_name, '') END,
           last_name  = CASE WHEN p_last_name IS NULL THEN last_name ELSE nullif(p_last_name, '') END,
           phone      = CASE WHEN p_phone IS NULL THEN phone ELSE nullif(p_phone, '') END,
           email      = coalesce(p_email, email),
           version    = version + 1
     WHERE id = p_user_id;
    SELECT * INTO v_result FROM exchange.user_profiles WHERE id = p_user_id;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.update_user_profile(bigint, integer, text, text, text, text) IS
    'Changes profile fields if p_expected_version is current (optimistic locking); self or user:update. Raises EX305, EX308, EX309, EX311, EX312, EX321.';
REVOKE ALL ON FUNCTION exchange.update_user_profile(bigint, integer, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.update_user_profile(bigint, integer, text, text, text, text) TO exchange_app;
