-- exchange.cancel_order(p_user_id bigint, p_order_id bigint) RETURNS SETOF exchange.order_result
-- exchange.cancel_order_by_client_id(p_user_id bigint, p_client_order_id text)
--   RETURNS SETOF exchange.order_result
-- Cancels one open order of the user (NEW, PARTIALLY_FILLED, or a PENDING stop): it leaves
-- the book, its status becomes CANCELED and its hold is released exactly (hold_amount 0).
-- Allowed on a halted pair. Returns the canceled order (one row).
-- Access: the user, or an acting user with order:cancel_any (exchange._authorize_for_user).
-- Raises: EX216 no such order of this user (another user's order reads as unknown),
--         EX217 the order is not open (filled, canceled, expired).
-- Locks: the order's market first (pg_advisory_xact_lock(1601, pair id)), then the user's
--        account (in _post_journals).
CREATE OR REPLACE FUNCTION exchange.cancel_order(p_user_id bigint, p_order_id bigint)
RETURNS SETOF exchange.order_result
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
SET jit = off
AS $$
DECLARE
    v_pair_id  integer;
    v_created  timestamptz;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'order', 'cancel_any');
    -- where is it? (open orders only; the market lock then makes the answer stable)
    SELECT b.trading_pair_id INTO v_pair_id FROM exchange.order_book b
     WHERE b.order_id = p_order_id AND b.user_id = p_user_id;
    IF v_pair_id IS NULL THEN
        SELECT s.trading_pair_id INTO v_pair_id FROM exchange.stop_orders s
         WHERE s.order_id = p_order_id AND s.user_id = p_user_id;
    END IF;
    IF v_pair_id IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(1601, v_pair_id);
        -- under the lock: it may have filled or triggered while we waited
        DELETE FROM exchange.order_book WHERE order_id = p_order_id
        RETURNING order_created_at INTO v_created;
        IF v_created IS NULL THEN
            DELETE FROM exchange.stop_orders WHERE order_id = p_order_id
            RETURNING order_created_at INTO v_created;
        END IF;
    END IF;
    IF v_created IS NULL THEN
        IF EXISTS (SELECT 1 FROM exchange.orders o WHERE o.id = p_order_id AND o.user_id = p_user_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'EX217',
                MESSAGE = format('order %s is not open', p_order_id),
                DETAIL = 'The order is FILLED, CANCELED or EXPIRED.',
                HINT = 'Only NEW, PARTIALLY_FILLED and PENDING orders can be canceled.';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'EX216',
            MESSAGE = format('order %s not found for user %s', p_order_id, p_user_id),
            DETAIL = 'Another user''s order reads as not found.',
            HINT = 'Check the order id (and that it is this user''s order).';
    END IF;
    RETURN QUERY SELECT * FROM exchange._cancel_orders(ARRAY[p_order_id], ARRAY[v_created]);
END;
$$;
COMMENT ON FUNCTION exchange.cancel_order(bigint, bigint) IS
    'Cancels one open order of the user and releases its hold exactly; market lock first. Raises EX216, EX217.';
REVOKE ALL ON FUNCTION exchange.cancel_order(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.cancel_order(bigint, bigint) TO exchange_app;

CREATE OR REPLACE FUNCTION exchange.cancel_order_by_client_id(p_user_id bigint, p_client_order_id text)
RETURNS SETOF exchange.order_result
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
SET jit = off
AS $$
DECLARE
    v_order_id bigint;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'order', 'cancel_any');
    SELECT c.order_id INTO v_order_id FROM exchange.client_order_ids c
     WHERE c.user_id = p_user_id AND c.client_order_id = p_client_order_id;
    IF v_order_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'EX216',
            MESSAGE = format('no order with client order id %s for user %s',
                             exchange._quote(p_client_order_id), p_user_id),
            DETAIL = 'Another user''s order reads as not found.',
            HINT = 'Check the client order id.';
    END IF;
    RETURN QUERY SELECT * FROM exchange.cancel_order(p_user_id, v_order_id);
END;
$$;
COMMENT ON FUNCTION exchange.cancel_order_by_client_id(bigint, text) IS
    'Cancels one open order of the user by its client order id. Raises EX216, EX217.';
REVOKE ALL ON FUNCTION exchange.cancel_order_by_client_id(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.cancel_order_by_client_id(bigint, text) TO exchange_app;
