-- exchange.monitor_connections()
-- The server's client connections by database, login role and state (active, idle, idle in
-- transaction, ...), with how many wait on a lock and the oldest transaction's age in
-- seconds. Every database of the server is listed: max_connections is shared.
-- Raises: nothing. Locks: none.
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app. Runs as exchange_owner, a member of pg_monitor.
CREATE OR REPLACE FUNCTION exchange.monitor_connections()
RETURNS TABLE (database_name text, role_name text, state text, connections integer,
               waiting_on_lock integer, oldest_transaction_seconds double precision)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT a.datname::text, a.usename::text, coalesce(a.state, 'unknown'),
           count(*)::integer,
           (count(*) FILTER (WHERE a.wait_event_type = 'Lock'))::integer,
           max(extract(epoch FROM now() - a.xact_start))::double precision
      FROM pg_stat_activity a
     WHERE a.backend_type = 'client backend'
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3;
$$;
COMMENT ON FUNCTION exchange.monitor_connections() IS
    'Client connections of the server by database, role and state, with lock waits and the oldest transaction''s age.';
REVOKE ALL ON FUNCTION exchange.monitor_connections() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_connections() TO exchange_readonly, exchange_auditor;
