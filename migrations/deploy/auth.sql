-- Deploy pyexchange:auth to pg
-- requires: schema
-- Authentication domain: users, RBAC (roles, permissions and their assignments), KYC.
BEGIN;

CREATE TABLE exchange.users (
    id                    bigint GENERATED ALWAYS AS IDENTITY,
    uuid                  uuid NOT NULL DEFAULT gen_random_uuid(),
    username              varchar(50) NOT NULL,
    email                 varchar(100) NOT NULL,
    password_hash         varchar(255) NOT NULL,
    first_name            varchar(50),
    last_name             varchar(50),
    phone                 text,
    status                exchange.user_status NOT NULL DEFAULT 'PENDING',
    kyc_level             smallint NOT NULL DEFAULT 0,
    last_login_at         timestamptz,
    failed_login_attempts integer NOT NULL DEFAULT 0,
    locked_until          timestamptz,
    version               integer NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_uuid_key UNIQUE (uuid),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{2,49}$'),
    CONSTRAINT users_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    CONSTRAINT users_kyc_level_range CHECK (kyc_level BETWEEN 0 AND 2),
    CONSTRAINT users_failed_login_attempts_nonnegative CHECK (failed_login_attempts >= 0),
    CONSTRAINT users_version_nonnegative CHECK (version >= 0),
    -- encrypted by the application (docs/security.md): the database holds ciphertext only
    CONSTRAINT users_phone_encrypted CHECK (phone ~ '^pyxenc:1:[0-9]{1,10}:[A-Za-z0-9_-]{38,}$')
);
COMMENT ON TABLE exchange.users IS 'Exchange users; uuid is the external identifier, id the internal key.';
-- Emails and usernames are unique case-insensitively ('Admin' cannot impersonate 'admin');
-- these indexes also serve login by email or username.
CREATE UNIQUE INDEX users_email_lower_key ON exchange.users (lower(email));
CREATE UNIQUE INDEX users_username_lower_key ON exchange.users (lower(username));
CREATE INDEX users_status_idx ON exchange.users (status);
CREATE TRIGGER tg_users__set_updated_at BEFORE UPDATE ON exchange.users
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

CREATE TABLE exchange.roles (
    id          integer GENERATED ALWAYS AS IDENTITY,
    name        varchar(50) NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_pkey PRIMARY KEY (id),
    CONSTRAINT roles_name_key UNIQUE (name)
);

CREATE TABLE exchange.permissions (
    id       integer GENERATED ALWAYS AS IDENTITY,
    name     varchar(100) NOT NULL,
    resource varchar(50) NOT NULL,
    action   varchar(50) NOT NULL,
    CONSTRAINT permissions_pkey PRIMARY KEY (id),
    CONSTRAINT permissions_name_key UNIQUE (name),
    CONSTRAINT permissions_resource_action_key UNIQUE (resource, action)
);

CREATE TABLE exchange.role_permissions (
    role_id       integer NOT NULL,
    permission_id integer NOT NULL,
    CONSTRAINT role_permissions_pkey PRIMARY KEY (role_id, permission_id),
    CONSTRAINT role_permissions_role_fkey FOREIGN KEY (role_id)
        REFERENCES exchange.roles (id) ON DELETE CASCADE,
    CONSTRAINT role_permissions_permission_fkey FOREIGN KEY (permission_id)
        REFERENCES exchange.permissions (id) ON DELETE CASCADE
);
CREATE INDEX role_permissions_permission_idx ON exchange.role_permissions (permission_id);

CREATE TABLE exchange.user_roles (
    user_id    bigint NOT NULL,
    role_id    integer NOT NULL,
    granted_by bigint,
    granted_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_roles_pkey PRIMARY KEY (user_id, role_id),
    CONSTRAINT user_roles_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT user_roles_role_fkey FOREIGN KEY (role_id) REFERENCES exchange.roles (id),
    CONSTRAINT user_roles_granted_by_fkey FOREIGN KEY (granted_by) REFERENCES exchange.users (id)
);
CREATE INDEX user_roles_role_idx ON exchange.user_roles (role_id);

CREATE TABLE exchange.kyc_verifications (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    user_id         bigint NOT NULL,
    requested_level smallint NOT NULL,
    status          exchange.kyc_status NOT NULL DEFAULT 'PENDING',
    documents       jsonb NOT NULL DEFAULT '{}'::jsonb,
    reviewer_id     bigint,
    review_note     text,
    submitted_at    timestamptz NOT NULL DEFAULT now(),
    reviewed_at     timestamptz,
    CONSTRAINT kyc_verifications_pkey PRIMARY KEY (id),
    CONSTRAINT kyc_verifications_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT kyc_verifications_reviewer_fkey FOREIGN KEY (reviewer_id) REFERENCES exchange.users (id),
    CONSTRAINT kyc_verifications_level_range CHECK (requested_level BETWEEN 1 AND 2),
    CONSTRAINT kyc_verifications_review_consistent
        CHECK ((status = 'PENDING') = (reviewed_at IS NULL)),
    -- encrypted by the application (docs/security.md): {} or {"ciphertext": "pyxenc:1:..."}
    CONSTRAINT kyc_verifications_documents_encrypted
        CHECK (documents = '{}'::jsonb
               OR (documents ->> 'ciphertext' ~ '^pyxenc:1:[0-9]{1,10}:[A-Za-z0-9_-]{38,}$'
                   AND documents - 'ciphertext' = '{}'::jsonb))
);
CREATE INDEX kyc_verifications_reviewer_idx ON exchange.kyc_verifications (reviewer_id)
    WHERE reviewer_id IS NOT NULL;
CREATE INDEX kyc_verifications_user_idx ON exchange.kyc_verifications (user_id, submitted_at DESC);
-- At most one pending verification per user.
CREATE UNIQUE INDEX kyc_verifications_one_pending_key ON exchange.kyc_verifications (user_id)
    WHERE status = 'PENDING';

-- What each KYC level may do (the 'level 0 deposits only, level 1 up to a daily amount, level
-- 2 higher' policy). One row per (level, action) applies to every asset (asset_id NULL); a row
-- for a specific asset overrides it. daily_limit NULL means no limit; the amount is in units
-- of the asset the action moves. Looked up by the primary-key index of the most specific row.
CREATE TABLE exchange.kyc_limits (
    id          integer GENERATED ALWAYS AS IDENTITY,
    level       smallint NOT NULL,
    action      text NOT NULL,
    asset_id    integer,
    allowed     boolean NOT NULL,
    daily_limit exchange.amount,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT kyc_limits_pkey PRIMARY KEY (id),
    CONSTRAINT kyc_limits_level_action_asset_key UNIQUE NULLS NOT DISTINCT (level, action, asset_id),
    CONSTRAINT kyc_limits_level_range CHECK (level BETWEEN 0 AND 2),
    CONSTRAINT kyc_limits_action_known CHECK (action IN ('DEPOSIT', 'TRADE', 'WITHDRAW')),
    CONSTRAINT kyc_limits_daily_limit_nonnegative CHECK (daily_limit >= 0)
);
COMMENT ON TABLE exchange.kyc_limits IS
    'Per KYC level and action (DEPOSIT, TRADE, WITHDRAW): allowed or not, and the daily amount per asset (NULL = unlimited); asset_id NULL is the default for every asset.';

-- What each user used of a daily limit: one small row per (user, UTC day, action, asset),
-- incremented by exchange._check_kyc_limit, so a check is one upsert instead of a sum over
-- the order or withdrawal history. Rows of past days may be deleted at will.
CREATE TABLE exchange.kyc_daily_usage (
    user_id  bigint NOT NULL,
    day      date NOT NULL,
    action   text NOT NULL,
    asset_id integer NOT NULL,
    used     exchange.amount NOT NULL DEFAULT 0,
    CONSTRAINT kyc_daily_usage_pkey PRIMARY KEY (user_id, day, action, asset_id),
    CONSTRAINT kyc_daily_usage_used_nonnegative CHECK (used >= 0)
);
COMMENT ON TABLE exchange.kyc_daily_usage IS
    'Per user, UTC day, action and asset: the amount counted against the KYC daily limit.';

-- Authentication settings: one row. bcrypt_cost is the work factor of new password hashes
-- (10 in production; test databases lower it to 4), the lockout policy is the number of
-- consecutive failures that locks a user and for how long.
CREATE TABLE exchange.auth_settings (
    singleton          boolean NOT NULL DEFAULT true,
    bcrypt_cost        integer NOT NULL DEFAULT 10,
    max_failed_logins  integer NOT NULL DEFAULT 5,
    lockout_duration   interval NOT NULL DEFAULT interval '15 minutes',
    min_password_length integer NOT NULL DEFAULT 8,
    CONSTRAINT auth_settings_pkey PRIMARY KEY (singleton),
    CONSTRAINT auth_settings_singleton CHECK (singleton),
    CONSTRAINT auth_settings_bcrypt_cost_range CHECK (bcrypt_cost BETWEEN 4 AND 31),
    CONSTRAINT auth_settings_max_failed_logins_positive CHECK (max_failed_logins > 0),
    CONSTRAINT auth_settings_lockout_duration_positive CHECK (lockout_duration > interval '0'),
    CONSTRAINT auth_settings_min_password_length_range CHECK (min_password_length BETWEEN 1 AND 72)
);
COMMENT ON TABLE exchange.auth_settings IS
    'One row: bcrypt cost of new hashes, lockout after max_failed_logins consecutive failures for lockout_duration, minimum password length.';
INSERT INTO exchange.auth_settings DEFAULT VALUES;

COMMIT;
