-- Verify pyexchange:risk on pg
BEGIN;
SELECT id, name, type, conditions, actions, is_active, priority FROM exchange.risk_rules WHERE false;
SELECT id, user_id, rule_id, type, level, details, status FROM exchange.risk_events WHERE false;
ROLLBACK;
