-- Events: _emit_event, the relay's claim/mark/retry/prune, templates, preferences and
-- in-app notifications.
BEGIN;
SELECT plan(30);

INSERT INTO exchange.users (username, email, password_hash, status)
VALUES ('ev_alice', 'ev_alice@example.com', 'x', 'ACTIVE'), ('ev_bob', 'ev_bob@example.com', 'x', 'ACTIVE');
CREATE TEMP TABLE ev_u AS
    SELECT (SELECT id FROM exchange.users WHERE username = 'ev_alice') AS alice,
           (SELECT id FROM exchange.users WHERE username = 'ev_bob') AS bob;
-- Start from an empty outbox in this transaction.
DELETE FROM exchange.outbox_events;

-- _emit_event -----------------------------------------------------------------------------
SELECT ok(exchange._emit_event('order', '1', 'order_placed', '{"order_id": 1}') > 0,
          '_emit_event returns the new event id');
SELECT is((SELECT status::text || '/' || coalesce(correlation_id::text, 'none') FROM exchange.outbox_events),
          'PENDING/none', 'the event is PENDING, without correlation id by default');
SELECT set_config('exchange.correlation_id', '1b4e28ba-2fa1-11d2-883f-0016d3cca427', true);
SELECT lives_ok($$SELECT exchange._emit_event('order', '1', 'order_cancelled', '{"order_id": 1}')$$,
                'emits under a correlation id');
SELECT is((SELECT correlation_id::text FROM exchange.outbox_events WHERE event_type = 'order_cancelled'),
          '1b4e28ba-2fa1-11d2-883f-0016d3cca427', 'the correlation id comes from exchange.correlation_id');
SELECT set_config('exchange.correlation_id', 'not-a-uuid', true);
SELECT throws_ok($$SELECT exchange._emit_event('order', '1', 'order_placed', '{}')$$, 'EX502',
                 NULL, 'a malformed correlation setting is refused');
SELECT set_config('exchange.correlation_id', '', true);
SELECT throws_ok($$SELECT exchange._emit_event('Order', '1', 'order_placed', '{}')$$, 'EX501',
                 NULL, 'aggregate types are lower snake_case');
SELECT throws_ok($$SELECT exchange._emit_event('order', '1', 'order.placed', '{}')$$, 'EX501',
                 NULL, 'event types are lower snake_case (no dots: they are subject tokens)');
SELECT throws_ok($$SELECT exchange._emit_event('order', '', 'order_placed', '{}')$$, 'EX501',
                 NULL, 'the aggregate id is required');

-- the relay's claim -------------------------------------------------------------------------
SELECT exchange._emit_event('order', '2', 'order_placed', '{"order_id": 2}');
SELECT exchange._emit_event('order', '1', 'order_filled', '{"order_id": 1}');
SELECT is(ARRAY(SELECT aggregate_id || ':' || event_type FROM exchange.claim_outbox_events(10)),
          ARRAY['1:order_placed', '1:order_cancelled', '2:order_placed', '1:order_filled'],
          'claim returns every pending event in id order');
SELECT is(ARRAY(SELECT aggregate_id || ':' || event_type FROM exchange.claim_outbox_events(1)),
          ARRAY['1:order_placed'], 'a batch of one is the oldest event');
SELECT is((SELECT status::text FROM exchange.record_outbox_failures(
              ARRAY(SELECT id FROM exchange.outbox_events WHERE event_type = 'order_placed' AND aggregate_id = '1'),
              'broker down', 3)),
          'PENDING', 'a failed publish is retried');
SELECT is(ARRAY(SELECT aggregate_id || ':' || event_type FROM exchange.claim_outbox_events(10)),
          ARRAY['2:order_placed'], 'a head waiting for its retry holds back its whole aggregate');
UPDATE exchange.outbox_events SET next_attempt_at = now() - interval '1 second';
SELECT is((SELECT attempts || ':' || last_error FROM exchange.outbox_events
            WHERE event_type = 'order_placed' AND aggregate_id = '1'), '1:broker down',
          'the attempt and the error are recorded');
SELECT is((SELECT string_agg(status::text, ',') FROM exchange.record_outbox_failures(
              ARRAY(SELECT id FROM exchange.outbox_events WHERE aggregate_id = '1' AND event_type = 'order_placed'),
              'still down', 2)),
          'FAILED', 'at max attempts the event is FAILED');
SELECT is(ARRAY(SELECT aggregate_id || ':' || event_type FROM exchange.claim_outbox_events(10)),
          ARRAY['1:order_cancelled', '2:order_placed', '1:order_filled'],
          'after a FAILED event its aggregate goes on');
SELECT is(exchange.mark_outbox_events_published(ARRAY(SELECT id FROM exchange.outbox_events WHERE status = 'PENDING')),
          3, 'mark published');
SELECT is(exchange.mark_outbox_events_published(ARRAY(SELECT id FROM exchange.outbox_events)), 0,
          'marking again changes nothing (only PENDING events are marked)');
SELECT exchange._emit_event('order', '3', 'order_placed', '{"order_id": 3}');
UPDATE exchange.outbox_events SET created_at = now() - interval '8 days' WHERE status <> 'PENDING' OR aggregate_id = '3';
SELECT is(ARRAY(SELECT status::text || '=' || deleted FROM exchange.prune_outbox_events('7 days', false)),
          ARRAY['PUBLISHED=3'], 'prune --keep-failed deletes old published events only');
SELECT is(ARRAY(SELECT status::text || '=' || deleted FROM exchange.prune_outbox_events('7 days')),
          ARRAY['FAILED=1'], 'then the failed one; an old PENDING event is never pruned');
SELECT throws_ok($$SELECT * FROM exchange.prune_outbox_events('-1 day')$$, 'EX001', NULL,
                 'a negative age is refused');

-- templates ---------------------------------------------------------------------------------
SELECT throws_ok($$SELECT exchange.create_notification_template('user_activated', 'IN_APP', 'en',
                     'Hi {{username}}', 'Your balance is {{balance}}')$$, 'EX504', NULL,
                 'a placeholder outside the payload is refused at template creation');
SELECT throws_ok($$INSERT INTO exchange.notification_templates (event_type, channel, subject, body)
                   VALUES ('user_activated', 'EMAIL', 'x', '{{nope}}')$$, 'EX504', NULL,
                 '... also when the table is written directly');
SELECT throws_ok($$SELECT exchange.create_notification_template('no_such_event', 'IN_APP', 'en', 's', 'b')$$,
                 'EX503', NULL, 'an unknown event type is refused');
SELECT ok(exchange.create_notification_template('withdrawal_completed', 'IN_APP', 'en',
              'Withdrawal {{withdrawal_id}} sent', 'Sent {{ amount }} {{asset}}.') > 0,
          'a template with payload placeholders is created');
SELECT exchange.create_notification_template('withdrawal_completed', 'EMAIL', 'en', 'Sent', '{{amount}} {{asset}}');
SELECT exchange.create_notification_template('withdrawal_completed', 'WEBHOOK', 'en', 'Sent', '{{amount}}');

-- notifications from events ---------------------------------------------------------------------
SELECT exchange.set_notification_preference((SELECT bob FROM ev_u), 'withdrawal_completed', 'EMAIL', false);
SELECT exchange.set_webhook_host_allowed('127.0.0.1');  -- a local receiver: an admin's exception
SELECT exchange.set_webhook_endpoint((SELECT alice FROM ev_u), 'http://127.0.0.1:9/hook', 'pyxenc:1:1:' || repeat('A', 40));
SELECT exchange._emit_event('withdrawal', '10', 'withdrawal_completed',
    jsonb_build_object('withdrawal_id', 10, 'user_id', (SELECT alice FROM ev_u), 'asset', 'BTC', 'amount', '0.5'));
SELECT exchange._emit_event('withdrawal', '11', 'withdrawal_completed',
    jsonb_build_object('withdrawal_id', 11, 'user_id', (SELECT bob FROM ev_u), 'asset', 'ETH', 'amount', '2'));
SELECT is(ARRAY(SELECT u.username || ':' || n.channel || ':' || n.status
                  FROM exchange.notifications n JOIN exchange.users u ON u.id = n.user_id
                 WHERE u.username LIKE 'ev_%' ORDER BY u.username, n.channel),
          ARRAY['ev_alice:EMAIL:PENDING', 'ev_alice:WEBHOOK:PENDING', 'ev_alice:IN_APP:SENT',
                'ev_bob:IN_APP:SENT'],
          'one notification per channel for the user concerned; bob turned EMAIL off and has no webhook');
SELECT is((SELECT subject || ' / ' || body FROM exchange.list_notifications((SELECT alice FROM ev_u))),
          'Withdrawal 10 sent / Sent 0.5 BTC.', 'in-app notifications are filled from the payload');
SELECT set_config('exchange.acting_user_id', (SELECT bob::text FROM ev_u), true);
SELECT throws_ok($$SELECT * FROM exchange.list_notifications((SELECT alice FROM ev_u))$$, 'EX322',
                 NULL, 'a user cannot read another user''s notifications');
SELECT throws_ok($$SELECT exchange.mark_notification_read((SELECT bob FROM ev_u),
                     (SELECT max(id) + 1000 FROM exchange.notifications))$$, 'EX505', NULL,
                 'marking an unknown notification read is refused');
SELECT is(exchange.mark_notification_read((SELECT bob FROM ev_u),
              (SELECT id FROM exchange.list_notifications((SELECT bob FROM ev_u), true))), 1,
          'marks the notification read');
SELECT is((SELECT count(*)::int FROM exchange.list_notifications((SELECT bob FROM ev_u), true)), 0,
          'no unread notification left');

SELECT * FROM finish();
ROLLBACK;
