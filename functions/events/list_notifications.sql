-- exchange.list_notifications(p_user_id bigint, p_unread_only boolean DEFAULT false,
--     p_limit integer DEFAULT 100)
-- RETURNS TABLE (id, event_id, event_type, subject, body, created_at, read_at)
-- The user's IN_APP notifications, newest first (unread ones only when asked).
-- Raises: EX001 (no such user, p_limit not in 1..1000), EX322 (the acting user is another
-- user). Locks: none.
CREATE OR REPLACE FUNCTION exchange.list_notifications(
    p_user_id bigint,
    p_unread_only boolean DEFAULT false,
    p_limit integer DEFAULT 100
)
RETURNS TABLE (id bigint, event_id bigint, event_type text, subject text, body text,
               created_at timestamptz, read_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._check_notification_owner(p_user_id);
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid limit',
            DETAIL = format('p_limit = %s', p_limit), HINT = 'Between 1 and 1000.';
    END IF;
    RETURN QUERY
    SELECT n.id, n.event_id, t.event_type::text, n.subject, n.body, n.created_at, n.read_at
      FROM exchange.notifications n
      LEFT JOIN exchange.notification_templates t ON t.id = n.template_id
     WHERE n.user_id = p_user_id AND n.channel = 'IN_APP'
       AND (NOT coalesce(p_unread_only, false) OR n.read_at IS NULL)
     ORDER BY n.created_at DESC, n.id DESC
     LIMIT p_limit;
END
$$;
COMMENT ON FUNCTION exchange.list_notifications(bigint, boolean, integer) IS
    'A user''s in-app notifications, newest first. Raises EX001, EX322.';
REVOKE ALL ON FUNCTION exchange.list_notifications(bigint, boolean, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.list_notifications(bigint, boolean, integer) TO exchange_app;
