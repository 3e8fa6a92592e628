-- Events: the outbox relay, notifications and the live market feed.

-- name: claim_outbox_events
SELECT id, aggregate_type, aggregate_id, event_type, event_data, correlation_id, attempts,
       created_at, event_uuid
  FROM exchange.claim_outbox_events(%(limit)s);

-- name: flush_wal
-- A synchronous commit that writes WAL: every commit before it is durable when it returns.
SELECT exchange.submit_order_flush();

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

-- name: listen_notifications
LISTEN exchange_notifications;

-- name: claim_notifications
SELECT id, created_at, user_id, channel::text AS channel, event_id, subject, body, attempts,
       email, webhook_url, webhook_secret
  FROM exchange.claim_notifications(%(limit)s);

-- name: mark_notifications_sent
SELECT exchange.mark_notifications_sent(%(ids)s);

-- name: record_notification_failure
SELECT exchange.record_notification_failure(%(id)s, %(error)s, %(max_attempts)s, %(base_delay)s,
                                            %(max_delay)s)::text;

-- name: create_notification_template
SELECT exchange.create_notification_template(%(event_type)s, %(channel)s, %(locale)s,
                                             %(subject)s, %(body)s);

-- name: set_notification_preference
SELECT exchange.set_notification_preference(%(user_id)s, %(event_type)s, %(channel)s,
                                            %(enabled)s);

-- name: set_webhook_endpoint
SELECT exchange.set_webhook_endpoint(%(user_id)s, %(url)s, %(secret)s);

-- name: webhook_host_allowed
SELECT exchange.webhook_host_allowed(%(host)s);

-- name: set_webhook_host_allowed
SELECT exchange.set_webhook_host_allowed(%(host)s, %(allowed)s);

-- name: list_notifications
SELECT id, event_id, event_type, subject, body, created_at, read_at
  FROM exchange.list_notifications(%(user_id)s, %(unread_only)s, %(limit)s);

-- name: mark_notification_read
SELECT exchange.mark_notification_read(%(user_id)s, %(notification_id)s);

-- name: register_listener
SELECT exchange.register_listener(%(channel)s);

-- name: unregister_listener
SELECT exchange.unregister_listener(%(channel)s);

-- name: in_progress_xids
SELECT coalesce(array_agg(x), '{}') FROM pg_snapshot_xip(pg_current_snapshot()) AS x;

-- name: any_in_progress
SELECT count(*) FROM unnest(%(xids)s::xid8[]) AS x WHERE pg_xact_status(x) = 'in progress';
