-- exchange.monitor_overview(p_window interval DEFAULT '5 minutes')
-- The exchange's health in one row, for the dashboard (pyexchange monitor), the Prometheus
-- exporter (pyexchange metrics) and alerting (docs/operations.md):
--   database: size, cache hit ratio (shared buffers, since the statistics were reset),
--     commits, rollbacks, deadlocks;
--   sessions of this database: client connections (total, active, idle in transaction),
--     the server's max_connections, the longest open transaction, sessions waiting on a lock;
--   statements: whether pg_stat_statements is usable (created and preloaded), and how many
--     of this database's statements have a mean time at or above
--     maintenance_settings.slow_statement_ms (NULL when not tracked);
--   replication: standbys streaming from this server and the largest replay lag (seconds,
--     bytes); on a standby, the age of the last replayed transaction;
--   the exchange: outbox events PENDING and FAILED and the age of the oldest PENDING one (the
--     relay's lag), PENDING notifications and the oldest one's age, the partition horizon
--     (months after this one that every partitioned table covers; -1: this month missing),
--     orders, trades, deposits and withdrawals per minute over p_window, the users' failed
--     login attempts not yet reset and the users locked now.
-- Raises: EX001 (p_window NULL or not positive).
-- Locks: none (ACCESS SHARE reads; the rates use BRIN indexes on created_at).
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app. Runs as exchange_owner, a member of pg_monitor.
CREATE OR REPLACE FUNCTION exchange.monitor_overview(p_window interval DEFAULT interval '5 minutes')
RETURNS TABLE (sampled_at timestamptz, database_name text, database_bytes bigint,
               cache_hit_ratio double precision, xact_commit bigint, xact_rollback bigint,
               deadlocks bigint, connections integer, connections_active integer,
               connections_idle_in_transaction integer, max_connections integer,
               longest_transaction_seconds double precision, lock_waits integer,
               statements_tracked boolean, slow_statements integer, standbys integer,
               replication_lag_seconds double precision, replication_lag_bytes bigint,
               outbox_pending bigint, outbox_failed bigint,
               outbox_oldest_pending_seconds double precision, notifications_pending bigint,
               notifications_oldest_pending_seconds double precision,
               partition_horizon_months integer, orders_per_minute double precision,
               trades_per_minute double precision, deposits_per_minute double precision,
               withdrawals_per_minute double precision, failed_login_attempts bigint,
               locked_users bigint)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_since   timestamptz;
    v_minutes double precision;
    v_slow_ms double precision;
BEGIN
    IF p_window IS NULL OR p_window <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid window',
            DETAIL = format('p_window = %s', p_window), HINT = 'Give a positive interval, e.g. ''5 minutes''.';
    END IF;
    v_since := now() - p_window;
    v_minutes := extract(epoch FROM p_window) / 60.0;
    SELECT s.slow_statement_ms INTO v_slow_ms FROM exchange.maintenance_settings s;

    sampled_at := now();
    database_name := current_database();
    database_bytes := pg_database_size(current_database());
    SELECT CASE WHEN d.blks_hit + d.blks_read > 0
                THEN d.blks_hit::double precision / (d.blks_hit + d.blks_read) END,
           d.xact_commit, d.xact_rollback, d.deadlocks
      INTO cache_hit_ratio, xact_commit, xact_rollback, deadlocks
      FROM pg_stat_database d WHERE d.datname = current_database();

    SELECT count(*), count(*) FILTER (WHERE a.state = 'active'),
           count(*) FILTER (WHERE a.state LIKE 'idle in transaction%'),
           coalesce(max(extract(epoch FROM now() - a.xact_start)), 0),
           count(*) FILTER (WHERE a.wait_event_type = 'Lock')
      INTO connections, connections_active, connections_idle_in_transaction,
           longest_transaction_seconds, lock_waits
      FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.backend_type = 'client backend';
    max_connections := current_setting('max_connections')::integer;

    statements_tracked := false;
    slow_statements := NULL;
    BEGIN
        EXECUTE 'SELECT count(*) FILTER (WHERE s.mean_exec_time >= $1)
                   FROM exchange_monitor.pg_stat_statements s
                  WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database
                                   WHERE datname = current_database())'
           INTO slow_statements USING v_slow_ms;
        statements_tracked := true;
    EXCEPTION
        -- absent (undefined_table, invalid_schema_name) or not preloaded (55000)
        WHEN undefined_table OR invalid_schema_name OR object_not_in_prerequisite_state THEN
            slow_statements := NULL;
    END;

    IF pg_is_in_recovery() THEN
        standbys := 0;
        replication_lag_seconds := extract(epoch FROM now() - pg_last_xact_replay_timestamp());
        replication_lag_bytes := NULL;
    ELSE
        SELECT count(*), max(extract(epoch FROM r.replay_lag)),
               max(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn))::bigint
          INTO standbys, replication_lag_seconds, replication_lag_bytes
          FROM pg_stat_replication r;
    END IF;

    SELECT count(*) FILTER (WHERE e.status = 'PENDING'), count(*) FILTER (WHERE e.status = 'FAILED'),
           coalesce(extract(epoch FROM now() - min(e.created_at) FILTER (WHERE e.status = 'PENDING')), 0)
      INTO outbox_pending, outbox_failed, outbox_oldest_pending_seconds
      FROM exchange.outbox_events e
     WHERE e.status IN ('PENDING', 'FAILED');

    SELECT count(*), coalesce(extract(epoch FROM now() - min(n.created_at)), 0)
      INTO notifications_pending, notifications_oldest_pending_seconds
      FROM exchange.notifications n
     WHERE n.status = 'PENDING';

    partition_horizon_months := exchange._partition_horizon();

    SELECT count(*) / v_minutes INTO orders_per_minute
      FROM exchange.orders o WHERE o.created_at >= v_since;
    SELECT count(*) / v_minutes INTO trades_per_minute
      FROM exchange.trades t WHERE t.created_at >= v_since;
    SELECT count(*) / v_minutes INTO deposits_per_minute
      FROM exchange.journal j WHERE j.created_at >= v_since AND j.type = 'DEPOSIT';
    SELECT count(*) / v_minutes INTO withdrawals_per_minute
      FROM exchange.withdrawals w WHERE w.created_at >= v_since;

    SELECT coalesce(sum(u.failed_login_attempts), 0),
           count(*) FILTER (WHERE u.locked_until > now())
      INTO failed_login_attempts, locked_users
      FROM exchange.users u
     WHERE u.failed_login_attempts > 0 OR u.locked_until > now();
    RETURN NEXT;
END;
$$;
COMMENT ON FUNCTION exchange.monitor_overview(interval) IS
    'The exchange''s health in one row: cache hit ratio, connections, long transactions, lock waits, slow statements, replication lag, outbox and notification backlogs, partition horizon, business rates, failed logins. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.monitor_overview(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_overview(interval) TO exchange_readonly, exchange_auditor;
