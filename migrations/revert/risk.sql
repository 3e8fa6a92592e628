-- Revert pyexchange:risk from pg
BEGIN;
DROP TABLE exchange.risk_events, exchange.risk_rules;
COMMIT;
