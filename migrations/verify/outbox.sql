-- Verify pyexchange:outbox on pg
BEGIN;
SELECT id, aggregate_type, aggregate_id, event_type, event_data, correlation_id, status, event_uuid
  FROM exchange.outbox_events WHERE false;
ROLLBACK;
