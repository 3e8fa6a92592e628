-- exchange.create_trading_pair(p_symbol text, p_base text, p_quote text,
--     p_price_precision integer DEFAULT NULL, p_amount_precision integer DEFAULT NULL,
--     p_min_order_amount numeric DEFAULT 0, p_min_notional numeric DEFAULT 0,
--     p_maker_fee_rate numeric DEFAULT 0.001, p_taker_fee_rate numeric DEFAULT 0.001,
--     p_stp_mode text DEFAULT 'EXPIRE_MAKER') RETURNS exchange.trading_pairs
-- Creates a market with its rules: price tick 10^-price_precision, amount step
-- 10^-amount_precision, minimum amount and notional (price x amount), maker and taker fee
-- rates, and the default self-trade prevention mode. The precisions must fit the assets:
-- amount_precision <= base decimals and price_precision + amount_precision <= quote
-- decimals, so that every trade's quote amount (price x amount) is exact in the quote asset.
-- A NULL (omitted) precision is derived from the two assets so that it always fits:
-- price_precision = min(2, quote decimals), amount_precision = min(6, base decimals, quote
-- decimals - price_precision) (BTC 8 / USDT 6 decimals: tick 0.01, step 0.0001).
-- The market starts TRADING; its market_state row and fee accounts are created by trigger.
-- Raises: EX220 invalid rules (precisions, minimums, fee rates, STP mode, symbol format; the
--         symbol must be <base>-<quote> of the assets given),
--         EX221 the symbol or the asset pair exists, EX222 unknown or inactive asset.
-- Locks: none beyond the new rows.
-- Access: trading_pair:create for the acting user (docs/security.md), or a session of
-- exchange_owner without an acting user. Raises EX320/EX321/EX303 from _require_permission.
CREATE OR REPLACE FUNCTION exchange.create_trading_pair(
    p_symbol text,
    p_base text,
    p_quote text,
    p_price_precision integer DEFAULT NULL,
    p_amount_precision integer DEFAULT NULL,
    p_min_order_amount numeric DEFAULT 0,
    p_min_notional numeric DEFAULT 0,
    p_maker_fee_rate numeric DEFAULT 0.001,
    p_taker_fee_rate numeric DEFAULT 0.001,
    p_stp_mode text DEFAULT 'EXPIRE_MAKER'
)
RETURNS exchange.trading_pairs
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = exchange, pg_catalog, pg_temp
AS $$
DECLARE
    v_base  exchange.assets;
    v_quote exchange.assets;
    v_pair  exchange.trading_pairs;
BEGIN
    -- Access: an acting user (exchange.acting_user_id) needs trading_pair:create; a session
    -- without one must belong to exchange_owner (a DBA, the migrations), never the app role alone.
    PERFORM exchange._require_admin('trading_pair', 'create');

    SELECT * INTO v_base FROM exchange.assets WHERE symbol = p_base AND is_active;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX222',
            MESSAGE = format('unknown or inactive asset %s', exchange._quote(p_base)),
            DETAIL = 'The base asset is not in exchange.assets, or it is deactivated.',
            HINT = 'Create the asset first.';
    END IF;
    SELECT * INTO v_quote FROM exchange.assets WHERE symbol = p_quote AND is_active;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'EX222',
            MESSAGE = format('unknown or inactive asset %s', exchange._quote(p_quote)),
            DETAIL = 'The quote asset is not in exchange.assets, or it is deactivated.',
            HINT = 'Create the asset first.';
    END IF;
    -- omitted precisions: derived from the assets (see the header)
    p_price_precision := COALESCE(p_price_precision, least(2, v_quote.decimals));
    p_amount_precision := COALESCE(p_amount_precision,
        greatest(0, least(6, v_base.decimals, v_quote.decimals - p_price_precision)));
    IF p_symbol IS NULL OR p_symbol !~ '^[A-Z0-9]{2,9}-[A-Z0-9]{2,9}$'
       OR p_symbol <> v_base.symbol || '-' || v_quote.symbol
       OR v_base.id = v_quote.id
       OR p_price_precision IS NULL OR p_amount_precision IS NULL
       OR p_price_precision < 0 OR p_amount_precision < 0
       OR p_amount_precision > v_base.decimals
       OR p_price_precision::bigint + p_amount_precision > v_quote.decimals
       OR p_min_order_amount IS NULL OR p_min_notional IS NULL
       OR NOT (p_min_order_amount >= 0 AND p_min_order_amount < 1e18)
       OR NOT (p_min_notional >= 0 AND p_min_notional < 1e18)
       OR p_maker_fee_rate IS NULL OR p_taker_fee_rate IS NULL
       OR NOT (p_maker_fee_rate >= 0 AND p_maker_fee_rate < 1)
       OR NOT (p_taker_fee_rate >= 0 AND p_taker_fee_rate < 1)
       OR round(p_maker_fee_rate, 6) <> p_maker_fee_rate
       OR round(p_taker_fee_rate, 6) <> p_taker_fee_rate
       OR p_stp_mode IS NULL
       OR p_stp_mode NOT IN ('EXPIRE_MAKER', 'EXPIRE_TAKER', 'EXPIRE_BOTH') THEN
        RAISE EXCEPTION USING ERRCODE = 'EX220',
            MESSAGE = format('invalid rules for trading pair %s', exchange._quote(p_symbol)),
            DETAIL = format('base %s has %s decimals, quote %s has %s; price_precision %s, amount_precision %s, fee rates %s/%s, stp %s',
                            v_base.symbol, v_base.decimals, v_quote.symbol, v_quote.decimals,
                            p_price_precision, p_amount_precision, p_maker_fee_rate,
                            p_taker_fee_rate, exchange._quote(p_stp_mode)),
            HINT = 'Symbol BASE-QUOTE in capitals, naming the base and quote assets given; amount_precision <= base decimals; price_precision + amount_precision <= quote decimals; fee rates in [0, 1) with at most 6 decimals; STP mode EXPIRE_MAKER, EXPIRE_TAKER or EXPIRE_BOTH.';
    END IF;
    IF EXISTS (SELECT 1 FROM exchange.trading_pairs
                WHERE symbol = p_symbol
                   OR (base_asset_id = v_base.id AND quote_asset_id = v_quote.id)) THEN
        RAISE EXCEPTION USING ERRCODE = 'EX221',
            MESSAGE = format('trading pair %s already exists', p_symbol),
            DETAIL = 'exchange.trading_pairs holds a pair with this symbol or with these base and quote assets.',
            HINT = 'Use the existing pair, or change its status with set_trading_pair_status.';
    END IF;

    INSERT INTO exchange.trading_pairs
        (symbol, base_asset_id, quote_asset_id, min_order_amount, min_notional,
         price_precision, amount_precision, taker_fee_rate, maker_fee_rate, stp_mode)
    VALUES (p_symbol, v_base.id, v_quote.id, p_min_order_amount, p_min_notional,
            p_price_precision, p_amount_precision, p_taker_fee_rate, p_maker_fee_rate,
            p_stp_mode::exchange.stp_mode)
    RETURNING * INTO v_pair;
    RETURN v_pair;
END;
$$;
COMMENT ON FUNCTION exchange.create_trading_pair(text, text, text, integer, integer, numeric, numeric, numeric, numeric, text) IS
    'Creates a trading pair with its tick, step, minimums, fee rates and default STP mode. Raises EX220, EX221, EX222.';
REVOKE ALL ON FUNCTION exchange.create_trading_pair(text, text, text, integer, integer, numeric, numeric, numeric, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION exchange.create_trading_pair(text, text, text, integer, integer, numeric, numeric, numeric, numeric, text) TO exchange_app;
