-- Revert pyexchange:notifications from pg
BEGIN;
DROP TABLE exchange.webhook_endpoints, exchange.notifications, exchange.notification_preferences, exchange.notification_templates;
COMMIT;
