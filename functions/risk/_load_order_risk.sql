-- exchange._load_order_risk(p_trading_pair_id integer) RETURNS exchange.order_risk_limits
-- Internal, the trading hot path: the active order rules (MAX_ORDER_NOTIONAL, PRICE_BAND,
-- ORDER_RATE, MAX_OPEN_ORDERS) that apply to one market, folded into the strictest threshold
-- of each type (rules with no symbol apply to every market). Its results are cached per
-- market in exchange.risk_order_limits (tg_risk_rules__refresh_order_limits), which
-- place_orders reads once per market per call; an order within every threshold hits no rule,
-- so evaluating it costs
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
    -- one pass over the (few) active order rules; ORDER_RATE rules keep one entry per rule
    -- (the same window may appear twice: _check_order_risk counts each window once)
    SELECT p_trading_pair_id, count(*) > 0,
           min(rr.limit_value) FILTER (WHERE rr.type = 'MAX_ORDER_NOTIONAL'),
           min(rr.limit_value) FILTER (WHERE rr.type = 'PRICE_BAND'),
           min(rr.limit_value) FILTER (WHERE rr.type = 'MAX_OPEN_ORDERS')::integer,
           array_agg(rr.window_seconds ORDER BY rr.window_seconds, rr.limit_value)
               FILTER (WHERE rr.type = 'ORDER_RATE'),
           array_agg(rr.limit_value::integer ORDER BY rr.window_seconds, rr.limit_value)
               FILTER (WHERE rr.type = 'ORDER_RATE')
      INTO v_result
      FROM exchange.risk_rules rr
     WHERE rr.is_active AND rr.scope = 'ORDER'
       AND (rr.trading_pair_id IS NULL OR rr.trading_pair_id = p_trading_pair_id);
    RETURN v_result;
END;
$$;
COMMENT ON FUNCTION exchange._load_order_risk(integer) IS
    'Internal (hot path): the strictest active order-rule thresholds of one market, read once per market per place_orders call.';
REVOKE ALL ON FUNCTION exchange._load_order_risk(integer) FROM PUBLIC;
