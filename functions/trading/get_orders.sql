-- exchange.get_orders(p_user_id bigint, p_symbol text DEFAULT NULL,
--     p_open_only boolean DEFAULT false, p_limit integer DEFAULT 100,
--     p_order_id bigint DEFAULT NULL, p_before_id bigint DEFAULT NULL,
--     p_after_id bigint DEFAULT NULL) RETURNS SETOF exchange.order_result
-- The user's orders, newest first (created_at, then id; fills NULL): all, one pair's, only
-- open ones (NEW, PARTIALLY_FILLED, PENDING), or one order by id. Keyset pages: with
-- p_before_id, the p_limit orders just older than that order of the user (the next page);
-- with p_after_id, the p_limit orders just newer (the previous page), still newest first.
-- Cost: one index range scan of (user_id[, trading_pair_id], created_at, id) per partition,
-- never the user's whole history.
-- Access: the user, or an acting user with order:read (exchange._authorize_for_user).
-- Raises: EX320, EX360, EX303, EX321, EX322 (access); EX001 (p_limit outside 1..1000, both cursors given, a cursor that is not an order
-- of this user). An unknown pair gives no rows. Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_orders(
    p_user_id bigint,
    p_symbol text DEFAULT NULL,
    p_open_only boolean DEFAULT false,
    p_limit integer DEFAULT 100,
    p_order_id bigint DEFAULT NULL,
    p_before_id bigint DEFAULT NULL,
    p_after_id bigint DEFAULT NULL
)
RETURNS SETOF exchange.order_result
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_limit  integer := COALESCE(p_limit, 100);
    v_cursor bigint := COALESCE(p_before_id, p_after_id);
    v_at     timestamptz;
    v_pair_id integer;
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'order', 'read');
    IF v_limit NOT BETWEEN 1 AND 1000 OR (p_before_id IS NOT NULL AND p_after_id IS NOT NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid order query',
            DETAIL = format('limit %s, before_id %s, after_id %s', p_limit, p_before_id, p_after_id),
            HINT = 'A limit of 1 to 1000, and at most one of before_id and after_id.';
    END IF;
    IF v_cursor IS NOT NULL THEN
        SELECT o.created_at INTO v_at FROM exchange.orders o
         WHERE o.id = v_cursor AND o.user_id = p_user_id;
        IF v_at IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'unknown page cursor',
                DETAIL = format('order %s is not an order of user %s', v_cursor, p_user_id),
                HINT = 'Page with the id of an order from the previous page.';
        END IF;
    END IF;
    IF p_symbol IS NOT NULL THEN
        SELECT tp.id INTO v_pair_id FROM exchange.trading_pairs tp WHERE tp.symbol = p_symbol;
        IF v_pair_id IS NULL THEN
            RETURN;  -- an unknown pair has no orders
        END IF;
    END IF;
    -- Built from fixed fragments only (values go through USING), so that each call gets the
    -- plan of its own filters: the index range scan, never a filter over the whole history.
    RETURN QUERY EXECUTE format($q$
        SELECT * FROM (
            SELECT o.id, o.uuid, o.user_id, tp.symbol::text, o.client_order_id::text, o.side,
                   o.type, o.time_in_force, o.stp_mode, o.status, o.price::numeric,
                   o.stop_price::numeric, o.amount::numeric, o.quote_amount::numeric,
                   o.filled_amount::numeric, o.remaining_amount::numeric, o.filled_quote::numeric,
                   o.fee_paid::numeric, o.hold_amount::numeric, o.created_at, o.updated_at,
                   NULL::jsonb
              FROM exchange.orders o
              JOIN exchange.trading_pairs tp ON tp.id = o.trading_pair_id
             WHERE o.user_id = $1 %s %s %s %s
             ORDER BY o.created_at %s, o.id %s
             LIMIT $2) r
         ORDER BY r.created_at DESC, r.id DESC$q$,
        CASE WHEN v_pair_id IS NOT NULL THEN 'AND o.trading_pair_id = $3' ELSE '' END,
        CASE WHEN COALESCE(p_open_only, false)
             THEN $f$AND o.status IN ('NEW', 'PARTIALLY_FILLED', 'PENDING')$f$ ELSE '' END,
        CASE WHEN p_order_id IS NOT NULL THEN 'AND o.id = $4' ELSE '' END,
        CASE WHEN p_before_id IS NOT NULL THEN 'AND (o.created_at, o.id) < ($5, $6)'
             WHEN p_after_id IS NOT NULL THEN 'AND (o.created_at, o.id) > ($5, $6)'
             ELSE '' END,
        CASE WHEN p_after_id IS NULL THEN 'DESC' ELSE 'ASC' END,
        CASE WHEN p_after_id IS NULL THEN 'DESC' ELSE 'ASC' END)
    USING p_user_id, v_limit, v_pair_id, p_order_id, v_at, v_cursor;
END;
$$;
COMMENT ON FUNCTION exchange.get_orders(bigint, text, boolean, integer, bigint, bigint, bigint) IS
    'The user''s orders, newest first; optionally one pair, open only, or one order; keyset pages before or after an order id. Raises EX001.';
REVOKE ALL ON FUNCTION exchange.get_orders(bigint, text, boolean, integer, bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_orders(bigint, text, boolean, integer, bigint, bigint, bigint) TO exchange_app;

-- exchange.get_trading_pairs() RETURNS TABLE(...)
-- Every trading pair with its rules, status and last price. Raises nothing. Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_trading_pairs()
RETURNS TABLE (id integer, symbol text, base_asset text, quote_asset text,
               price_precision integer, amount_precision integer, min_order_amount numeric,
               min_notional numeric, maker_fee_rate numeric, taker_fee_rate numeric,
               status exchange.pair_status, stp_mode exchange.stp_mode, last_price numeric,
               book_sequence bigint)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
    SELECT tp.id, tp.symbol::text, ba.symbol::text, qa.symbol::text, tp.price_precision,
           tp.amount_precision, trim_scale(tp.min_order_amount), trim_scale(tp.min_notional),
           trim_scale(tp.maker_fee_rate), trim_scale(tp.taker_fee_rate), tp.status, tp.stp_mode,
           trim_scale(ms.last_price), ms.book_sequence
      FROM exchange.trading_pairs tp
      JOIN exchange.assets ba ON ba.id = tp.base_asset_id
      JOIN exchange.assets qa ON qa.id = tp.quote_asset_id
      LEFT JOIN exchange.market_state ms ON ms.trading_pair_id = tp.id
     ORDER BY tp.symbol;
$$;
COMMENT ON FUNCTION exchange.get_trading_pairs() IS 'Every trading pair with its rules, status and last price.';
REVOKE ALL ON FUNCTION exchange.get_trading_pairs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_trading_pairs() TO exchange_app;
