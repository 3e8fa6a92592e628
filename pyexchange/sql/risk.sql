-- Risk and clearing: risk rules, risk events, the review of held withdrawals, clearing
-- batches, settlement reports and daily statements (functions in functions/*.sql, see
-- docs/risk.md). Amounts come back with trailing zeros trimmed.

-- name: create_risk_rule
SELECT r.id, r.name, r.type, r.conditions, r.actions, r.level, r.is_active, r.priority,
       r.scope, r.action, r.created_by, r.created_at, r.updated_at
  FROM exchange.create_risk_rule(%(name)s, %(type)s, %(conditions)s, %(actions)s, %(level)s,
                                 %(priority)s, %(is_active)s) AS r;

-- name: update_risk_rule
SELECT r.id, r.name, r.type, r.conditions, r.actions, r.level, r.is_active, r.priority,
       r.scope, r.action, r.created_by, r.created_at, r.updated_at
  FROM exchange.update_risk_rule(%(rule_id)s, %(name)s, %(conditions)s, %(actions)s,
                                 %(level)s, %(priority)s) AS r;

-- name: set_risk_rule_active
SELECT r.id, r.name, r.type, r.conditions, r.actions, r.level, r.is_active, r.priority,
       r.scope, r.action, r.created_by, r.created_at, r.updated_at
  FROM exchange.set_risk_rule_active(%(rule_id)s, %(active)s) AS r;

-- name: list_risk_rules
SELECT r.id, r.name, r.type, r.conditions, r.actions, r.level, r.is_active, r.priority,
       r.scope, r.action, r.created_by, r.created_at, r.updated_at
  FROM exchange.list_risk_rules(%(include_inactive)s) AS r;

-- name: list_risk_events
SELECT e.id, e.user_id, e.rule_id, e.type, e.level, e.action, e.details, e.reference_type,
       e.reference_id, e.status, e.resolution_note, e.resolved_by, e.resolved_at, e.created_at
  FROM exchange.list_risk_events(%(user_id)s, %(level)s, %(status)s, %(limit)s,
                                 %(before_id)s) AS e;

-- name: resolve_risk_event
SELECT e.id, e.user_id, e.rule_id, e.type, e.level, e.action, e.details, e.reference_type,
       e.reference_id, e.status, e.resolution_note, e.resolved_by, e.resolved_at, e.created_at
  FROM exchange.resolve_risk_event(%(event_id)s, %(note)s, %(dismiss)s) AS e;

-- name: approve_withdrawal
SELECT w.id, w.user_id, a.symbol AS asset, trim_scale(w.amount) AS amount,
       trim_scale(w.fee) AS fee, w.status, w.external_ref, w.note, w.version, w.created_at,
       w.finished_at
  FROM exchange.approve_withdrawal(%(withdrawal_id)s, %(note)s) AS w
  JOIN exchange.list_assets() AS a ON a.id = w.asset_id;

-- name: reject_withdrawal
SELECT w.id, w.user_id, a.symbol AS asset, trim_scale(w.amount) AS amount,
       trim_scale(w.fee) AS fee, w.status, w.external_ref, w.note, w.version, w.created_at,
       w.finished_at
  FROM exchange.reject_withdrawal(%(withdrawal_id)s, %(note)s) AS w
  JOIN exchange.list_assets() AS a ON a.id = w.asset_id;

-- name: run_clearing
SELECT b.id, b.business_date, b.status, b.trades_count, b.cutoff_at, b.attempts,
       b.started_at, b.finished_at
  FROM exchange.run_clearing(%(business_date)s) AS b;

-- name: list_settlement_batches
SELECT b.id, b.business_date, b.status, b.trades_count, b.cutoff_at, b.attempts,
       b.started_at, b.finished_at
  FROM exchange.list_settlement_batches(%(limit)s) AS b;

-- name: settlement_report
SELECT r.batch_id, r.business_date, r.status, r.trades_count, r.cutoff_at, r.attempts,
       r.started_at, r.finished_at, r.pairs, r.assets, r.discrepancies
  FROM exchange.settlement_report(%(batch_id)s) AS r;

-- name: user_statement
SELECT s.user_id, s.business_date, s.asset, s.trades_count, s.bought, s.sold, s.fees_paid,
       s.net, s.batch_id, s.batch_status
  FROM exchange.user_statement(%(user_id)s, %(business_date)s) AS s;
