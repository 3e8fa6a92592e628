-- exchange.monitor_replication()
-- On a primary: one row per standby streaming from it (application name, client address,
-- state, sync state), with its lag in bytes of WAL not yet replayed and the write, flush and
-- replay lags in seconds. On a standby: one row (role 'standby') with the age in seconds of
-- the last transaction replayed (grows while the primary is idle too) and the bytes received
-- but not yet replayed. No row on a primary without standbys.
-- Raises: nothing. Locks: none.
-- Access: exchange_readonly and exchange_auditor (and superusers, members of exchange_owner);
--         not exchange_app. Runs as exchange_owner, a member of pg_monitor.
CREATE OR REPLACE FUNCTION exchange.monitor_replication()
RETURNS TABLE (role text, application_name text, client_addr text, state text,
               sync_state text, lag_bytes bigint, write_lag_seconds double precision,
               flush_lag_seconds double precision, replay_lag_seconds double precision)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_is_in_recovery() THEN
        RETURN QUERY
        SELECT 'standby', NULL::text, NULL::text, 'replaying', NULL::text,
               pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint,
               NULL::double precision, NULL::double precision,
               extract(epoch FROM now() - pg_last_xact_replay_timestamp())::double precision;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'primary', r.application_name, r.client_addr::text, r.state, r.sync_state,
           pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint,
           extract(epoch FROM r.write_lag)::double precision,
           extract(epoch FROM r.flush_lag)::double precision,
           extract(epoch FROM r.replay_lag)::double precision
      FROM pg_stat_replication r
     ORDER BY r.application_name;
END;
$$;
COMMENT ON FUNCTION exchange.monitor_replication() IS
    'Replication lag: per standby on a primary (bytes and seconds), or this standby''s replay delay.';
REVOKE ALL ON FUNCTION exchange.monitor_replication() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.monitor_replication() TO exchange_readonly, exchange_auditor;
