-- Deploy pyexchange:encryption to pg
-- requires: identity
-- Application-level encryption (docs/security.md): the data keys, each wrapped by a master key
-- that never reaches the database; phones, KYC documents and webhook secrets are stored as
-- envelopes made with them by pyexchange.crypto (the tables' CHECKs and
-- exchange._check_ciphertext refuse anything else).
BEGIN;

CREATE TABLE exchange.data_keys (
    id            integer GENERATED ALWAYS AS IDENTITY,
    wrapped_key   bytea NOT NULL,
    master_key_id text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    rewrapped_at  timestamptz,
    CONSTRAINT data_keys_pkey PRIMARY KEY (id),
    CONSTRAINT data_keys_wrapped_length CHECK (octet_length(wrapped_key) = 60),
    CONSTRAINT data_keys_master_key_id_format CHECK (master_key_id ~ '^[A-Za-z0-9_.-]{1,64}$')
);
COMMENT ON TABLE exchange.data_keys IS
    'Data keys of application-level encryption, wrapped (AES-256-GCM) by the master key master_key_id.';

INSERT INTO exchange.permissions (name, resource, action)
VALUES ('encryption_key:manage', 'encryption_key', 'manage');
INSERT INTO exchange.role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM exchange.roles r, exchange.permissions p
 WHERE r.name = 'admin' AND p.name = 'encryption_key:manage';

\ir ../../functions/security/list_data_keys.sql
\ir ../../functions/security/create_data_key.sql
\ir ../../functions/security/rewrap_data_key.sql

COMMIT;
