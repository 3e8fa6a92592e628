-- exchange.tg_risk_rules__refresh_order_limits(): AFTER INSERT OR UPDATE OR DELETE statement
-- trigger on exchange.risk_rules and AFTER INSERT on exchange.trading_pairs.
-- Rebuilds exchange.risk_order_limits, the per-market cache of the strictest active
-- order-rule thresholds (exchange._load_order_risk for every market), so that place_orders
-- reads one row by primary key per market and never aggregates rules on the hot path.
-- Rule changes are rare; a rebuild costs one small query per market.
-- Raises: nothing. Locks: EXCLUSIVE on risk_order_limits (concurrent rebuilds take turns;
-- readers are not blocked).
CREATE OR REPLACE FUNCTION exchange.tg_risk_rules__refresh_order_limits()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    LOCK TABLE exchange.risk_order_limits IN EXCLUSIVE MODE;
    DELETE FROM exchange.risk_order_limits;
    INSERT INTO exchange.risk_order_limits (trading_pair_id, limits)
    SELECT l.trading_pair_id, l
      FROM exchange.trading_pairs tp
     CROSS JOIN LATERAL exchange._load_order_risk(tp.id) AS l
     WHERE l.any_rule;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION exchange.tg_risk_rules__refresh_order_limits() IS
    'Trigger: rebuilds the per-market cache of order-rule thresholds (risk_order_limits) after risk_rules or trading_pairs change.';
REVOKE ALL ON FUNCTION exchange.tg_risk_rules__refresh_order_limits() FROM PUBLIC;
