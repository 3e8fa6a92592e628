-- Revert pyexchange:outbox from pg
BEGIN;
DROP TABLE exchange.outbox_events;
COMMIT;
