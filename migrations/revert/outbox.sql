-- Revert pyexchange:outbox from pg
BEGIN;
DROP TABLE exchange.event_listeners, exchange.event_types, exchange.outbox_events;
COMMIT;
