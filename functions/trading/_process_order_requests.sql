-- exchange._process_order_requests(p_trading_pair_id integer) RETURNS integer
-- Internal (submit_order's combining): places the pending requests of one market from
-- exchange.order_requests, oldest first, and records each outcome on its row (DONE with the
-- order as exchange.place_orders returns it, or REFUSED with the error's SQLSTATE, message,
-- detail and hint). The caller holds the market's lock (pg_advisory_xact_lock(1601, pair)).
-- One exchange.place_orders call per transaction at most, so the transaction's locks keep
-- the global order (markets, then users, then accounts ascending, each taken once):
--   - the leading run of pending requests that share one acting user and correlation id
--     (at most 100) is tried as one combined batch (setting exchange.combined_batch = on:
--     each order's funds are checked as if the earlier ones were posted, and a risk REJECT
--     raises EX230 without recording), in a subtransaction; if it succeeds, all are DONE;
--     if one of them is refused, the trial is undone and its older half is tried, and so on;
--   - when no trial succeeds (or one request is pending) the oldest request is placed
--     alone, in a subtransaction: DONE, or REFUSED with its own error (its risk events
--     recorded as place_orders records them).
--   The rest stay PENDING for the next holder of the lock.
-- Each request runs with its own exchange.acting_user_id and exchange.correlation_id; the
-- caller's are restored afterwards. Returns the number of requests answered.
-- Raises: nothing of its own (the requests' refusals are recorded, not raised).
-- Locks: those of exchange.place_orders; the market's rows of exchange.order_requests.
-- Access: internal (submit_order_begin, submit_order_wait, process_order_requests).
CREATE OR REPLACE FUNCTION exchange._process_order_requests(p_trading_pair_id integer)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_acting    text := current_setting('exchange.acting_user_id', true);
    v_corr      text := current_setting('exchange.correlation_id', true);
    v_ids       bigint[] := '{}'::bigint[];
    v_reqs      exchange.order_request[] := '{}'::exchange.order_request[];
    v_results   exchange.order_result[];
    v_res       exchange.order_result;
    v_r         record;
    v_first     record;
    v_done      boolean := false;
    v_size      integer;
    v_code      text;
    v_msg       text;
    v_detail    text;
    v_hint      text;
    v_set       text;   -- set_config's answer (assigned: cheaper than a PERFORM)
BEGIN
    FOR v_r IN
        SELECT q.id, q.request, q.acting_user_id, q.correlation_id
          FROM exchange.order_requests q
         WHERE q.trading_pair_id = p_trading_pair_id AND q.status = 'PENDING'
         ORDER BY q.id
         LIMIT 100
    LOOP
        IF cardinality(v_ids) = 0 THEN
            v_first := v_r;
        ELSIF v_r.acting_user_id IS DISTINCT FROM v_first.acting_user_id
              OR v_r.correlation_id IS DISTINCT FROM v_first.correlation_id THEN
            EXIT;
        END IF;
        v_ids := v_ids || v_r.id;
        v_reqs := v_reqs || v_r.request;
    END LOOP;
    IF cardinality(v_ids) = 0 THEN
        RETURN 0;
    END IF;
    v_set := set_config('exchange.acting_user_id', COALESCE(v_first.acting_user_id, ''), true);
    v_set := set_config('exchange.correlation_id', COALESCE(v_first.correlation_id, ''), true);

    -- the combined batch, then its first half, quarter, ... until one succeeds
    v_size := cardinality(v_ids);
    WHILE v_size > 1 AND NOT v_done LOOP
        BEGIN
            v_set := set_config('exchange.combined_batch', 'on', true);
            v_results := ARRAY(SELECT r FROM exchange.place_orders(v_reqs[1:v_size]) AS r);
            v_set := set_config('exchange.combined_batch', 'off', true);
            UPDATE exchange.order_requests q
               SET status = 'DONE', result = v_results[array_position(v_ids, q.id)],
                   processed_at = clock_timestamp()
             WHERE q.id = ANY (v_ids[1:v_size]);
            v_done := true;
        EXCEPTION WHEN OTHERS THEN
            v_size := (v_size + 1) / 2;     -- the trial is undone; try the older half
        END;
    END LOOP;

    IF NOT v_done THEN
        v_size := 1;
        BEGIN
            SELECT * INTO v_res FROM exchange.place_orders(v_reqs[1:1]);
            UPDATE exchange.order_requests
               SET status = 'DONE', result = v_res, processed_at = clock_timestamp()
             WHERE id = v_ids[1];
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_code = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
            UPDATE exchange.order_requests
               SET status = 'REFUSED', error_code = v_code, error_message = v_msg,
                   error_detail = NULLIF(v_detail, ''), error_hint = NULLIF(v_hint, ''),
                   processed_at = clock_timestamp()
             WHERE id = v_ids[1];
        END;
    END IF;
    v_set := set_config('exchange.acting_user_id', COALESCE(v_acting, ''), true);
    v_set := set_config('exchange.correlation_id', COALESCE(v_corr, ''), true);
    RETURN v_size;
END;
$$;
COMMENT ON FUNCTION exchange._process_order_requests(integer) IS
    'Internal (submit_order combining): under the market lock, places the market''s pending requests oldest first (a combined batch, else the oldest alone) and records each outcome. Returns the number answered.';
REVOKE ALL ON FUNCTION exchange._process_order_requests(integer) FROM PUBLIC;
