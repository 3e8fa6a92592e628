-- exchange.create_notification_template(p_event_type text, p_channel exchange.notification_channel,
--     p_locale text, p_subject text, p_body text) RETURNS integer
-- Creates (or replaces, for the same event type, channel and locale) a notification template
-- and makes it active. Subject and body may use {{key}} placeholders, keys of the event
-- type's payload (docs/events.md); they are filled when the event happens. Returns its id.
-- Access: notification:manage (admin), or a DBA session (exchange._require_admin): the
-- templates are global, what every user receives.
-- Raises: EX320, EX321, EX303 (access), EX503 (unknown event type), EX504 (a placeholder is
-- not in the payload), EX001 (empty subject or body, malformed locale, subject over 200 or
-- body over 10000 characters, a blank subject). Locks: the template row.
CREATE OR REPLACE FUNCTION exchange.create_notification_template(
    p_event_type text,
    p_channel exchange.notification_channel,
    p_locale text,
    p_subject text,
    p_body text
)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_id integer;
BEGIN
    PERFORM exchange._require_admin('notification', 'manage');
    IF p_channel IS NULL OR coalesce(btrim(p_body), '') = '' OR p_subject IS NULL
       OR coalesce(p_locale, '') !~ '^[a-z]{2}(-[A-Z]{2})?$' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid notification template',
            DETAIL = format('channel=%s locale=%s subject null=%s body empty=%s', p_channel,
                            exchange._quote(p_locale), p_subject IS NULL, coalesce(btrim(p_body), '') = ''),
            HINT = 'Give a channel, a locale like en or pt-BR, a subject and a non-empty body.';
    END IF;
    PERFORM exchange._check_text(p_subject, 'subject', 200, 'EX001', false);
    PERFORM exchange._check_text(p_body, 'body', 10000, 'EX001');
    IF NOT EXISTS (SELECT 1 FROM exchange.event_types t
                    WHERE length(p_event_type) <= 100 AND t.event_type = p_event_type) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX503',
            MESSAGE = format('unknown event type %s', exchange._quote(p_event_type)),
            DETAIL = 'exchange.event_types has no such event type.',
            HINT = 'Use an event type listed in docs/events.md (exchange.event_types).';
    END IF;
    INSERT INTO exchange.notification_templates (event_type, channel, locale, subject, body)
    VALUES (p_event_type, p_channel, p_locale, p_subject, p_body)
    ON CONFLICT ON CONSTRAINT notification_templates_key DO UPDATE
        SET subject = EXCLUDED.subject, body = EXCLUDED.body, is_active = true
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION exchange.create_notification_template(text, exchange.notification_channel, text, text, text) IS
    'Creates or replaces an active notification template; placeholders are checked against the event type''s payload. Needs notification:manage. Raises EX001, EX320, EX321, EX503, EX504.';
REVOKE ALL ON FUNCTION exchange.create_notification_template(text, exchange.notification_channel, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.create_notification_template(text, exchange.notification_channel, text, text, text) TO exchange_app;
