-- exchange.submit_order_wait(p_request_id bigint, p_trading_pair_id integer)
--   RETURNS exchange.order_request_outcome
-- Step 2 of exchange.submit_order (call that procedure, not this), after the request was
-- queued and committed: waits until the market's current holder commits (a session-level
-- shared lock on the market key, taken and given back at once, so all waiters wake
-- together); if the request was answered, takes its outcome (no market lock needed: an
-- answered row is written by nobody else); otherwise takes the market's lock, places the
-- market's pending requests itself (exchange._process_order_requests) and takes this one's
-- outcome if it was answered. Not done means: commit and call again (the holder placed
-- older requests alone).
-- Raises: EX231 the request is not in the inbox; EX320, EX360, EX303, EX322 the session may
--         not place an order for the request's user (another user's request).
-- Locks: pg_advisory_lock_shared(1601, pair), released before anything else; then, if the
--        request is still pending, the market's lock (pg_advisory_xact_lock(1601, pair)) and
--        those of place_orders.
-- Access: exchange_app, through exchange.submit_order: a request of the order's own user
--         (the acting user) or, without one, on the DBA path (exchange._authorize_for_user).
CREATE OR REPLACE FUNCTION exchange.submit_order_wait(p_request_id bigint, p_trading_pair_id integer)
RETURNS exchange.order_request_outcome
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_status text;
    v_user   bigint;
BEGIN
    -- Only the request's own requester waits for it (and reads its outcome): the rule of
    -- place_orders for the request's user, before any lock is waited for.
    SELECT (q.request).user_id INTO v_user FROM exchange.order_requests q WHERE q.id = p_request_id;
    IF FOUND THEN
        PERFORM exchange._authorize_for_user(v_user);
    END IF;
    -- Wait for the market's current holder without queueing for its lock one after the other:
    -- a shared lock is granted to every such waiter at once when the holder commits, and
    -- given back at once. Whoever finds its request answered takes it without the lock.
    PERFORM pg_advisory_lock_shared(1601, p_trading_pair_id);
    PERFORM pg_advisory_unlock_shared(1601, p_trading_pair_id);
    SELECT q.status INTO v_status FROM exchange.order_requests q WHERE q.id = p_request_id;
    IF v_status IS DISTINCT FROM 'PENDING' THEN
        RETURN exchange._take_order_request(p_request_id);
    END IF;
    -- still pending: become the holder (requests queued behind ours are placed with it)
    PERFORM pg_advisory_xact_lock(1601, p_trading_pair_id);
    SELECT q.status INTO v_status FROM exchange.order_requests q
     WHERE q.id = p_request_id AND q.trading_pair_id = p_trading_pair_id;
    IF v_status = 'PENDING' THEN
        PERFORM exchange._process_order_requests(p_trading_pair_id);
        SELECT q.status INTO v_status FROM exchange.order_requests q WHERE q.id = p_request_id;
        IF v_status = 'PENDING' THEN
            RETURN ROW(p_request_id, p_trading_pair_id, false, NULL::exchange.order_result, NULL::text, NULL::text, NULL::text, NULL::text);
        END IF;
    END IF;
    RETURN exchange._take_order_request(p_request_id);
END;
$$;
COMMENT ON FUNCTION exchange.submit_order_wait(bigint, integer) IS
    'Step 2 of the submit_order procedure: waits for the market lock, places the pending requests if nobody did, and returns this request''s outcome (or not done: call again). Raises EX231.';
REVOKE ALL ON FUNCTION exchange.submit_order_wait(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.submit_order_wait(bigint, integer) TO exchange_app;
