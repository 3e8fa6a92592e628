-- exchange.retry_failed_outbox_events(p_ids bigint[] DEFAULT NULL) RETURNS integer
-- Puts FAILED events (the given ones, or all when p_ids is NULL) back to PENDING with their
-- attempts reset, for the relay to publish again (after the cause was fixed). Note that a
-- FAILED event's later siblings may already have been published. Returns the number requeued.
-- Raises: nothing. Locks: the rows updated.
-- Access: exchange_worker (the outbox relay) and DBA sessions; not exchange_app.
CREATE OR REPLACE FUNCTION exchange.retry_failed_outbox_events(p_ids bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_count integer;
BEGIN
    UPDATE exchange.outbox_events
       SET status = 'PENDING', attempts = 0, next_attempt_at = now()
     WHERE status = 'FAILED' AND (p_ids IS NULL OR id = ANY (p_ids));
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count > 0 THEN
        PERFORM pg_notify('exchange_outbox', '');
    END IF;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION exchange.retry_failed_outbox_events(bigint[]) IS
    'Requeues FAILED outbox events (given ones or all) for the relay.';
REVOKE ALL ON FUNCTION exchange.retry_failed_outbox_events(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.retry_failed_outbox_events(bigint[]) TO exchange_worker;
