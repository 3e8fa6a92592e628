-- exchange._check_password_length(p_password text) RETURNS void
-- Internal: refuses a password longer than 72 bytes (bcrypt reads only the first 72, so a
-- longer one would be silently truncated). One check for both doors: _hash_password (every
-- new password: registration, change, bootstrap) and authenticate (every login), so a login
-- is refused exactly as registration is, with the same code, before any user is looked up.
-- Access: internal (no grant): called by _hash_password and authenticate.
-- Raises: EX306 (over 72 bytes). Locks: none.
CREATE OR REPLACE FUNCTION exchange._check_password_length(p_password text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
AS $$
BEGIN
    IF octet_length(p_password) > 72 THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX306',
            MESSAGE = 'the password does not meet the password policy',
            DETAIL = 'at most 72 bytes',
            HINT = 'bcrypt reads 72 bytes: choose a password of at most 72 bytes.';
    END IF;
END;
$$;
COMMENT ON FUNCTION exchange._check_password_length(text) IS
    'Internal: refuses a password over 72 bytes (EX306), for registration and login alike.';
REVOKE ALL ON FUNCTION exchange._check_password_length(text) FROM PUBLIC;
