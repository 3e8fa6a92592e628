-- exchange.mark_outbox_events_published(p_ids bigint[]) RETURNS integer
-- For the relay, after the broker acknowledged the events: marks them PUBLISHED at the
-- moment of marking (clock_timestamp(), not the transaction start; attempts
-- counts this successful attempt too). Events not PENDING are left alone. Returns the number
-- marked. Raises: nothing. Locks: the rows updated.
-- Access: exchange_worker (the outbox relay) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.mark_outbox_events_published(p_ids bigint[])
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    WITH done AS (
        UPDATE exchange.outbox_events
           SET status = 'PUBLISHED', published_at = clock_timestamp(), attempts = attempts + 1,
               last_error = NULL
         -- "not PUBLISHED nor FAILED" is PENDING, written so that the planner takes the
         -- primary key, not a partial index on PENDING that stale statistics make look tiny
         WHERE id = ANY (p_ids) AND status <> 'PUBLISHED' AND status <> 'FAILED'
        RETURNING 1
    )
    SELECT count(*)::integer FROM done;
$$;
COMMENT ON FUNCTION exchange.mark_outbox_events_published(bigint[]) IS
    'Relay: marks events PUBLISHED after the broker acknowledged them.';
REVOKE ALL ON FUNCTION exchange.mark_outbox_events_published(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.mark_outbox_events_published(bigint[]) TO exchange_worker;
