-- exchange.register_user(p_username text, p_email text, p_password text,
--     p_first_name text DEFAULT NULL, p_last_name text DEFAULT NULL, p_phone text DEFAULT NULL)
--   RETURNS exchange.user_profiles
-- Registers a user: status PENDING until exchange.activate_user, KYC level 0, role trader.
-- The username (3 to 50 of letters, digits, _ . -, starting with a letter or digit) and the
-- email are unique case-insensitively. The password is hashed here with bcrypt (pgcrypto);
-- the result carries no hash.
-- Raises: EX304 invalid username; EX305 invalid email; EX306 weak password; EX307 username
--         taken; EX308 email taken; EX312 invalid profile field.
-- Emits: user_registered (exchange._emit_event; payloads in docs/events.md).
-- Locks: none beyond the unique indexes of the new row.
CREATE OR REPLACE FUNCTION exchange.register_user(
    p_username text, p_email text, p_password text,
    p_first_name text DEFAULT NULL, p_last_name text DEFAULT NULL, p_phone text DEFAULT NULL)
RETURNS exchange.user_profiles
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_id         bigint;
    v_constraint text;
    v_result     exchange.user_profiles;
BEGIN
    IF p_username IS NULL OR p_username !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{2,49}$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX304',
            MESSAGE = 'invalid username',
            DETAIL = format('username of %s characters', length(p_username)),
            HINT = 'A username is 3 to 50 letters, digits, _ . or -, starting with a letter or digit.';
    END IF;
    IF p_email IS NULL OR char_length(p_email) > 100
       OR p_email !~ '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX305',
            MESSAGE = 'invalid email address',
            DETAIL = format('email of %s characters', length(p_email)),
            HINT = 'An email is local@domain.tld, at most 100 characters.';
    END IF;
    PERFORM exchange._validate_profile(p_first_name, p_last_name, p_phone);

    BEGIN
        INSERT INTO exchange.users (username, email, password_hash, first_name, last_name, phone)
        VALUES (p_username, p_email, exchange._hash_password(p_password, p_username),
                p_first_name, p_last_name, p_phone)
        RETURNING id INTO v_id;
    EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
        IF v_constraint IN ('users_email_lower_key') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'EX308',
                MESSAGE = 'this email is already registered',
                DETAIL = 'Emails are unique, compared case-insensitively.',
                HINT = 'Log in, or use another email.';
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'EX307',
            MESSAGE = 'this username is taken',
            DETAIL = 'Usernames are unique, compared case-insensitively.',
            HINT = 'Choose another username.';
    END;

    INSERT INTO exchange.user_roles (user_id, role_id)
    SELECT v_id, r.id FROM exchange.roles r WHERE r.name = 'trader';
    PERFORM exchange._emit_event('user', v_id::text, 'user_registered',
        jsonb_build_object('user_id', v_id, 'username', p_username, 'email', p_email));

    SELECT * INTO v_result FROM exchange.user_profiles WHERE id = v_id;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange.register_user(text, text, text, text, text, text) IS
    'Registers a PENDING user (KYC level 0, role trader) with a bcrypt-hashed password; returns the profile without the hash. Raises EX304, EX305, EX306, EX307, EX308, EX312.';
REVOKE ALL ON FUNCTION exchange.register_user(text, text, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.register_user(text, text, text, text, text, text) TO exchange_app;
