-- Deploy pyexchange:notifications to pg
-- requires: auth
-- Notification domain: templates per event type, channel and locale; per-user channel
-- preferences; notifications (range-partitioned by month on created_at).
BEGIN;

CREATE TABLE exchange.notification_templates (
    id         integer GENERATED ALWAYS AS IDENTITY,
    event_type varchar(100) NOT NULL,
    channel    exchange.notification_channel NOT NULL,
    locale     varchar(10) NOT NULL DEFAULT 'en',
    subject    text NOT NULL,
    body       text NOT NULL,
    is_active  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_templates_pkey PRIMARY KEY (id),
    CONSTRAINT notification_templates_key UNIQUE (event_type, channel, locale),
    CONSTRAINT notification_templates_locale_format CHECK (locale ~ '^[a-z]{2}(-[A-Z]{2})?$')
);
CREATE TRIGGER tg_notification_templates__set_updated_at BEFORE UPDATE ON exchange.notification_templates
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

CREATE TABLE exchange.notification_preferences (
    user_id    bigint NOT NULL,
    event_type varchar(100) NOT NULL,
    channel    exchange.notification_channel NOT NULL,
    enabled    boolean NOT NULL DEFAULT true,
    CONSTRAINT notification_preferences_pkey PRIMARY KEY (user_id, event_type, channel),
    CONSTRAINT notification_preferences_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id)
);

CREATE TABLE exchange.notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    user_id     bigint NOT NULL,
    template_id integer,
    event_id    bigint,
    channel     exchange.notification_channel NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    status      exchange.notification_status NOT NULL DEFAULT 'PENDING',
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    sent_at     timestamptz,
    read_at     timestamptz,
    -- The worker's retry schedule: a PENDING notification is not delivered before this time.
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notifications_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT notifications_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT notifications_template_fkey FOREIGN KEY (template_id)
        REFERENCES exchange.notification_templates (id),
    CONSTRAINT notifications_attempts_nonnegative CHECK (attempts >= 0)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE exchange.notifications IS 'Notifications to users, range-partitioned by month on created_at.';
CREATE INDEX notifications_user_created_at_idx ON exchange.notifications (user_id, created_at DESC);
CREATE INDEX notifications_pending_idx ON exchange.notifications (id) WHERE status = 'PENDING';
CREATE TRIGGER tg_notifications__set_updated_at BEFORE UPDATE ON exchange.notifications
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();
CREATE INDEX notifications_event_idx ON exchange.notifications (event_id);

-- Where a user's WEBHOOK notifications go, and the secret their HMAC-SHA256 signature uses.
CREATE TABLE exchange.webhook_endpoints (
    user_id    bigint NOT NULL,
    url        text NOT NULL,
    secret     text NOT NULL,
    is_active  boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (user_id),
    CONSTRAINT webhook_endpoints_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT webhook_endpoints_url_format CHECK (url ~ '^https?://[^\s]+$'),
    CONSTRAINT webhook_endpoints_secret_length CHECK (length(secret) >= 16),
    -- encrypted by the application (docs/security.md): the database holds ciphertext only
    CONSTRAINT webhook_endpoints_secret_encrypted
        CHECK (secret ~ '^pyxenc:1:[0-9]{1,10}:[A-Za-z0-9_-]{38,}$')
);
COMMENT ON TABLE exchange.webhook_endpoints IS
    'Per-user webhook target of WEBHOOK notifications and the HMAC-SHA256 signing secret.';
CREATE TRIGGER tg_webhook_endpoints__set_updated_at BEFORE UPDATE ON exchange.webhook_endpoints
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

COMMIT;
