-- exchange.change_password(p_user_id bigint, p_current_password text, p_new_password text)
--   RETURNS void
-- Replaces a user's password after checking the current one; only the user themselves (no
-- acting user, or the acting user is p_user_id). The new password is hashed with bcrypt.
-- Raises: EX301 wrong current password (or no such user); EX306 weak new password;
--         EX322 the acting user is another user.
-- Locks: the user row.
CREATE OR REPLACE FUNCTION exchange.change_password(
    p_user_id bigint, p_current_password text, p_new_password text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_acting bigint := exchange._acting_user_id();
    v_hash   text;
    v_name   text;
BEGIN
    IF v_acting IS NOT NULL AND v_acting <> p_user_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'EX322',
            MESSAGE = 'only the user may change their password',
            DETAIL = 'The acting user is not the user whose password is changed.',
            HINT = 'An application user may act only as themselves.';
    END IF;
    SELECT password_hash, username INTO v_hash, v_name
      FROM exchange.users WHERE id = p_user_id FOR UPDATE;
    IF v_hash IS NULL OR p_current_password IS NULL OR v_hash NOT LIKE '$2_$%'
       OR exchange_crypto.crypt(p_current_password, v_hash) <> v_hash THEN
        RAISE EXCEPTION USING ERRCODE = 'EX301', MESSAGE = 'invalid login or password',
            DETAIL = 'The current password does not match.',
            HINT = 'Pass the current password; forgotten passwords are reset by an admin.';
    END IF;
    UPDATE exchange.users
       SET password_hash = exchange._hash_password(p_new_password, v_name), version = version + 1
     WHERE id = p_user_id;
END;
$$;
COMMENT ON FUNCTION exchange.change_password(bigint, text, text) IS
    'Replaces the password after checking the current one (self only). Raises EX301, EX306, EX322.';
REVOKE ALL ON FUNCTION exchange.change_password(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.change_password(bigint, text, text) TO exchange_app;
