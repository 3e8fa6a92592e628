-- exchange.submit_order_begin(p_request exchange.order_request)
--   RETURNS exchange.order_request_outcome
-- Step 1 of exchange.submit_order (call that procedure, not this). Resolves the market and
-- tries its lock without waiting:
--   - free and nobody waiting in the inbox: places the order at once (exchange.place_orders;
--     a refusal raises here, to the caller, with nothing changed) and returns it, done;
--   - free but requests pending: queues this one behind them and places the pending ones
--     (exchange._process_order_requests); done if this one was answered;
--   - busy: queues the request in exchange.order_requests (with the session's
--     exchange.acting_user_id and exchange.correlation_id, read here, at the start of the
--     procedure, since a transaction-local setting is gone after its first COMMIT) and
--     returns it not done; the procedure commits and waits (submit_order_wait).
-- Raises: the refusals of exchange.place_orders (EX201 unknown pair and the acting-user
--         refusals included).
-- Locks: the market's lock (pg_advisory_xact_lock(1601, pair), only if free), then those of
--        exchange.place_orders.
-- Access: exchange_app, through exchange.submit_order; the order's user is p_request's, as
--         with exchange.place_order: placed at once, place_orders checks the acting user;
--         queued, the same rule (exchange._authorize_for_user) is checked before the insert,
--         so the inbox holds only requests their requester may make (EX320, EX360, EX303,
--         EX322 otherwise, nothing queued).
CREATE OR REPLACE FUNCTION exchange.submit_order_begin(p_request exchange.order_request)
RETURNS exchange.order_request_outcome
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_pair  integer;
    v_id    bigint;
    v_res   exchange.order_result;
BEGIN
    SELECT tp.id INTO v_pair FROM exchange.trading_pairs tp WHERE tp.symbol = p_request.symbol;
    IF v_pair IS NULL THEN
        PERFORM exchange.place_orders(ARRAY[p_request]);   -- raises the engine's EX201
    END IF;
    IF pg_try_advisory_xact_lock(1601, v_pair) THEN
        IF NOT EXISTS (SELECT 1 FROM exchange.order_requests q
                        WHERE q.trading_pair_id = v_pair AND q.status = 'PENDING') THEN
            SELECT * INTO v_res FROM exchange.place_orders(ARRAY[p_request]);
            RETURN ROW(NULL::bigint, v_pair, true, v_res, NULL::text, NULL::text, NULL::text, NULL::text);
        END IF;
    ELSE
        v_pair := -v_pair;    -- busy: queue and wait
    END IF;
    -- Queued: authorized now, by place_orders' rule, with this session's acting user (or its
    -- DBA path), as its requester; whoever later places it does so as that acting user.
    PERFORM exchange._authorize_for_user(p_request.user_id);
    INSERT INTO exchange.order_requests (trading_pair_id, request, acting_user_id, correlation_id)
    VALUES (abs(v_pair), p_request,
            NULLIF(current_setting('exchange.acting_user_id', true), ''),
            NULLIF(current_setting('exchange.correlation_id', true), ''))
    RETURNING id INTO v_id;
    IF v_pair > 0 THEN
        PERFORM exchange._process_order_requests(v_pair);
        IF (SELECT q.status FROM exchange.order_requests q WHERE q.id = v_id) <> 'PENDING' THEN
            RETURN exchange._take_order_request(v_id);
        END IF;
    END IF;
    RETURN ROW(v_id, abs(v_pair), false, NULL::exchange.order_result, NULL::text, NULL::text, NULL::text, NULL::text);
END;
$$;
COMMENT ON FUNCTION exchange.submit_order_begin(exchange.order_request) IS
    'Step 1 of the submit_order procedure: places the order at once if its market is free, else queues it in the inbox. Raises what place_orders raises.';
REVOKE ALL ON FUNCTION exchange.submit_order_begin(exchange.order_request) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.submit_order_begin(exchange.order_request) TO exchange_app;
