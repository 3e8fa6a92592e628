-- Deploy pyexchange:relay to pg
-- requires: events
-- The outbox relay's side of the database: claim, mark, retry, prune, stats.
BEGIN;

\ir ../../functions/claim_outbox_events.sql
\ir ../../functions/mark_outbox_events_published.sql
\ir ../../functions/record_outbox_failures.sql
\ir ../../functions/prune_outbox_events.sql
\ir ../../functions/retry_failed_outbox_events.sql
\ir ../../functions/outbox_stats.sql

COMMIT;
