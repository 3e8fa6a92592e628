-- exchange.change_password(p_user_id bigint, p_current_password text, p_new_password text)
--   RETURNS void
-- Replaces a user's password after checking the current one. The new password is hashed
-- with bcrypt.
-- Access: the user themselves only (exchange._authorize_for_user), or a DBA session.
-- Raises: EX301 wrong current password (or no such user); EX306 weak new password;
--         EX320, EX360, EX303, EX321, EX322 (access).
-- Locks: the user row.
CREATE OR REPLACE FUNCTION exchange.change_password(
    p_user_id bigint, p_current_password text, p_new_password text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_hash   text;
    v_name   text;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id);
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
