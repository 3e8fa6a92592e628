-- exchange._take_order_request(p_request_id bigint) RETURNS exchange.order_request_outcome
-- Internal (submit_order): removes an answered request from exchange.order_requests and
-- returns its outcome (done = true; the order, or the refusal's SQLSTATE, message, detail
-- and hint). The caller holds the request's market lock.
-- Raises: EX231 no such request. Locks: the request's row.
-- Access: internal (submit_order_begin, submit_order_wait).
CREATE OR REPLACE FUNCTION exchange._take_order_request(p_request_id bigint)
RETURNS exchange.order_request_outcome
LANGUAGE plpgsql
AS $$
DECLARE
    v_out exchange.order_request_outcome;
BEGIN
    DELETE FROM exchange.order_requests q
     WHERE q.id = p_request_id
    RETURNING q.id, q.trading_pair_id, true, q.result, q.error_code, q.error_message,
              q.error_detail, q.error_hint
         INTO v_out;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX231',
            MESSAGE = format('order request %s is not in the inbox', p_request_id),
            DETAIL = 'It was never queued, or its outcome was already read.',
            HINT = 'Retry the order with the same client_order_id to get its outcome.';
    END IF;
    RETURN v_out;
END;
$$;
COMMENT ON FUNCTION exchange._take_order_request(bigint) IS
    'Internal (submit_order): removes an answered request from the inbox and returns its outcome. Raises EX231.';
REVOKE ALL ON FUNCTION exchange._take_order_request(bigint) FROM PUBLIC;
