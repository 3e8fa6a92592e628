-- exchange.set_notification_preference(p_user_id bigint, p_event_type text,
--     p_channel exchange.notification_channel, p_enabled boolean) RETURNS void
-- Turns one channel on or off for one user and event type (no row means on).
-- Raises: EX503 (unknown event type), EX322 (the acting user is another user), EX001 (no
-- such user, NULL arguments). Locks: the preference row.
CREATE OR REPLACE FUNCTION exchange.set_notification_preference(
    p_user_id bigint,
    p_event_type text,
    p_channel exchange.notification_channel,
    p_enabled boolean
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._check_notification_owner(p_user_id);
    IF p_channel IS NULL OR p_enabled IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'channel and enabled are required',
            DETAIL = format('channel %s, enabled %s', p_channel, p_enabled),
            HINT = 'Channels: EMAIL, WEBHOOK, IN_APP.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM exchange.event_types WHERE event_type = p_event_type) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX503', MESSAGE = format('unknown event type %s', exchange._quote(p_event_type)),
            DETAIL = 'exchange.event_types has no such event type.',
            HINT = 'See docs/events.md for the event types.';
    END IF;
    INSERT INTO exchange.notification_preferences (user_id, event_type, channel, enabled)
    VALUES (p_user_id, p_event_type, p_channel, p_enabled)
    ON CONFLICT ON CONSTRAINT notification_preferences_pkey DO UPDATE SET enabled = EXCLUDED.enabled;
END
$$;
COMMENT ON FUNCTION exchange.set_notification_preference(bigint, text, exchange.notification_channel, boolean) IS
    'Turns a notification channel on or off for a user and event type. Raises EX001, EX503, EX322.';
REVOKE ALL ON FUNCTION exchange.set_notification_preference(bigint, text, exchange.notification_channel, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.set_notification_preference(bigint, text, exchange.notification_channel, boolean) TO exchange_app;
