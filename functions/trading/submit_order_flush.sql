-- exchange.submit_order_flush() RETURNS void
-- Step 3 of exchange.submit_order (call that procedure, not this): writes one tiny
-- transactional WAL record (a logical decoding message, ignored by everything else), so that
-- this transaction's commit is a synchronous one: it returns only once the WAL is flushed
-- (and, with a synchronous standby, replicated) past its commit record, and so past the
-- commit of the order, made earlier with synchronous_commit = off. A session with
-- synchronous_commit = off gets on for this commit (an order is never answered before it is
-- durable); local, remote_write, remote_apply are kept.
-- Raises: nothing. Locks: none.
-- Access: exchange_app, through exchange.submit_order, and exchange_worker: the outbox relay
-- calls it before publishing what it claimed (only durable events leave). Harmless for anyone.
CREATE OR REPLACE FUNCTION exchange.submit_order_flush()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    -- assigned, not PERFORMed (a PERFORM runs a SELECT through the executor)
    v_set text;
    v_lsn pg_lsn;
BEGIN
    IF current_setting('synchronous_commit') = 'off' THEN
        v_set := set_config('synchronous_commit', 'on', true);
    END IF;
    v_lsn := pg_logical_emit_message(true, 'exchange.submit_order', '');
END;
$$;
COMMENT ON FUNCTION exchange.submit_order_flush() IS
    'Step 3 of the submit_order procedure: makes the transaction''s commit a synchronous one (a tiny WAL record), so the order committed before it is durable when the call returns.';
REVOKE ALL ON FUNCTION exchange.submit_order_flush() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.submit_order_flush() TO exchange_app, exchange_worker;
