-- exchange._load_order_risk(p_trading_pair_id integer) RETURNS exchange.order_risk_limits
-- Internal, the trading hot path: the active order rules (MAX_ORDER_NOTIONAL, PRICE_BAND,
-- ORDER_RATE, MAX_OPEN_ORDERS) that apply to one market, folded into the strictest threshold
-- of each type (rules with no symbol apply to every market). place_orders reads it once
-- per market per call; an order within every threshold hits no rule, so evaluating it costs
-- a few comparisons (plus the counters of ORDER_RATE and MAX_OPEN_ORDERS when such rules
-- exist). any_rule is false when no order rule applies.
-- Raises: nothing. Locks: none (one indexed read of exchange.risk_rules).
CREATE OR REPLACE FUNCTION exchange._load_order_risk(p_trading_pair_id integer)
RETURNS exchange.order_risk_limits
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    v_result exchange.order_risk_limits;
BEGIN
    WITH r AS (
        SELECT rr.type, rr.limit_value, rr.window_seconds
          FROM exchange.risk_rules rr
         WHERE rr.is_active AND rr.scope = 'ORDER'
           AND (rr.trading_pair_id IS NULL OR rr.trading_pair_id = p_trading_pair_id)
    ), rate AS (
        SELECT r.window_seconds AS w, min(r.limit_value)::integer AS m
          FROM r WHERE r.type = 'ORDER_RATE' GROUP BY r.window_seconds
    )
    SELECT p_trading_pair_id,
           EXISTS (SELECT 1 FROM r),
           (SELECT min(r.limit_value) FROM r WHERE r.type = 'MAX_ORDER_NOTIONAL'),
           (SELECT min(r.limit_value) FROM r WHERE r.type = 'PRICE_BAND'),
           (SELECT min(r.limit_value)::integer FROM r WHERE r.type = 'MAX_OPEN_ORDERS'),
           (SELECT array_agg(rate.w ORDER BY rate.w) FROM rate),
           (SELECT array_agg(rate.m ORDER BY rate.w) FROM rate)
      INTO v_result;
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange._load_order_risk(integer) IS
    'Internal (hot path): the strictest active order-rule thresholds of one market, read once per market per place_orders call.';
REVOKE ALL ON FUNCTION exchange._load_order_risk(integer) FROM PUBLIC;
