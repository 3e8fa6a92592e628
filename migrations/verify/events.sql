-- Verify pyexchange:events on pg
BEGIN;
SELECT 'exchange._emit_event(text, text, text, jsonb, uuid)'::regprocedure;
SELECT 'exchange._notify_users_of_event(bigint, text, jsonb)'::regprocedure;
SELECT 'exchange._render_template(text, jsonb)'::regprocedure;
SELECT 'exchange.tg_outbox_events__after_insert()'::regprocedure;
SELECT 'exchange.register_listener(text)'::regprocedure;
SELECT 'exchange.unregister_listener(text)'::regprocedure;
ROLLBACK;
