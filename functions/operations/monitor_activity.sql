-- exchange.monitor_activity(p_min_seconds double precision DEFAULT 5)
-- Long transactions and lock waits in this database: every client session whose
-- transaction has been open at least p_min_seconds, or that waits on a lock, with its login
-- role, application, state, transaction and statement ages in seconds, what it waits on,
-- the sessions blocking it (pg_blocking_pids) and its statement's first 200 characters.
-- Oldest transaction first.
-- Raises: EX001 (p_min_seconds NULL or negative). Locks: none.
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app. Runs as exchange_owner, a member of pg_monitor.
CREATE OR REPLACE FUNCTION exchange.monitor_activity(p_min_seconds double precision DEFAULT 5)
RETURNS TABLE (pid integer, role_name text, application_name text, state text,
               transaction_seconds double precision, statement_seconds double precision,
               wait_event_type text, wait_event text, blocked_by integer[], query text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF p_min_seconds IS NULL OR p_min_seconds < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid age',
            DETAIL = format('p_min_seconds = %s', p_min_seconds), HINT = 'Give 0 or more seconds.';
    END IF;
    RETURN QUERY
    SELECT a.pid, a.usename::text, a.application_name, a.state,
           extract(epoch FROM now() - a.xact_start)::double precision,
           extract(epoch FROM now() - a.query_start)::double precision,
           a.wait_event_type, a.wait_event, pg_blocking_pids(a.pid), left(a.query, 200)
      FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.backend_type = 'client backend'
       AND a.pid <> pg_backend_pid()
       AND (a.xact_start <= now() - make_interval(secs => p_min_seconds)
            OR a.wait_event_type = 'Lock')
     ORDER BY a.xact_start NULLS LAST, a.pid;
END;
$$;
COMMENT ON FUNCTION exchange.monitor_activity(double precision) IS
    'Sessions of this database with a transaction open at least p_min_seconds or waiting on a lock, with what blocks them. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.monitor_activity(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_activity(double precision) TO exchange_readonly, exchange_auditor;
