-- exchange._check_notification_owner(p_user_id bigint) RETURNS void
-- Internal: a user's notifications, preferences and webhook are theirs: the user must exist,
-- and when an acting user is set (exchange.acting_user_id) it must be that user.
-- Raises: EX001 (no such user), EX506 (the acting user is another user). Locks: none.
CREATE OR REPLACE FUNCTION exchange._check_notification_owner(p_user_id bigint)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_acting bigint := exchange._acting_user_id();
BEGIN
    IF p_user_id IS NULL OR NOT EXISTS (SELECT 1 FROM exchange.users WHERE id = p_user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'no such user',
            DETAIL = format('user id %s', p_user_id),
            HINT = 'Name an existing user.';
    END IF;
    IF v_acting IS NOT NULL AND v_acting <> p_user_id THEN
        RAISE EXCEPTION USING ERRCODE = 'EX506',
            MESSAGE = 'not your notifications',
            DETAIL = format('acting user %s, notifications of user %s', v_acting, p_user_id),
            HINT = 'A user reads and configures only their own notifications.';
    END IF;
END
$$;
COMMENT ON FUNCTION exchange._check_notification_owner(bigint) IS
    'Internal: the user exists and is the acting user (when one is set). Raises EX001, EX506.';
REVOKE ALL ON FUNCTION exchange._check_notification_owner(bigint) FROM PUBLIC;
