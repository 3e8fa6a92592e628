-- Deploy pyexchange:audit to pg
-- requires: auth
-- Audit domain: an append-only log of changes, range-partitioned by month on created_at.
BEGIN;

CREATE TABLE exchange.audit_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY,
    db_role     text NOT NULL DEFAULT current_user,
    app_user_id bigint,
    table_name  text NOT NULL,
    operation   text NOT NULL,
    entity_key  text,
    old_values  jsonb,
    new_values  jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_logs_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT audit_logs_operation_format CHECK (operation ~ '^[A-Z][A-Z_]*$')
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE exchange.audit_logs IS 'Append-only audit log, range-partitioned by month on created_at.';
CREATE INDEX audit_logs_entity_idx ON exchange.audit_logs (table_name, entity_key, created_at);
CREATE INDEX audit_logs_app_user_idx ON exchange.audit_logs (app_user_id, created_at);

COMMIT;
