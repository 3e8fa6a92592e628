-- Revert pyexchange:notifications_api from pg
BEGIN;
DROP FUNCTION exchange.record_notification_failure(bigint, text, integer, interval, interval);
DROP FUNCTION exchange.mark_notifications_sent(bigint[]);
DROP FUNCTION exchange.claim_notifications(integer);
DROP FUNCTION exchange.mark_notification_read(bigint, bigint);
DROP FUNCTION exchange.list_notifications(bigint, boolean, integer);
DROP FUNCTION exchange.webhook_host_allowed(text);
DROP FUNCTION exchange.set_webhook_host_allowed(text, boolean);
DROP FUNCTION exchange.set_webhook_endpoint(bigint, text, text);
DROP FUNCTION exchange._check_webhook_url(text);
DROP FUNCTION exchange.set_notification_preference(bigint, text, exchange.notification_channel, boolean);
DROP FUNCTION exchange.create_notification_template(text, exchange.notification_channel, text, text, text);
DROP FUNCTION exchange._check_notification_owner(bigint);
DROP TRIGGER tg_notification_templates__check_placeholders ON exchange.notification_templates;
DROP FUNCTION exchange.tg_notification_templates__check_placeholders();
DELETE FROM exchange.role_permissions
 WHERE permission_id = (SELECT id FROM exchange.permissions WHERE name = 'webhook:allow_host');
DELETE FROM exchange.permissions WHERE name = 'webhook:allow_host';
DROP TABLE exchange.webhook_allowed_hosts;
COMMIT;
