-- Deploy pyexchange:risk to pg
-- requires: orders
-- Risk management domain: JSON-configured rules and the events they raise.
BEGIN;

CREATE TABLE exchange.risk_rules (
    id         integer GENERATED ALWAYS AS IDENTITY,
    name       varchar(100) NOT NULL,
    type       varchar(50) NOT NULL,
    conditions jsonb NOT NULL,
    actions    jsonb NOT NULL,
    level      exchange.risk_level NOT NULL DEFAULT 'MEDIUM',
    is_active  boolean NOT NULL DEFAULT true,
    priority   integer NOT NULL DEFAULT 100,
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT risk_rules_pkey PRIMARY KEY (id),
    CONSTRAINT risk_rules_created_by_fkey FOREIGN KEY (created_by) REFERENCES exchange.users (id),
    CONSTRAINT risk_rules_type_format CHECK (type ~ '^[A-Z][A-Z_]*$'),
    CONSTRAINT risk_rules_conditions_object CHECK (jsonb_typeof(conditions) = 'object'),
    CONSTRAINT risk_rules_actions_object CHECK (jsonb_typeof(actions) = 'object')
);
CREATE INDEX risk_rules_active_priority_idx ON exchange.risk_rules (type, priority) WHERE is_active;
CREATE TRIGGER tg_risk_rules__set_updated_at BEFORE UPDATE ON exchange.risk_rules
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();

CREATE TABLE exchange.risk_events (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    user_id         bigint,
    rule_id         integer,
    type            varchar(50) NOT NULL,
    level           exchange.risk_level NOT NULL,
    details         jsonb NOT NULL,
    status          exchange.risk_event_status NOT NULL DEFAULT 'ACTIVE',
    resolution_note text,
    resolved_by     bigint,
    resolved_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT risk_events_pkey PRIMARY KEY (id),
    CONSTRAINT risk_events_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT risk_events_rule_fkey FOREIGN KEY (rule_id) REFERENCES exchange.risk_rules (id),
    CONSTRAINT risk_events_resolved_by_fkey FOREIGN KEY (resolved_by) REFERENCES exchange.users (id),
    CONSTRAINT risk_events_resolution_consistent
        CHECK ((status = 'ACTIVE') = (resolved_at IS NULL))
);
CREATE INDEX risk_events_user_created_at_idx ON exchange.risk_events (user_id, created_at DESC);
CREATE INDEX risk_events_status_level_idx ON exchange.risk_events (status, level);
CREATE INDEX risk_events_rule_idx ON exchange.risk_events (rule_id);

COMMIT;
