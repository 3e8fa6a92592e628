-- exchange.process_order_requests(p_keep interval DEFAULT '10 minutes') RETURNS integer
-- Places pending submit_order requests that no caller is waiting for (after a crash, or a
-- caller that went away): one batch of the market with the oldest pending request (as its
-- next holder would), and removes answered requests older than p_keep whose callers never
-- read them. One batch per call, so one transaction keeps the global lock order: call it
-- until it returns 0 (`pyexchange orders process-requests` does). Returns the number of
-- requests still pending.
-- Raises: EX001 p_keep negative or NULL.
-- Locks: that market's lock (waits for it), then those of exchange.place_orders.
-- Access: exchange_app and DBAs (it only does what the requests' callers asked for).
CREATE OR REPLACE FUNCTION exchange.process_order_requests(p_keep interval DEFAULT '10 minutes')
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    v_pair integer;
BEGIN
    IF p_keep IS NULL OR p_keep < interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001',
            MESSAGE = format('invalid retention %s', p_keep),
            DETAIL = format('p_keep = %s', COALESCE(p_keep::text, 'NULL')),
            HINT = 'Pass a non-negative interval.';
    END IF;
    DELETE FROM exchange.order_requests q
     WHERE q.status <> 'PENDING' AND q.processed_at < now() - p_keep;
    SELECT q.trading_pair_id INTO v_pair FROM exchange.order_requests q
     WHERE q.status = 'PENDING' ORDER BY q.id LIMIT 1;
    IF v_pair IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(1601, v_pair);
        PERFORM exchange._process_order_requests(v_pair);
    END IF;
    RETURN (SELECT count(*) FROM exchange.order_requests q WHERE q.status = 'PENDING');
END;
$$;
COMMENT ON FUNCTION exchange.process_order_requests(interval) IS
    'Places one batch of pending submit_order requests nobody waits for (oldest market first) and removes answered ones older than p_keep; returns how many are still pending. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.process_order_requests(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.process_order_requests(interval) TO exchange_app;
