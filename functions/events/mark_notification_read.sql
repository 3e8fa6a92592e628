-- exchange.mark_notification_read(p_user_id bigint, p_notification_id bigint DEFAULT NULL)
-- RETURNS integer
-- Marks one of the user's IN_APP notifications read (or all unread ones when
-- p_notification_id is NULL). Marking a read one again changes nothing. Returns the number
-- newly marked.
-- Raises: EX505 (no such notification of this user), EX001 (no such user), EX322 (the
-- acting user is another user). Locks: the rows updated.
CREATE OR REPLACE FUNCTION exchange.mark_notification_read(
    p_user_id bigint,
    p_notification_id bigint DEFAULT NULL
)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    PERFORM exchange._check_notification_owner(p_user_id);
    IF p_notification_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM exchange.notifications n
             WHERE n.id = p_notification_id AND n.user_id = p_user_id AND n.channel = 'IN_APP') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX505', MESSAGE = 'no such notification',
            DETAIL = format('notification %s of user %s', p_notification_id, p_user_id),
            HINT = 'exchange.list_notifications gives the user''s notification ids.';
    END IF;
    UPDATE exchange.notifications n SET read_at = now()
     WHERE n.user_id = p_user_id AND n.channel = 'IN_APP' AND n.read_at IS NULL
       AND (p_notification_id IS NULL OR n.id = p_notification_id);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION exchange.mark_notification_read(bigint, bigint) IS
    'Marks a user''s in-app notification (or all) read. Raises EX001, EX505, EX322.';
REVOKE ALL ON FUNCTION exchange.mark_notification_read(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.mark_notification_read(bigint, bigint) TO exchange_app;
