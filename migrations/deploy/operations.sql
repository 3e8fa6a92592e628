-- Deploy pyexchange:operations to pg
-- requires: partition_maintenance relay identity ledger trading notifications_api
-- Operating the exchange (docs/operations.md): the statistics extensions where the server has
-- them, the maintenance settings (partition horizon, retention per table, pruning, reindex
-- threshold), the size history that maintenance samples, the monitoring functions (readable
-- by exchange_readonly and exchange_auditor) and exchange.run_maintenance().
BEGIN;

-- The statistics the monitoring functions read. exchange_owner (whose rights the SECURITY
-- DEFINER monitoring functions run with) may read every session's and statement's figures
-- (pg_read_all_stats), scan relations for bloat (pg_stat_scan_tables) and read settings.
-- Granting it takes a superuser; a migration run by a member of exchange_owner says so.
DO $$
BEGIN
    IF pg_has_role('exchange_owner', 'pg_monitor', 'MEMBER') THEN
        RETURN;
    ELSIF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        GRANT pg_monitor TO exchange_owner;
    ELSE
        RAISE WARNING 'exchange_owner is not a member of pg_monitor: the monitoring functions will not see other roles'' sessions and statements'
            USING HINT = 'As a superuser: GRANT pg_monitor TO exchange_owner;';
    END IF;
END
$$;

-- The extensions live in their own schema, usable by exchange_owner only. pg_stat_statements
-- is created where the server has it (its figures need shared_preload_libraries, which the
-- embedded server sets; the monitoring functions check); pgstattuple measures bloat.
CREATE SCHEMA IF NOT EXISTS exchange_monitor;
REVOKE ALL ON SCHEMA exchange_monitor FROM PUBLIC;
GRANT USAGE ON SCHEMA exchange_monitor TO exchange_owner;
DO $$
DECLARE
    v_ext text;
BEGIN
    FOREACH v_ext IN ARRAY ARRAY['pg_stat_statements', 'pgstattuple'] LOOP
        IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = v_ext)
           AND NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = v_ext) THEN
            EXECUTE format('CREATE EXTENSION %I SCHEMA exchange_monitor', v_ext);
        END IF;
    END LOOP;
END
$$;

-- One row: what exchange.run_maintenance() does. Retention is in months per partitioned
-- table (NULL keeps everything); the audit log is kept far longer than orders by default.
CREATE TABLE exchange.maintenance_settings (
    singleton                 boolean NOT NULL DEFAULT true,
    months_ahead              integer NOT NULL DEFAULT 3,
    keep_orders_months        integer DEFAULT 24,
    keep_trades_months        integer DEFAULT 24,
    keep_klines_months        integer DEFAULT 36,
    keep_notifications_months integer DEFAULT 6,
    keep_audit_logs_months    integer DEFAULT 84,
    outbox_keep               interval NOT NULL DEFAULT interval '7 days',
    kyc_usage_keep_days       integer NOT NULL DEFAULT 7,
    size_history_keep         interval NOT NULL DEFAULT interval '400 days',
    reindex_bloat_ratio       numeric NOT NULL DEFAULT 0.5,
    reindex_min_bytes         bigint NOT NULL DEFAULT 8 * 1024 * 1024,
    slow_statement_ms         double precision NOT NULL DEFAULT 100,
    CONSTRAINT maintenance_settings_pkey PRIMARY KEY (singleton),
    CONSTRAINT maintenance_settings_singleton CHECK (singleton),
    CONSTRAINT maintenance_settings_months_ahead_range CHECK (months_ahead BETWEEN 1 AND 120),
    CONSTRAINT maintenance_settings_keep_range CHECK (
        coalesce(keep_orders_months, 0) BETWEEN 0 AND 1200
        AND coalesce(keep_trades_months, 0) BETWEEN 0 AND 1200
        AND coalesce(keep_klines_months, 0) BETWEEN 0 AND 1200
        AND coalesce(keep_notifications_months, 0) BETWEEN 0 AND 1200
        AND coalesce(keep_audit_logs_months, 0) BETWEEN 0 AND 1200),
    -- trades reference orders: an orders month cannot go while its trades are kept
    CONSTRAINT maintenance_settings_orders_outlive_trades CHECK (
        keep_orders_months IS NULL
        OR (keep_trades_months IS NOT NULL AND keep_trades_months <= keep_orders_months)),
    CONSTRAINT maintenance_settings_keeps_positive CHECK (
        outbox_keep >= interval '0' AND kyc_usage_keep_days >= 1
        AND size_history_keep >= interval '1 day'),
    CONSTRAINT maintenance_settings_reindex_range CHECK (
        reindex_bloat_ratio > 0 AND reindex_bloat_ratio < 1 AND reindex_min_bytes >= 0),
    CONSTRAINT maintenance_settings_slow_positive CHECK (slow_statement_ms > 0)
);
COMMENT ON TABLE exchange.maintenance_settings IS
    'One row: partitions kept ahead, retention per partitioned table (months, NULL = forever), outbox/KYC-usage/size-history pruning, the bloat that triggers a REINDEX, the mean time that makes a statement slow (docs/operations.md).';
INSERT INTO exchange.maintenance_settings DEFAULT VALUES;

-- Database, table and index sizes over time, one sample per maintenance run.
CREATE TABLE exchange.size_history (
    sampled_at  timestamptz NOT NULL,
    object_kind text NOT NULL,
    object_name text NOT NULL,
    bytes       bigint NOT NULL,
    CONSTRAINT size_history_pkey PRIMARY KEY (object_kind, object_name, sampled_at),
    CONSTRAINT size_history_kind CHECK (object_kind IN ('database', 'table', 'index'))
);
COMMENT ON TABLE exchange.size_history IS
    'Sizes sampled by exchange.run_maintenance(): the database, each table (partitioned tables with their partitions, total with indexes and TOAST) and each index.';
CREATE INDEX size_history_sampled_at_idx ON exchange.size_history (sampled_at);

-- The business rates (orders, trades, withdrawals per minute) read the last minutes by
-- created_at: BRIN indexes cost almost nothing to keep (the rows arrive in time order).
CREATE INDEX orders_created_at_brin_idx ON exchange.orders USING brin (created_at);
CREATE INDEX trades_created_at_brin_idx ON exchange.trades USING brin (created_at);
CREATE INDEX withdrawals_created_at_brin_idx ON exchange.withdrawals USING brin (created_at);

\ir ../../functions/operations/_partition_horizon.sql
\ir ../../functions/operations/_record_size_sample.sql
\ir ../../functions/operations/monitor_overview.sql
\ir ../../functions/operations/monitor_connections.sql
\ir ../../functions/operations/monitor_slow_statements.sql
\ir ../../functions/operations/monitor_table_sizes.sql
\ir ../../functions/operations/monitor_index_usage.sql
\ir ../../functions/operations/monitor_bloat.sql
\ir ../../functions/operations/monitor_activity.sql
\ir ../../functions/operations/monitor_replication.sql
\ir ../../functions/operations/monitor_reconcile.sql
\ir ../../functions/operations/run_maintenance.sql

COMMIT;
