-- Revert pyexchange:events from pg
BEGIN;
DROP FUNCTION exchange._emit_event(text, text, text, jsonb, uuid);
DROP FUNCTION exchange._notify_users_of_event(bigint, text, jsonb);
DROP FUNCTION exchange._render_template(text, jsonb);
DELETE FROM exchange.event_types;
COMMIT;
