-- exchange.claim_notifications(p_limit integer DEFAULT 50)
-- RETURNS TABLE (id, created_at, user_id, channel, event_id, subject, body, attempts, email,
--                webhook_url, webhook_secret)
-- For the notification worker: claims up to p_limit due PENDING EMAIL and WEBHOOK
-- notifications, oldest first, with what delivery needs (the user's email, the webhook URL
-- and secret). The locks (FOR UPDATE SKIP LOCKED: several workers share the work) last until
-- the caller's transaction ends; the worker delivers, records the outcomes
-- (exchange.mark_notifications_sent / exchange.record_notification_failure) and commits.
-- Raises: EX001 (p_limit not in 1..1000). Locks: the returned notifications.
-- Access: exchange_worker (the notification worker) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.claim_notifications(p_limit integer DEFAULT 50)
RETURNS TABLE (id bigint, created_at timestamptz, user_id bigint,
               channel exchange.notification_channel, event_id bigint, subject text,
               body text, attempts integer, email text, webhook_url text, webhook_secret text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid batch size',
            DETAIL = format('p_limit = %s', p_limit), HINT = 'Between 1 and 1000.';
    END IF;
    RETURN QUERY
    SELECT n.id, n.created_at, n.user_id, n.channel, n.event_id, n.subject, n.body, n.attempts,
           u.email::text, w.url, w.secret
      FROM exchange.notifications n
      JOIN exchange.users u ON u.id = n.user_id
      LEFT JOIN exchange.webhook_endpoints w ON w.user_id = n.user_id AND w.is_active
     WHERE n.status = 'PENDING' AND n.channel IN ('EMAIL', 'WEBHOOK')
       AND n.next_attempt_at <= now()
     ORDER BY n.id
     LIMIT p_limit
       FOR UPDATE OF n SKIP LOCKED;
END
$$;
COMMENT ON FUNCTION exchange.claim_notifications(integer) IS
    'Notification worker: claims due pending EMAIL/WEBHOOK notifications (SKIP LOCKED) for the caller''s transaction. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.claim_notifications(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.claim_notifications(integer) TO exchange_worker;
