-- exchange.outbox_stats() RETURNS TABLE (status, events, oldest, next_attempt_at)
-- The outbox at a glance: events per status, the oldest one's creation time, and for
-- PENDING the earliest time one is due (the relay sleeps at most until then).
-- Raises: nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange.outbox_stats()
RETURNS TABLE (status exchange.outbox_status, events bigint, oldest timestamptz,
               next_attempt_at timestamptz)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT s.status, count(e.id), min(e.created_at),
           CASE WHEN s.status = 'PENDING' THEN min(e.next_attempt_at) END
      FROM unnest(enum_range(NULL::exchange.outbox_status)) AS s(status)
      LEFT JOIN exchange.outbox_events e ON e.status = s.status
     GROUP BY s.status
     ORDER BY s.status;
$$;
COMMENT ON FUNCTION exchange.outbox_stats() IS
    'Outbox events per status, the oldest, and the earliest due retry.';
REVOKE ALL ON FUNCTION exchange.outbox_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.outbox_stats() TO exchange_app, exchange_worker;
