-- exchange._notify_users_of_event(p_event_id bigint, p_event_type text, p_payload jsonb)
-- RETURNS integer
-- Internal (called by exchange._emit_event, in the event's transaction): creates one
-- notification per user concerned and per channel that has an active template for the event
-- type, unless the user turned that channel off for the event type
-- (exchange.notification_preferences; no row means on), and WEBHOOK only for users with an
-- active webhook endpoint (exchange.webhook_endpoints). The users concerned are the values of
-- the event type's recipient_keys in the payload (exchange.event_types). The template's
-- locale is the payload's "locale" when a template exists for it, else 'en', else any.
-- IN_APP notifications are delivered by being stored (status SENT); EMAIL and WEBHOOK ones
-- are PENDING until the notification worker delivers them.
-- Returns the number of notifications created.
-- Raises: nothing of its own. Locks: none.
CREATE OR REPLACE FUNCTION exchange._notify_users_of_event(
    p_event_id bigint,
    p_event_type text,
    p_payload jsonb
)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_count integer;
BEGIN
    WITH recipients AS (
        SELECT DISTINCT (p_payload ->> k)::bigint AS user_id
          FROM exchange.event_types et, unnest(et.recipient_keys) AS k
         WHERE et.event_type = p_event_type
           AND jsonb_typeof(p_payload -> k) IN ('number', 'string')
           AND (p_payload ->> k) ~ '^[0-9]+$'
    ), templates AS (
        SELECT DISTINCT ON (t.channel) t.id, t.channel, t.subject, t.body
          FROM exchange.notification_templates t
         WHERE t.event_type = p_event_type AND t.is_active
         ORDER BY t.channel, (t.locale = coalesce(p_payload ->> 'locale', 'en')) DESC,
                  (t.locale = 'en') DESC, t.id
    ), ins AS (
        INSERT INTO exchange.notifications (user_id, template_id, event_id, channel, subject,
                                            body, status, sent_at)
        SELECT r.user_id, t.id, p_event_id, t.channel,
               exchange._render_template(t.subject, p_payload),
               exchange._render_template(t.body, p_payload),
               CASE WHEN t.channel = 'IN_APP' THEN 'SENT' ELSE 'PENDING' END::exchange.notification_status,
               CASE WHEN t.channel = 'IN_APP' THEN now() END
          FROM recipients r
          JOIN exchange.users u ON u.id = r.user_id
          CROSS JOIN templates t
         WHERE (t.channel <> 'WEBHOOK'
                OR EXISTS (SELECT 1 FROM exchange.webhook_endpoints w
                            WHERE w.user_id = r.user_id AND w.is_active))
           AND NOT EXISTS (SELECT 1 FROM exchange.notification_preferences np
                            WHERE np.user_id = r.user_id AND np.event_type = p_event_type
                              AND np.channel = t.channel AND NOT np.enabled)
        RETURNING 1
    )
    SELECT count(*) INTO v_count FROM ins;
    IF v_count > 0 AND EXISTS (SELECT 1 FROM exchange.event_listeners l
                                WHERE l.channel = 'exchange_notifications') THEN
        PERFORM pg_notify('exchange_notifications', '');  -- a worker sleeps: wake it
    END IF;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION exchange._notify_users_of_event(bigint, text, jsonb) IS
    'Internal: creates the notifications of one event for the users it concerns, honoring their channel preferences.';
REVOKE ALL ON FUNCTION exchange._notify_users_of_event(bigint, text, jsonb) FROM PUBLIC;
