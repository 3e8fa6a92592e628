-- exchange.get_user_trades(p_user_id bigint, p_symbol text DEFAULT NULL,
--     p_order_id bigint DEFAULT NULL, p_limit integer DEFAULT 100)
--     RETURNS TABLE(trade_id, symbol, order_id, side, role, price, amount, quote_amount,
--                   fee, fee_asset, created_at)
-- A user's fills ("my trades"), newest first: one row per trade and side the user took in
-- it, with the user's order, side, role (MAKER or TAKER), the fee the user paid and its asset
-- (a buyer pays in the base asset, a seller in the quote asset: the asset each receives).
-- Optionally one pair's, or one order's (the fills of `pyexchange order show`).
-- Access: the user, or an acting user with order:read (exchange._authorize_for_user, the
-- rule of get_orders).
-- Raises: EX320, EX360, EX303, EX321, EX322 (access); EX309 no such user; EX001 p_limit
-- outside 1..1000. Locks: none.
CREATE OR REPLACE FUNCTION exchange.get_user_trades(
    p_user_id bigint,
    p_symbol text DEFAULT NULL,
    p_order_id bigint DEFAULT NULL,
    p_limit integer DEFAULT 100
)
RETURNS TABLE(trade_id bigint, symbol text, order_id bigint, side exchange.order_side,
              role text, price numeric, amount numeric, quote_amount numeric, fee numeric,
              fee_asset text, created_at timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM exchange._authorize_for_user(p_user_id, 'order', 'read');
    IF COALESCE(p_limit, 100) NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'invalid fills query',
            DETAIL = format('limit %s', p_limit),
            HINT = 'A limit of 1 to 1000.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309',
            MESSAGE = format('user %s does not exist', COALESCE(p_user_id::text, 'NULL')),
            DETAIL = 'exchange.users has no user with this id.',
            HINT = 'Check the user id.';
    END IF;
    RETURN QUERY
    SELECT f.trade_id, f.symbol, f.order_id, f.side, f.role, f.price, f.amount,
           f.quote_amount, f.fee, f.fee_asset, f.created_at
      FROM (
        SELECT t.id AS trade_id, tp.symbol::text AS symbol, t.buyer_order_id AS order_id,
               'BUY'::exchange.order_side AS side,
               CASE WHEN t.is_maker_buyer THEN 'MAKER' ELSE 'TAKER' END AS role,
               t.price::numeric AS price, t.amount::numeric AS amount,
               t.quote_amount::numeric AS quote_amount, t.buyer_fee::numeric AS fee,
               ba.symbol::text AS fee_asset, t.created_at
          FROM exchange.trades t
          JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id
          JOIN exchange.assets ba ON ba.id = tp.base_asset_id
         WHERE t.buyer_user_id = p_user_id
           AND (p_symbol IS NULL OR tp.symbol = p_symbol)
           AND (p_order_id IS NULL OR t.buyer_order_id = p_order_id)
        UNION ALL
        SELECT t.id, tp.symbol::text, t.seller_order_id, 'SELL'::exchange.order_side,
               CASE WHEN t.is_maker_buyer THEN 'TAKER' ELSE 'MAKER' END,
               t.price::numeric, t.amount::numeric, t.quote_amount::numeric,
               t.seller_fee::numeric, qa.symbol::text, t.created_at
          FROM exchange.trades t
          JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id
          JOIN exchange.assets qa ON qa.id = tp.quote_asset_id
         WHERE t.seller_user_id = p_user_id
           AND (p_symbol IS NULL OR tp.symbol = p_symbol)
           AND (p_order_id IS NULL OR t.seller_order_id = p_order_id)
      ) f
     ORDER BY f.created_at DESC, f.trade_id DESC, f.side
     LIMIT COALESCE(p_limit, 100);
END;
$$;
COMMENT ON FUNCTION exchange.get_user_trades(bigint, text, bigint, integer) IS
    'A user''s fills, newest first, with order, side, role, fee and fee asset; one pair''s or one order''s. The user or order:read (exchange._authorize_for_user). Raises EX001, EX309, EX320, EX321, EX322, EX360, EX303.';
REVOKE ALL ON FUNCTION exchange.get_user_trades(bigint, text, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_user_trades(bigint, text, bigint, integer) TO exchange_app;
