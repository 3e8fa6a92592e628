-- exchange.prune_outbox_events(p_older_than interval, p_include_failed boolean DEFAULT true)
-- RETURNS TABLE (status exchange.outbox_status, deleted bigint)
-- Deletes PUBLISHED (and, unless p_include_failed is false, FAILED) events created more than
-- p_older_than ago. PENDING events are never pruned. Returns the count deleted per status.
-- Raises: EX001 (p_older_than negative, over 100 years, or NULL). Locks: the rows deleted.
-- Access: exchange_worker (the outbox relay) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.prune_outbox_events(
    p_older_than interval,
    p_include_failed boolean DEFAULT true
)
RETURNS TABLE (status exchange.outbox_status, deleted bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    IF p_older_than IS NULL OR p_older_than < interval '0' OR p_older_than > interval '100 years' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid age',
            DETAIL = format('p_older_than = %s', p_older_than), HINT = 'Give an interval from 0 to 100 years, e.g. ''7 days''.';
    END IF;
    RETURN QUERY
    WITH gone AS (
        DELETE FROM exchange.outbox_events e
         WHERE e.status <> 'PENDING'
           AND (p_include_failed OR e.status = 'PUBLISHED')
           AND e.created_at < now() - p_older_than
        RETURNING e.status
    )
    SELECT g.status, count(*) FROM gone g GROUP BY g.status ORDER BY g.status;
END
$$;
COMMENT ON FUNCTION exchange.prune_outbox_events(interval, boolean) IS
    'Deletes published (and failed) outbox events older than the given age; never pending ones. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.prune_outbox_events(interval, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.prune_outbox_events(interval, boolean) TO exchange_worker;
