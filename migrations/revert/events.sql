-- Revert pyexchange:events from pg
BEGIN;
DROP TRIGGER tg_outbox_events__after_insert ON exchange.outbox_events;
DROP FUNCTION exchange.tg_outbox_events__after_insert();
DROP FUNCTION exchange._emit_event(text, text, text, jsonb, uuid);
DROP FUNCTION exchange._notify_users_of_event(bigint, text, jsonb);
DROP FUNCTION exchange._render_template(text, jsonb);
DROP FUNCTION exchange.unregister_listener(text);
DROP FUNCTION exchange.register_listener(text);
DELETE FROM exchange.event_types;
COMMIT;
