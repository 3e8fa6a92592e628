-- exchange._check_notification_owner(p_user_id bigint) RETURNS void
-- Internal: a user's notifications, preferences and webhook are theirs: the session may act
-- for the user (exchange._authorize_for_user: the ACTIVE acting user themselves, or a DBA
-- session without an acting user), and the user must exist.
-- Raises: EX320, EX360, EX303, EX321, EX322 (access); EX001 (no such user). Locks: none.
CREATE OR REPLACE FUNCTION exchange._check_notification_owner(p_user_id bigint)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id);
    IF p_user_id IS NULL OR NOT EXISTS (SELECT 1 FROM exchange.users WHERE id = p_user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'no such user',
            DETAIL = format('user id %s', p_user_id),
            HINT = 'Name an existing user.';
    END IF;
END
$$;
COMMENT ON FUNCTION exchange._check_notification_owner(bigint) IS
    'Internal: the session may act for the user (exchange._authorize_for_user) and the user exists. Raises EX320, EX360, EX303, EX321, EX322, EX001.';
REVOKE ALL ON FUNCTION exchange._check_notification_owner(bigint) FROM PUBLIC;
