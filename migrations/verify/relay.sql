-- Verify pyexchange:relay on pg
BEGIN;
SELECT 'exchange.claim_outbox_events(integer)'::regprocedure;
SELECT 'exchange.mark_outbox_events_published(bigint[])'::regprocedure;
SELECT 'exchange.record_outbox_failures(bigint[], text, integer, interval, interval)'::regprocedure;
SELECT 'exchange.prune_outbox_events(interval, boolean)'::regprocedure;
SELECT 'exchange.retry_failed_outbox_events(bigint[])'::regprocedure;
SELECT 'exchange.outbox_stats()'::regprocedure;
ROLLBACK;
