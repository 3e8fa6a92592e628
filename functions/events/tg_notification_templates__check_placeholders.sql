-- exchange.tg_notification_templates__check_placeholders() RETURNS trigger
-- BEFORE INSERT OR UPDATE on exchange.notification_templates: a template's event type must be
-- registered (exchange.event_types), and every {{placeholder}} of its subject and body must
-- be a key of that event type's documented payload. So a template that could not be filled
-- is refused when it is written, whoever writes it, never at send time.
-- Raises: EX503 (unknown event type), EX504 (placeholder not in the payload).
CREATE OR REPLACE FUNCTION exchange.tg_notification_templates__check_placeholders()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_keys text[];
    v_missing text[];
BEGIN
    SELECT et.payload_keys INTO v_keys FROM exchange.event_types et
     WHERE et.event_type = NEW.event_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX503',
            MESSAGE = format('unknown event type %s', NEW.event_type),
            DETAIL = 'Templates are written for the event types of exchange.event_types.',
            HINT = 'See docs/events.md for the event types and their payloads.';
    END IF;
    SELECT array_agg(DISTINCT m[1] ORDER BY m[1]) INTO v_missing
      FROM regexp_matches(NEW.subject || E'\n' || NEW.body,
                          '\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}', 'g') AS m
     WHERE m[1] <> ALL (v_keys);
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX504',
            MESSAGE = format('placeholder not in the %s payload: %s', NEW.event_type,
                             array_to_string(v_missing, ', ')),
            DETAIL = format('The %s payload has: %s', NEW.event_type, array_to_string(v_keys, ', ')),
            HINT = 'Use {{key}} with a key of the event type''s payload (docs/events.md).';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION exchange.tg_notification_templates__check_placeholders() IS
    'Refuses templates of unknown event types (EX503) or with placeholders outside the payload (EX504).';
REVOKE ALL ON FUNCTION exchange.tg_notification_templates__check_placeholders() FROM PUBLIC;
