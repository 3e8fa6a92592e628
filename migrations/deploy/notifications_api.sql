-- Deploy pyexchange:notifications_api to pg
-- requires: events identity
-- Notification templates (checked against the event payloads), preferences, webhook
-- endpoints, in-app reading, and the delivery worker's claim and outcome functions.
BEGIN;

\ir ../../functions/events/tg_notification_templates__check_placeholders.sql
CREATE TRIGGER tg_notification_templates__check_placeholders
    BEFORE INSERT OR UPDATE OF event_type, subject, body ON exchange.notification_templates
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_notification_templates__check_placeholders();
\ir ../../functions/events/_check_notification_owner.sql
\ir ../../functions/events/create_notification_template.sql
\ir ../../functions/events/set_notification_preference.sql
\ir ../../functions/events/set_webhook_endpoint.sql
\ir ../../functions/events/list_notifications.sql
\ir ../../functions/events/mark_notification_read.sql
\ir ../../functions/events/claim_notifications.sql
\ir ../../functions/events/mark_notifications_sent.sql
\ir ../../functions/events/record_notification_failure.sql

COMMIT;
