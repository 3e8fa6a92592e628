-- exchange.monitor_slow_statements(p_limit int DEFAULT 20, p_min_mean_ms double precision DEFAULT NULL)
-- This database's slowest statements by mean execution time, from pg_stat_statements
-- (normalised texts: constants become $n, so no parameter value is shown): the statement
-- (first 500 characters), its role, calls, total, mean and max time in ms, rows, and its
-- shared-buffer hit ratio. Only statements whose mean is at least p_min_mean_ms (NULL:
-- maintenance_settings.slow_statement_ms) are listed. Returns no row when
-- pg_stat_statements is not usable (not installed, or not in shared_preload_libraries):
-- monitor_overview().statements_tracked says which.
-- Raises: EX001 (p_limit outside 1..1000, p_min_mean_ms negative). Locks: none.
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app. Runs as exchange_owner, a member of pg_monitor.
CREATE OR REPLACE FUNCTION exchange.monitor_slow_statements(
    p_limit integer DEFAULT 20,
    p_min_mean_ms double precision DEFAULT NULL
)
RETURNS TABLE (query text, role_name text, calls bigint, total_ms double precision,
               mean_ms double precision, max_ms double precision, rows bigint,
               cache_hit_ratio double precision)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_min double precision := p_min_mean_ms;
BEGIN
    IF p_limit IS NULL OR p_limit NOT BETWEEN 1 AND 1000 OR p_min_mean_ms < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid slow-statement query',
            DETAIL = format('p_limit = %s, p_min_mean_ms = %s', p_limit, p_min_mean_ms),
            HINT = 'p_limit is 1 to 1000 and p_min_mean_ms not negative.';
    END IF;
    IF v_min IS NULL THEN
        SELECT s.slow_statement_ms INTO v_min FROM exchange.maintenance_settings s;
    END IF;
    BEGIN
        RETURN QUERY EXECUTE
            'SELECT left(s.query, 500), s.userid::regrole::text, s.calls,
                    s.total_exec_time, s.mean_exec_time, s.max_exec_time, s.rows,
                    CASE WHEN s.shared_blks_hit + s.shared_blks_read > 0
                         THEN s.shared_blks_hit::double precision
                              / (s.shared_blks_hit + s.shared_blks_read) END
               FROM exchange_monitor.pg_stat_statements s
              WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                AND s.mean_exec_time >= $1
              ORDER BY s.mean_exec_time DESC
              LIMIT $2'
            USING v_min, p_limit;
    EXCEPTION
        WHEN undefined_table OR invalid_schema_name OR object_not_in_prerequisite_state THEN
            RETURN;
    END;
END;
$$;
COMMENT ON FUNCTION exchange.monitor_slow_statements(integer, double precision) IS
    'This database''s slowest statements by mean time (pg_stat_statements, when usable); none otherwise. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.monitor_slow_statements(integer, double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_slow_statements(integer, double precision)
    TO exchange_readonly, exchange_auditor;
