-- exchange.cancel_all_orders(p_user_id bigint, p_symbol text DEFAULT NULL)
--   RETURNS SETOF exchange.order_result
-- Cancels every open order of the user (resting and PENDING stops), on one pair or on all,
-- releasing each hold exactly. Returns the canceled orders (none: an empty result).
-- Access: the user, or an acting user with order:cancel_any (exchange._authorize_for_user).
-- Raises: EX201 unknown pair (when p_symbol is given).
-- Locks: the markets concerned in ascending id, first; then the accounts ascending.
CREATE OR REPLACE FUNCTION exchange.cancel_all_orders(p_user_id bigint, p_symbol text DEFAULT NULL)
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
    v_filter  integer;
    v_pair_id integer;
    v_pairs   integer[];
    v_ids     bigint[];
    v_created timestamptz[];
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'order', 'cancel_any');
    IF p_symbol IS NOT NULL THEN
        SELECT id INTO v_filter FROM exchange.trading_pairs WHERE symbol = p_symbol;
        IF v_filter IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'EX201',
                MESSAGE = format('unknown trading pair %s', exchange._quote(p_symbol)),
                DETAIL = 'exchange.trading_pairs has no pair with this symbol.',
                HINT = 'List the pairs with exchange.get_trading_pairs().';
        END IF;
    END IF;
    SELECT array_agg(DISTINCT p ORDER BY p) INTO v_pairs FROM (
        SELECT b.trading_pair_id AS p FROM exchange.order_book b
         WHERE b.user_id = p_user_id AND (v_filter IS NULL OR b.trading_pair_id = v_filter)
        UNION
        SELECT s.trading_pair_id FROM exchange.stop_orders s
         WHERE s.user_id = p_user_id AND (v_filter IS NULL OR s.trading_pair_id = v_filter)) AS x;
    IF v_pairs IS NULL THEN
        RETURN;
    END IF;
    FOREACH v_pair_id IN ARRAY v_pairs LOOP
        PERFORM pg_advisory_xact_lock(1601, v_pair_id);
    END LOOP;
    WITH gone AS (
        DELETE FROM exchange.order_book b
         WHERE b.user_id = p_user_id AND b.trading_pair_id = ANY (v_pairs)
        RETURNING b.order_id, b.order_created_at
    ), gone_stops AS (
        DELETE FROM exchange.stop_orders s
         WHERE s.user_id = p_user_id AND s.trading_pair_id = ANY (v_pairs)
        RETURNING s.order_id, s.order_created_at
    )
    SELECT array_agg(order_id ORDER BY order_id), array_agg(order_created_at ORDER BY order_id)
      INTO v_ids, v_created
      FROM (SELECT * FROM gone UNION ALL SELECT * FROM gone_stops) AS g;
    RETURN QUERY SELECT * FROM exchange._cancel_orders(v_ids, v_created);
END;
$$;
COMMENT ON FUNCTION exchange.cancel_all_orders(bigint, text) IS
    'Cancels every open order of the user (on one pair or all), releasing each hold; markets locked ascending first. Raises EX201.';
REVOKE ALL ON FUNCTION exchange.cancel_all_orders(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.cancel_all_orders(bigint, text) TO exchange_app;
