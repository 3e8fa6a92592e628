-- Deploy pyexchange:notifications_api to pg
-- requires: events identity
-- Notification templates (checked against the event payloads), preferences, webhook
-- endpoints (with the admin's allow-list of webhook hosts that are not public), in-app
-- reading, and the delivery worker's claim and outcome functions.
BEGIN;

-- Hosts an admin allows as webhook targets although they are (or resolve to) a loopback,
-- private or link-local address; every other such URL is refused (docs/events.md).
CREATE TABLE exchange.webhook_allowed_hosts (
    host       text NOT NULL,
    allowed_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_allowed_hosts_pkey PRIMARY KEY (host),
    CONSTRAINT webhook_allowed_hosts_host_format CHECK (host ~ '^[a-z0-9_.:-]{1,253}$')
);
COMMENT ON TABLE exchange.webhook_allowed_hosts IS
    'Webhook hosts an admin allows although they are or resolve to a non-public address.';
INSERT INTO exchange.permissions (name, resource, action)
VALUES ('webhook:allow_host', 'webhook', 'allow_host');
INSERT INTO exchange.role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM exchange.roles r, exchange.permissions p
 WHERE r.name = 'admin' AND p.name = 'webhook:allow_host';

\ir ../../functions/events/tg_notification_templates__check_placeholders.sql
CREATE TRIGGER tg_notification_templates__check_placeholders
    BEFORE INSERT OR UPDATE OF event_type, subject, body ON exchange.notification_templates
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_notification_templates__check_placeholders();
\ir ../../functions/events/_check_notification_owner.sql
\ir ../../functions/events/create_notification_template.sql
\ir ../../functions/events/set_notification_preference.sql
\ir ../../functions/events/_check_webhook_url.sql
\ir ../../functions/events/set_webhook_endpoint.sql
\ir ../../functions/events/set_webhook_host_allowed.sql
\ir ../../functions/events/webhook_host_allowed.sql
\ir ../../functions/events/list_notifications.sql
\ir ../../functions/events/mark_notification_read.sql
\ir ../../functions/events/claim_notifications.sql
\ir ../../functions/events/mark_notifications_sent.sql
\ir ../../functions/events/record_notification_failure.sql

COMMIT;
