-- Verify pyexchange:notifications_api on pg
BEGIN;
SELECT 'exchange.create_notification_template(text, exchange.notification_channel, text, text, text)'::regprocedure;
SELECT 'exchange.set_notification_preference(bigint, text, exchange.notification_channel, boolean)'::regprocedure;
SELECT 'exchange.set_webhook_endpoint(bigint, text, text)'::regprocedure;
SELECT 'exchange.list_notifications(bigint, boolean, integer)'::regprocedure;
SELECT 'exchange.mark_notification_read(bigint, bigint)'::regprocedure;
SELECT 'exchange.claim_notifications(integer)'::regprocedure;
SELECT 'exchange.mark_notifications_sent(bigint[])'::regprocedure;
SELECT 'exchange.record_notification_failure(bigint, text, integer, interval, interval)'::regprocedure;
SELECT 'exchange.set_webhook_host_allowed(text, boolean)'::regprocedure;
SELECT 'exchange.webhook_host_allowed(text)'::regprocedure;
SELECT host FROM exchange.webhook_allowed_hosts WHERE false;
ROLLBACK;
