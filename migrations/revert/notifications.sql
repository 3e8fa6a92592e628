-- Revert pyexchange:notifications from pg
BEGIN;
DROP TABLE exchange.notifications, exchange.notification_preferences, exchange.notification_templates;
COMMIT;
