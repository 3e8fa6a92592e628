-- Events: the outbox relay, notifications and the live market feed.

-- name: claim_outbox_events
SELECT id, aggregate_type, aggregate_id, event_type, event_data, correlation_id, attempts,
       created_at
  FROM exchange.claim_outbox_events(%(limit)s);

-- name: mark_outbox_events_published
SELECT exchange.mark_outbox_events_published(%(ids)s);

-- name: record_outbox_failures
SELECT id, aggregate_type, aggregate_id, event_type, attempts, status::text AS status,
       next_attempt_at, last_error
  FROM exchange.record_outbox_failures(%(ids)s, %(error)s, %(max_attempts)s, %(base_delay)s,
                                       %(max_delay)s);

-- name: prune_outbox_events
SELECT status::text AS status, deleted
  FROM exchange.prune_outbox_events(%(older_than)s, %(include_failed)s);

-- name: retry_failed_outbox_events
SELECT exchange.retry_failed_outbox_events(%(ids)s);

-- name: outbox_stats
SELECT status::text AS status, events, oldest, next_attempt_at FROM exchange.outbox_stats();

-- name: listen_outbox
LISTEN exchange_outbox;
