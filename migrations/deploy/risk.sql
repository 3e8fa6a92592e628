-- Deploy pyexchange:risk to pg
-- requires: orders
-- Risk management domain: JSON-configured rules and the events they raise (docs/risk.md).
-- The functions that evaluate rules and manage events are in the change risk_engine; this
-- change holds the tables, the rule validation trigger and the small types the trading
-- hot path declares.
BEGIN;

CREATE TABLE exchange.risk_rules (
    id             integer GENERATED ALWAYS AS IDENTITY,
    name           varchar(100) NOT NULL,
    type           varchar(50) NOT NULL,
    conditions     jsonb NOT NULL,
    actions        jsonb NOT NULL,
    level          exchange.risk_level NOT NULL DEFAULT 'MEDIUM',
    is_active      boolean NOT NULL DEFAULT true,
    priority       integer NOT NULL DEFAULT 100,
    -- Derived from type, conditions and actions by tg_risk_rules__validate (never set by
    -- hand): what the hot path reads, typed, so that evaluating a rule parses no JSON.
    scope          text NOT NULL,
    action         text NOT NULL,
    trading_pair_id integer,
    asset_id       integer,
    kyc_level      integer,
    limit_value    numeric NOT NULL,
    window_seconds integer,
    created_by     bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT risk_rules_pkey PRIMARY KEY (id),
    CONSTRAINT risk_rules_created_by_fkey FOREIGN KEY (created_by) REFERENCES exchange.users (id),
    CONSTRAINT risk_rules_trading_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id),
    CONSTRAINT risk_rules_asset_fkey FOREIGN KEY (asset_id) REFERENCES exchange.assets (id),
    CONSTRAINT risk_rules_type_format CHECK (type ~ '^[A-Z][A-Z_]*$'),
    CONSTRAINT risk_rules_conditions_object CHECK (jsonb_typeof(conditions) = 'object'),
    CONSTRAINT risk_rules_actions_object CHECK (jsonb_typeof(actions) = 'object'),
    CONSTRAINT risk_rules_scope_known CHECK (scope IN ('ORDER', 'WITHDRAWAL')),
    CONSTRAINT risk_rules_action_known CHECK (action IN ('REJECT', 'FLAG', 'REVIEW', 'SUSPEND_USER'))
);
COMMENT ON TABLE exchange.risk_rules IS
    'Risk rules: type, JSON conditions and actions (validated per type), level, priority (lower first), active flag; scope..window_seconds are derived by tg_risk_rules__validate.';
-- The hot path reads the active rules of one scope in priority order.
CREATE INDEX risk_rules_active_scope_idx ON exchange.risk_rules (scope, priority, id) WHERE is_active;
CREATE TRIGGER tg_risk_rules__set_updated_at BEFORE UPDATE ON exchange.risk_rules
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_set_updated_at();
\ir ../../functions/risk/tg_risk_rules__validate.sql
CREATE TRIGGER tg_risk_rules__validate BEFORE INSERT OR UPDATE ON exchange.risk_rules
    FOR EACH ROW EXECUTE FUNCTION exchange.tg_risk_rules__validate();

CREATE TABLE exchange.risk_events (
    id              bigint GENERATED ALWAYS AS IDENTITY,
    user_id         bigint,
    rule_id         integer,
    type            varchar(50) NOT NULL,
    level           exchange.risk_level NOT NULL,
    action          text NOT NULL,
    details         jsonb NOT NULL,
    -- what the event is about, when it outlived the call (a withdrawal held for REVIEW or
    -- flagged); NULL for a rejected call, which left nothing behind but the event
    reference_type  text,
    reference_id    bigint,
    status          exchange.risk_event_status NOT NULL DEFAULT 'ACTIVE',
    resolution_note text,
    resolved_by     bigint,
    resolved_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT risk_events_pkey PRIMARY KEY (id),
    CONSTRAINT risk_events_user_fkey FOREIGN KEY (user_id) REFERENCES exchange.users (id),
    CONSTRAINT risk_events_rule_fkey FOREIGN KEY (rule_id) REFERENCES exchange.risk_rules (id),
    CONSTRAINT risk_events_resolved_by_fkey FOREIGN KEY (resolved_by) REFERENCES exchange.users (id),
    CONSTRAINT risk_events_action_known CHECK (action IN ('REJECT', 'FLAG', 'REVIEW', 'SUSPEND_USER')),
    CONSTRAINT risk_events_reference_type_format CHECK (reference_type ~ '^[A-Z][A-Z_]*$'),
    CONSTRAINT risk_events_resolution_consistent
        CHECK ((status = 'ACTIVE') = (resolved_at IS NULL))
);
COMMENT ON TABLE exchange.risk_events IS
    'One row per risk rule hit: user, rule, type, level, action taken, details; ACTIVE until resolved or dismissed.';
CREATE INDEX risk_events_user_created_at_idx ON exchange.risk_events (user_id, created_at DESC);
CREATE INDEX risk_events_status_level_idx ON exchange.risk_events (status, level);
CREATE INDEX risk_events_rule_idx ON exchange.risk_events (rule_id);
CREATE INDEX risk_events_reference_idx ON exchange.risk_events (reference_type, reference_id)
    WHERE reference_type IS NOT NULL;

-- ORDER_RATE counters: one row per user and window length, a fixed window (aligned on the
-- epoch) and the count of the window before it. The estimate of the orders in the last
-- window_seconds is count + prev_count x (the share of the previous window still inside
-- it): O(1) per order, no scan of order history. UNLOGGED and without a foreign key: it is
-- written by every order of a user while ORDER_RATE rules exist, so it writes no WAL and
-- locks no users row; after a crash (or on a promoted standby) the counters start from zero,
-- which at worst lets one window's worth of orders through unchecked. The counts are never
-- negative by their domain: a table CHECK would be parsed and planned again by every order's
-- upsert, a domain's check is prepared once per session.
CREATE DOMAIN exchange.order_count AS integer
    CONSTRAINT order_count_nonnegative CHECK (VALUE >= 0);
CREATE UNLOGGED TABLE exchange.risk_order_rate (
    user_id        bigint NOT NULL,
    window_seconds integer NOT NULL,
    window_start   timestamptz NOT NULL,
    count          exchange.order_count NOT NULL,
    prev_count     exchange.order_count NOT NULL DEFAULT 0,
    CONSTRAINT risk_order_rate_pkey PRIMARY KEY (user_id, window_seconds)
);
COMMENT ON TABLE exchange.risk_order_rate IS
    'ORDER_RATE counters per user and window length (current fixed window and the previous one).';

-- Settings of the risk engine (one row). How a refused call reaches the database again to
-- record its risk events in a transaction of their own (dblink): loopback_conninfo, or when
-- it is NULL host loopback_host (set by the risk_engine migration to the server's first
-- unix socket directory), this server's port, this database, role exchange_risk_writer with
-- password loopback_password (set by the risk_engine migration; docs/security.md). Readable
-- by exchange_owner only, like every table.
CREATE TABLE exchange.risk_settings (
    id                boolean NOT NULL DEFAULT true,
    loopback_host     text,
    loopback_conninfo text,
    loopback_password text,
    CONSTRAINT risk_settings_pkey PRIMARY KEY (id),
    CONSTRAINT risk_settings_one_row CHECK (id)
);
INSERT INTO exchange.risk_settings DEFAULT VALUES;

-- The active order rules that apply to one market, folded for the hot path by
-- exchange._load_order_risk: each threshold is the strictest of its type (NULL: no rule of
-- the type), so an order that passes them all hits no rule and costs a few comparisons.
CREATE TYPE exchange.order_risk_limits AS (
    trading_pair_id integer,
    any_rule        boolean,
    max_notional    numeric,
    max_band_pct    numeric,
    max_open_orders integer,
    rate_windows    integer[],
    rate_max        integer[]
);
COMMENT ON TYPE exchange.order_risk_limits IS
    'The strictest active order-rule thresholds of one market (exchange._load_order_risk), read once per market per place_orders call.';

-- The folded thresholds per market, kept by the statement triggers
-- tg_risk_rules__refresh_order_limits (on risk_rules and trading_pairs) so that place_orders
-- reads one row by primary key per market per call; a market without a row has no order rule.
CREATE TABLE exchange.risk_order_limits (
    trading_pair_id integer NOT NULL,
    limits          exchange.order_risk_limits NOT NULL,
    CONSTRAINT risk_order_limits_pkey PRIMARY KEY (trading_pair_id),
    CONSTRAINT risk_order_limits_trading_pair_fkey FOREIGN KEY (trading_pair_id)
        REFERENCES exchange.trading_pairs (id)
);
COMMENT ON TABLE exchange.risk_order_limits IS
    'Cache: the strictest active order-rule thresholds per market (a row only where a rule applies); rebuilt whenever risk_rules or trading_pairs change.';

COMMIT;
