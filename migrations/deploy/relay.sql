-- Deploy pyexchange:relay to pg
-- requires: events
-- The outbox relay's side of the database: claim, mark, retry, prune, stats.
BEGIN;

\ir ../../functions/events/claim_outbox_events.sql
\ir ../../functions/events/mark_outbox_events_published.sql
\ir ../../functions/events/record_outbox_failures.sql
\ir ../../functions/events/prune_outbox_events.sql
\ir ../../functions/events/retry_failed_outbox_events.sql
\ir ../../functions/events/outbox_stats.sql

COMMIT;
