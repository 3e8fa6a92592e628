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
    phone                 varchar(20),
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
    CONSTRAINT users_version_nonnegative CHECK (version >= 0)
);
COMMENT ON TABLE exchange.users IS 'Exchange users; uuid is the external identifier, id the internal key.';
-- Emails are unique case-insensitively; this index also serves login by email.
CREATE UNIQUE INDEX users_email_lower_key ON exchange.users (lower(email));
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
        CHECK ((status = 'PENDING') = (reviewed_at IS NULL))
);
CREATE INDEX kyc_verifications_user_idx ON exchange.kyc_verifications (user_id, submitted_at DESC);
-- At most one pending verification per user.
CREATE UNIQUE INDEX kyc_verifications_one_pending_key ON exchange.kyc_verifications (user_id)
    WHERE status = 'PENDING';

COMMIT;
