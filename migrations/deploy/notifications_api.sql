-- Deploy pyexchange:notifications_api to pg
-- requires: events identity
-- Notification templates (checked against the event payloads), preferences, webhook
-- endpoints, in-app reading, and the delivery worker's claim and outcome functions.
BEGIN;

\ir ../../functions/tg_notification_templates__check_placeholders.sql
CREATE TRIGGER tg_notification_templates__check_placeholders
    BEFORE INSERT OR UPDATE OF event_type, subject, body ON exchange.notification_templates
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_notification_templates__check_placeholders();
\ir ../../functions/_check_notification_owner.sql
\ir ../../functions/create_notification_template.sql
\ir ../../functions/set_notification_preference.sql
\ir ../../functions/set_webhook_endpoint.sql
\ir ../../functions/list_notifications.sql
\ir ../../functions/mark_notification_read.sql
\ir ../../functions/claim_notifications.sql
\ir ../../functions/mark_notifications_sent.sql
\ir ../../functions/record_notification_failure.sql

COMMIT;
