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
-- Cost: heads are looked for among the oldest max(2 * p_limit, 200) pending events; only
-- when that window holds too few does it skip-scan the pending events' aggregates (one
-- index probe per aggregate), never a pass over every pending event.
-- Raises: EX001 (p_limit not in 1..10000). Locks: the returned rows (FOR UPDATE).
-- Access: exchange_worker (the outbox relay) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.claim_outbox_events(p_limit integer DEFAULT 200)
RETURNS SETOF exchange.outbox_events
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
-- Every query here walks an index in order and stops early; right after a bulk of inserts
-- (statistics not yet refreshed) the planner would rather bitmap-scan and sort them all.
SET enable_bitmapscan = off
AS $$
DECLARE
    v_window integer;  -- set once p_limit is known to be in range (2 * p_limit may overflow)
    v_heads bigint[];
    v_locked bigint[];
    v_ids bigint[];
BEGIN
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid batch size',
            DETAIL = format('p_limit = %s', p_limit), HINT = 'Claim between 1 and 10000 events.';
    END IF;
    v_window := greatest(2 * p_limit, 200);

    -- 1. Candidate heads. Fast path: the window of the oldest v_window pending events holds,
    --    for every aggregate in it, that aggregate's oldest pending event (nothing pending
    --    is older than the window), so its first event per aggregate there is the head: no
    --    index probe per row, cost bounded by the window however long the backlog.
    SELECT array_agg(h.id ORDER BY h.id) INTO v_heads
      FROM (SELECT DISTINCT ON (w.aggregate_type, w.aggregate_id) w.id, w.next_attempt_at
              FROM (SELECT e.id, e.aggregate_type, e.aggregate_id, e.next_attempt_at
                      FROM exchange.outbox_events e
                     WHERE e.status = 'PENDING'
                     ORDER BY e.id
                     LIMIT v_window) w
             ORDER BY w.aggregate_type, w.aggregate_id, w.id) h
     WHERE h.next_attempt_at <= now();
    -- Slow path, when the window held fewer heads than wanted (a few aggregates with long
    -- backlogs, or aggregates held back by a retry): the oldest pending event of each
    -- aggregate, by a skip scan of the pending (aggregate, id) index (one probe per
    -- aggregate, at most v_window * 10 aggregates, in aggregate order).
    IF coalesce(cardinality(v_heads), 0) < p_limit
       AND (SELECT count(*) FROM (SELECT 1 FROM exchange.outbox_events e
                                   WHERE e.status = 'PENDING' LIMIT v_window + 1) c) > v_window THEN
        WITH RECURSIVE agg AS (
            (SELECT e.aggregate_type, e.aggregate_id, e.id, 1 AS n
               FROM exchange.outbox_events e
              WHERE e.status = 'PENDING'
              ORDER BY e.aggregate_type, e.aggregate_id, e.id
              LIMIT 1)
            UNION ALL
            SELECT nx.aggregate_type, nx.aggregate_id, nx.id, a.n + 1
              FROM agg a
             CROSS JOIN LATERAL (
                   SELECT e.aggregate_type, e.aggregate_id, e.id
                     FROM exchange.outbox_events e
                    WHERE e.status = 'PENDING'
                      AND (e.aggregate_type, e.aggregate_id) > (a.aggregate_type, a.aggregate_id)
                    ORDER BY e.aggregate_type, e.aggregate_id, e.id
                    LIMIT 1) nx
             WHERE a.n < v_window * 10
        )
        SELECT array_agg(a.id ORDER BY a.id) INTO v_heads
          FROM agg a
          JOIN exchange.outbox_events e ON e.id = a.id
         WHERE e.next_attempt_at <= now();
    END IF;
    IF v_heads IS NULL THEN
        RETURN;
    END IF;

    -- 2. Claim aggregates: lock their heads, skipping those another relay holds. The status
    --    is re-checked on the locked row (a head published meanwhile drops out).
    SELECT array_agg(l.id ORDER BY l.id) INTO v_locked
      FROM (SELECT e.id FROM exchange.outbox_events e
             -- PENDING, written so that the primary key is used (see mark_outbox_events_published)
             WHERE e.id = ANY (v_heads) AND e.status <> 'PUBLISHED' AND e.status <> 'FAILED'
             ORDER BY e.id
             LIMIT p_limit
               FOR UPDATE SKIP LOCKED) l;
    IF v_locked IS NULL THEN
        RETURN;
    END IF;

    -- 3. The claimed aggregates' pending events, oldest first, up to p_limit in all.
    SELECT array_agg(x.id) INTO v_ids
      FROM (SELECT f.id
              FROM exchange.outbox_events h
             CROSS JOIN LATERAL (
                   SELECT f.id FROM exchange.outbox_events f
                    WHERE f.status = 'PENDING'
                      AND f.aggregate_type = h.aggregate_type
                      AND f.aggregate_id = h.aggregate_id
                      AND f.id >= h.id
                    ORDER BY f.id
                    LIMIT p_limit) f
             WHERE h.id = ANY (v_locked)
             ORDER BY f.id
             LIMIT p_limit) x;

    -- (No status filter: nobody else may change these rows while we hold their heads.)
    RETURN QUERY
    SELECT e.* FROM exchange.outbox_events e
     WHERE e.id = ANY (v_ids)
     ORDER BY e.id
       FOR UPDATE;
END
$$;
COMMENT ON FUNCTION exchange.claim_outbox_events(integer) IS
    'Relay: claims up to p_limit pending events in id order, whole aggregates at a time (their oldest pending event locked with SKIP LOCKED), for the caller''s transaction. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.claim_outbox_events(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.claim_outbox_events(integer) TO exchange_worker;
