-- exchange._hash_password(p_password text, p_username text DEFAULT NULL) RETURNS text
-- Internal: checks a new password against the policy and returns its bcrypt hash, made by
-- pgcrypto (exchange_crypto.crypt with gen_salt('bf', auth_settings.bcrypt_cost)). The
-- plaintext never leaves this call: it is not stored, logged or returned.
-- Policy: at least auth_settings.min_password_length characters, at most 72 bytes (bcrypt
-- ignores the rest: exchange._check_password_length, which authenticate calls too), not the
-- username.
-- Raises: EX306 weak or invalid password.
-- Locks: none.
CREATE OR REPLACE FUNCTION exchange._hash_password(p_password text, p_username text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_cost integer;
    v_min  integer;
BEGIN
    PERFORM exchange._check_password_length(p_password);
    SELECT bcrypt_cost, min_password_length INTO v_cost, v_min FROM exchange.auth_settings;
    IF p_password IS NULL OR char_length(p_password) < v_min
       OR lower(p_password) = lower(coalesce(p_username, '')) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX306',
            MESSAGE = 'the password does not meet the password policy',
            DETAIL = format('at least %s characters, at most 72 bytes, not the username', v_min),
            HINT = 'Choose a longer password that is not the username.';
    END IF;
    RETURN exchange_crypto.crypt(p_password, exchange_crypto.gen_salt('bf', v_cost));
END;
$$;
COMMENT ON FUNCTION exchange._hash_password(text, text) IS
    'Internal: validates a new password against the policy and returns its bcrypt hash (pgcrypto, cost from auth_settings). Raises EX306.';
REVOKE ALL ON FUNCTION exchange._hash_password(text, text) FROM PUBLIC;
