-- Revert pyexchange:relay from pg
BEGIN;
DROP FUNCTION exchange.outbox_stats();
DROP FUNCTION exchange.retry_failed_outbox_events(bigint[]);
DROP FUNCTION exchange.prune_outbox_events(interval, boolean);
DROP FUNCTION exchange.record_outbox_failures(bigint[], text, integer, interval, interval);
DROP FUNCTION exchange.mark_outbox_events_published(bigint[]);
DROP FUNCTION exchange.claim_outbox_events(integer);
COMMIT;
