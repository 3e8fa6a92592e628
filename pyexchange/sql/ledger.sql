-- Ledger: assets, movements, withdrawals, holds, balances, history, reconciliation
-- (functions in functions/*.sql). Amounts come back with trailing zeros trimmed.

-- name: create_asset
SELECT a.id, a.symbol, a.name, a.type, a.decimals,
       trim_scale(a.min_withdraw_amount) AS min_withdraw_amount,
       trim_scale(a.withdraw_fee) AS withdraw_fee, a.is_active, a.created_at
  FROM exchange.create_asset(%(symbol)s, %(name)s, %(type)s, %(decimals)s,
                             %(min_withdraw_amount)s, %(withdraw_fee)s) AS a;

-- name: deactivate_asset
SELECT a.id, a.symbol, a.name, a.type, a.decimals,
       trim_scale(a.min_withdraw_amount) AS min_withdraw_amount,
       trim_scale(a.withdraw_fee) AS withdraw_fee, a.is_active, a.created_at
  FROM exchange.deactivate_asset(%(symbol)s) AS a;

-- name: activate_asset
SELECT a.id, a.symbol, a.name, a.type, a.decimals,
       trim_scale(a.min_withdraw_amount) AS min_withdraw_amount,
       trim_scale(a.withdraw_fee) AS withdraw_fee, a.is_active, a.created_at
  FROM exchange.activate_asset(%(symbol)s) AS a;

-- name: list_assets
SELECT a.id, a.symbol, a.name, a.type, a.decimals,
       trim_scale(a.min_withdraw_amount) AS min_withdraw_amount,
       trim_scale(a.withdraw_fee) AS withdraw_fee, a.is_active, a.created_at
  FROM exchange.list_assets() AS a;

-- name: deposit
SELECT exchange.deposit(%(user_id)s, %(asset)s, %(amount)s, %(idempotency_key)s) AS journal_id;

-- name: transfer
SELECT exchange.transfer(%(from_user_id)s, %(to_user_id)s, %(asset)s, %(amount)s,
                         %(idempotency_key)s) AS journal_id;

-- name: transfers
SELECT r.journal_id
  FROM unnest(exchange.transfers(ARRAY(
           SELECT ROW(t.f, t.t, t.a, t.m, t.k)::exchange.transfer_request
             FROM unnest(%(from_user_ids)s::bigint[], %(to_user_ids)s::bigint[],
                         %(assets)s::text[], %(amounts)s::numeric[], %(keys)s::text[])
                  WITH ORDINALITY AS t(f, t, a, m, k, ord)
            ORDER BY t.ord))) WITH ORDINALITY AS r(journal_id, ord)
 ORDER BY r.ord;

-- name: withdraw
SELECT exchange.withdraw(%(user_id)s, %(asset)s, %(amount)s, %(idempotency_key)s);

-- name: get_withdrawal
SELECT w.id, w.user_id, a.symbol AS asset, trim_scale(w.amount) AS amount,
       trim_scale(w.fee) AS fee, w.status, w.external_ref, w.note, w.version, w.created_at,
       w.finished_at
  FROM exchange.get_withdrawal(%(withdrawal_id)s) AS w
  JOIN exchange.list_assets() AS a ON a.id = w.asset_id;

-- name: list_withdrawals
SELECT w.id, w.user_id, a.symbol AS asset, trim_scale(w.amount) AS amount,
       trim_scale(w.fee) AS fee, w.status, w.external_ref, w.note, w.version, w.created_at,
       w.finished_at
  FROM exchange.list_withdrawals(%(user_id)s, %(status)s, %(limit)s) AS w
  JOIN exchange.list_assets() AS a ON a.id = w.asset_id
 ORDER BY w.created_at DESC, w.id DESC;

-- name: complete_withdrawal
SELECT w.id, w.user_id, a.symbol AS asset, trim_scale(w.amount) AS amount,
       trim_scale(w.fee) AS fee, w.status, w.external_ref, w.note, w.version, w.created_at,
       w.finished_at
  FROM exchange.complete_withdrawal(%(withdrawal_id)s, %(external_ref)s) AS w
  JOIN exchange.list_assets() AS a ON a.id = w.asset_id;

-- name: cancel_withdrawal
SELECT w.id, w.user_id, a.symbol AS asset, trim_scale(w.amount) AS amount,
       trim_scale(w.fee) AS fee, w.status, w.external_ref, w.note, w.version, w.created_at,
       w.finished_at
  FROM exchange.cancel_withdrawal(%(withdrawal_id)s, %(reason)s) AS w
  JOIN exchange.list_assets() AS a ON a.id = w.asset_id;

-- name: freeze
SELECT exchange.freeze(%(user_id)s, %(asset)s, %(amount)s, %(reference_type)s,
                       %(reference_id)s, %(idempotency_key)s) AS hold_id;

-- name: unfreeze
SELECT exchange.unfreeze(%(user_id)s, %(asset)s, %(amount)s, %(reference_type)s,
                         %(reference_id)s, %(idempotency_key)s) AS hold_id;

-- name: balances
SELECT b.asset, trim_scale(b.available) AS available, trim_scale(b.frozen) AS frozen,
       trim_scale(b.total) AS total, b.version, b.updated_at
  FROM exchange.balances(%(user_id)s) AS b;

-- name: balance_at
SELECT trim_scale(b.available) AS available, trim_scale(b.frozen) AS frozen,
       trim_scale(b.total) AS total
  FROM exchange.balance_at(%(user_id)s, %(asset)s, %(at)s) AS b;

-- name: account_history
SELECT h.entry_id, h.journal_id, h.created_at, h.type, h.bucket, trim_scale(h.amount) AS amount,
       trim_scale(h.balance_before) AS balance_before,
       trim_scale(h.balance_after) AS balance_after, h.reference_type, h.reference_id
  FROM exchange.account_history(%(user_id)s, %(asset)s, %(from_time)s, %(to_time)s, %(limit)s,
                                %(after_id)s, %(before_id)s) AS h;

-- name: reconcile
SELECT r.check_name, r.asset, r.account_id, r.user_id, r.journal_id,
       trim_scale(r.expected) AS expected, trim_scale(r.actual) AS actual, r.detail
  FROM exchange.reconcile() AS r;
