-- Verify pyexchange:risk on pg
BEGIN;
SELECT id, name, type, conditions, actions, level, is_active, priority, scope, action,
       trading_pair_id, asset_id, kyc_level, limit_value, window_seconds
  FROM exchange.risk_rules WHERE false;
SELECT id, user_id, rule_id, type, level, action, details, reference_type, reference_id, status,
       resolution_note, resolved_by, resolved_at
  FROM exchange.risk_events WHERE false;
SELECT user_id, window_seconds, window_start, count, prev_count FROM exchange.risk_order_rate WHERE false;
SELECT id, loopback_host, loopback_conninfo, loopback_password FROM exchange.risk_settings WHERE false;
SELECT 'exchange.order_risk_limits'::regtype, 'exchange.order_count'::regtype;
SELECT trading_pair_id, limits FROM exchange.risk_order_limits WHERE false;
SELECT 'exchange.tg_risk_rules__validate()'::regprocedure;
ROLLBACK;
