-- Revert pyexchange:risk from pg
BEGIN;
DROP TABLE exchange.risk_order_limits;
DROP TYPE exchange.order_risk_limits;
DROP TABLE exchange.risk_settings, exchange.risk_order_rate, exchange.risk_events,
    exchange.risk_rules;
DROP DOMAIN exchange.order_count;
DROP FUNCTION exchange.tg_risk_rules__validate();
COMMIT;
