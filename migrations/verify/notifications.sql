-- Verify pyexchange:notifications on pg
BEGIN;
SELECT id, event_type, channel, locale, subject, body FROM exchange.notification_templates WHERE false;
SELECT user_id, event_type, channel, enabled FROM exchange.notification_preferences WHERE false;
SELECT id, user_id, channel, status, attempts, last_error, created_at FROM exchange.notifications WHERE false;
ROLLBACK;
