-- exchange.claim_outbox_events(p_limit integer DEFAULT 200) RETURNS SETOF exchange.outbox_events
-- For the relay: claims up to p_limit pending events, in id order, for publishing. The locks
-- last until the caller's transaction ends: the relay publishes the events, marks them
-- (exchange.mark_outbox_events_published / exchange.record_outbox_failures) and commits in
-- that same transaction; if it dies first, the locks vanish and the events are PENDING again.
-- Order per aggregate with several relays: a relay claims an aggregate by locking its head,
-- the oldest pending event of that aggregate (FOR UPDATE SKIP LOCKED: another relay holding
-- it is skipped, not waited for), and only then takes the head's followers (the later
-- pending events of the same aggregate). An event whose earlier sibling is still pending is
-- never a head, so two relays cannot split one aggregate. A head whose retry is not due yet
-- (next_attempt_at) holds its whole aggregate back.
-- Raises: EX001 (p_limit not in 1..10000). Locks: the returned rows (FOR UPDATE).
CREATE OR REPLACE FUNCTION exchange.claim_outbox_events(p_limit integer DEFAULT 200)
RETURNS SETOF exchange.outbox_events
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid batch size',
            DETAIL = format('p_limit = %s', p_limit), HINT = 'Claim between 1 and 10000 events.';
    END IF;
    RETURN QUERY
    WITH heads AS (
        SELECT e.id, e.aggregate_type, e.aggregate_id
          FROM exchange.outbox_events e
         WHERE e.status = 'PENDING'
           AND e.next_attempt_at <= now()
           AND NOT EXISTS (SELECT 1 FROM exchange.outbox_events p
                            WHERE p.status = 'PENDING'
                              AND p.aggregate_type = e.aggregate_type
                              AND p.aggregate_id = e.aggregate_id
                              AND p.id < e.id)
         ORDER BY e.id
         LIMIT p_limit
           FOR UPDATE OF e SKIP LOCKED
    )
    SELECT f.*
      FROM exchange.outbox_events f
      JOIN heads h ON h.aggregate_type = f.aggregate_type AND h.aggregate_id = f.aggregate_id
     WHERE f.status = 'PENDING' AND f.id >= h.id
     ORDER BY f.id
     LIMIT p_limit
       FOR UPDATE OF f;
END
$$;
COMMENT ON FUNCTION exchange.claim_outbox_events(integer) IS
    'Relay: claims up to p_limit pending events in id order, whole aggregates at a time (their oldest pending event locked with SKIP LOCKED), for the caller''s transaction. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.claim_outbox_events(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.claim_outbox_events(integer) TO exchange_app;
