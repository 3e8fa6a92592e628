-- exchange.get_user_trades(p_user_id bigint, p_symbol text DEFAULT NULL,
--     p_order_id bigint DEFAULT NULL, p_limit integer DEFAULT 100)
--     RETURNS TABLE(trade_id, symbol, order_id, side, role, price, amount, quote_amount,
--                   fee, fee_asset, created_at)
-- A user's fills ("my trades"), newest first: one row per trade and side the user took in
-- it, with the user's order, side, role (MAKER or TAKER), the fee the user paid and its asset
-- (a buyer pays in the base asset, a seller in the quote asset: the asset each receives).
-- Optionally one pair's, or one order's (the fills of `pyexchange order show`).
-- Raises: EX309 no such user; EX321 not allowed (from _require_permission).
-- Locks: none.
-- Access: the acting user (exchange.acting_user_id) is p_user_id or holds user:read; a
-- session without an acting user is the trusted application (as get_orders, get_user).
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
DECLARE
    v_acting bigint := exchange._acting_user_id();
BEGIN
    IF v_acting IS NOT NULL AND v_acting IS DISTINCT FROM p_user_id THEN
        PERFORM exchange._require_permission(v_acting, 'user', 'read');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM exchange.users u WHERE u.id = p_user_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX309',
            MESSAGE = format('user %s does not exist', COALESCE(p_user_id::text, 'NULL'));
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
    'A user''s fills, newest first, with order, side, role, fee and fee asset; one pair''s or one order''s. Self or user:read; no acting user = trusted application. Raises EX309, EX321.';
REVOKE ALL ON FUNCTION exchange.get_user_trades(bigint, text, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.get_user_trades(bigint, text, bigint, integer) TO exchange_app;
