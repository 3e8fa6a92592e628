-- History, balance_at, balances and reconcile(): each check of reconcile() is shown to catch
-- the corruption it is about.
BEGIN;
SELECT plan(29);

CREATE FUNCTION pg_temp.ledger_state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(concat_ws(',', id, available_balance, frozen_balance, version), ';' ORDER BY id) FROM exchange.accounts),
        (SELECT count(*) FROM exchange.journal), (SELECT count(*) FROM exchange.transactions),
        (SELECT string_agg(key || coalesce(result_id::text, '-'), ';' ORDER BY key) FROM exchange.idempotency_keys),
        (SELECT string_agg(concat_ws(',', id, status, version), ';' ORDER BY id) FROM exchange.withdrawals),
        (SELECT string_agg(concat_ws(',', id, amount), ';' ORDER BY id) FROM exchange.holds),
        (SELECT string_agg(concat_ws(',', id, is_active), ';' ORDER BY id) FROM exchange.assets)));
$$;
CREATE TEMP TABLE u AS
WITH ins AS (
    INSERT INTO exchange.users (username, email, password_hash, status, kyc_level)
    SELECT 'lr_' || n, 'lr_' || n || '@example.com', 'x', 'ACTIVE', 2
      FROM unnest(ARRAY['alice', 'bob', 'carol']) AS n
    RETURNING id, username)
SELECT substr(username, 4) AS name, id FROM ins;
CREATE FUNCTION pg_temp.uid(text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM u WHERE name = $1 $$;
CREATE FUNCTION pg_temp.bal(text, text) RETURNS numeric[] LANGUAGE sql AS $$
    SELECT COALESCE((SELECT ARRAY[b.available, b.frozen] FROM exchange.balances(pg_temp.uid($1)) b WHERE b.asset = $2), '{0,0}') $$;
CREATE FUNCTION pg_temp.system(text, text) RETURNS numeric LANGUAGE sql AS $$
    SELECT a.available_balance FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id
     WHERE a.kind = $1::exchange.account_kind AND s.symbol = $2 AND a.trading_pair_id IS NULL $$;
CREATE TEMP TABLE st (s text);
SELECT lives_ok($$SELECT exchange.create_asset('LRA', 'Reconcile test', 'CRYPTO', 8)$$, 'asset');
SELECT lives_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LRA', 10, 'lr-d1')$$, 'deposit');
SELECT lives_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LRA', 4, 'lr-t1')$$, 'transfer');
SELECT lives_ok($$SELECT exchange.freeze(pg_temp.uid('bob'), 'LRA', 1, 'MARGIN', 1, 'lr-f1')$$, 'freeze');

-- balances, history, balance_at
SELECT is((SELECT array_agg(asset || ':' || trim_scale(available) || '/' || trim_scale(frozen)) FROM exchange.balances(pg_temp.uid('bob'))),
          ARRAY['LRA:3/1'], 'balances');
SELECT throws_ok($$SELECT * FROM exchange.balances(-1)$$, 'EX102', NULL, 'balances: unknown user');
SELECT is((SELECT array_agg(type || ' ' || bucket || ' ' || trim_scale(amount) || ' ' || trim_scale(balance_after) ORDER BY entry_id)
             FROM exchange.account_history(pg_temp.uid('bob'), 'LRA')),
          ARRAY['TRANSFER AVAILABLE 4 4', 'FREEZE AVAILABLE -1 3', 'FREEZE FROZEN 1 1'], 'account_history, oldest first');
SELECT is((SELECT count(*)::int FROM exchange.account_history(pg_temp.uid('bob'), 'LRA', now() + interval '1 s')), 0, 'history from a later time is empty');
SELECT is((SELECT count(*)::int FROM exchange.account_history(pg_temp.uid('bob'), 'LRA', NULL, now())), 0, 'history before now excludes this transaction''s entries (p_to is exclusive)');
SELECT is((SELECT count(*)::int FROM exchange.account_history(pg_temp.uid('carol'), 'LRA')), 0, 'no account: no history');
SELECT throws_ok($$SELECT * FROM exchange.account_history(-1, 'LRA')$$, 'EX102', NULL, 'history: unknown user');
SELECT throws_ok($$SELECT * FROM exchange.account_history(pg_temp.uid('bob'), 'NOPE')$$, 'EX103', NULL, 'history: unknown asset');
SELECT is((SELECT ARRAY[available, frozen, total] FROM exchange.balance_at(pg_temp.uid('bob'), 'LRA', now())), ARRAY[3, 1, 4]::numeric[], 'balance_at now');
SELECT is((SELECT ARRAY[available, frozen, total] FROM exchange.balance_at(pg_temp.uid('bob'), 'LRA', now() - interval '1 s')), ARRAY[0, 0, 0]::numeric[], 'balance_at before the first entry');
SELECT throws_ok($$SELECT * FROM exchange.balance_at(pg_temp.uid('bob'), 'LRA', NULL)$$, 'EX001', NULL, 'balance_at without a time');
SELECT throws_ok($$SELECT * FROM exchange.balance_at(-1, 'LRA', now())$$, 'EX102', NULL, 'balance_at: unknown user');

-- reconcile: clean, then each corruption is caught (superuser writes bypassing the API)
SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'clean ledger: no discrepancy');
SAVEPOINT c;
UPDATE exchange.accounts SET available_balance = available_balance + 1 WHERE user_id = pg_temp.uid('alice');
SELECT is((SELECT array_agg(check_name ORDER BY check_name) FROM exchange.reconcile()),
          ARRAY['ASSET_NOT_ZERO', 'REPLAY_MISMATCH'], 'a balance changed without entries');
ROLLBACK TO SAVEPOINT c;
UPDATE exchange.transactions SET amount = amount + 1, balance_after = balance_after + 1
 WHERE id = (SELECT max(id) FROM exchange.transactions WHERE user_id = pg_temp.uid('alice'));
SELECT ok((SELECT array_agg(DISTINCT check_name) FROM exchange.reconcile()) @> ARRAY['JOURNAL_UNBALANCED', 'REPLAY_MISMATCH'], 'an entry changed: unbalanced record and replay mismatch');
ROLLBACK TO SAVEPOINT c;
UPDATE exchange.transactions SET balance_before = balance_before + 1, balance_after = balance_after + 1
 WHERE id = (SELECT min(id) FROM exchange.transactions WHERE user_id = pg_temp.uid('bob'));
SELECT is((SELECT array_agg(check_name) FROM exchange.reconcile()), ARRAY['ENTRY_CHAIN_BROKEN', 'ENTRY_CHAIN_BROKEN'], 'running balances that do not chain');
ROLLBACK TO SAVEPOINT c;
UPDATE exchange.transactions SET balance_before = balance_before - 1
 WHERE id = (SELECT max(id) FROM exchange.transactions WHERE user_id = pg_temp.uid('bob'));
SELECT is((SELECT array_agg(check_name ORDER BY check_name) FROM exchange.reconcile()), ARRAY['ENTRY_ARITHMETIC', 'ENTRY_CHAIN_BROKEN'], 'an entry whose balance_after is not balance_before + amount');
ROLLBACK TO SAVEPOINT c;
UPDATE exchange.transactions SET journal_id = -1
 WHERE id = (SELECT min(id) FROM exchange.transactions WHERE user_id = pg_temp.uid('bob'));
SELECT ok((SELECT array_agg(check_name) FROM exchange.reconcile()) @> ARRAY['ENTRY_REFERENCE'], 'an entry without its journal record');
ROLLBACK TO SAVEPOINT c;
UPDATE exchange.transactions SET user_id = pg_temp.uid('carol')
 WHERE id = (SELECT min(id) FROM exchange.transactions WHERE user_id = pg_temp.uid('bob'));
SELECT is((SELECT array_agg(check_name) FROM exchange.reconcile()), ARRAY['ENTRY_REFERENCE'], 'an entry whose user is not its account''s');
ROLLBACK TO SAVEPOINT c;
UPDATE exchange.holds SET amount = 2 WHERE user_id = pg_temp.uid('bob');
SELECT is((SELECT array_agg(check_name || ' ' || trim_scale(expected) || ' ' || trim_scale(actual)) FROM exchange.reconcile()),
          ARRAY['FROZEN_MISMATCH 2 1'], 'frozen differs from the manual holds');
ROLLBACK TO SAVEPOINT c;
INSERT INTO exchange.trading_pairs (symbol, base_asset_id, quote_asset_id)
SELECT 'LRA-LRB', a.id, b.id FROM exchange.assets a,
       (SELECT (exchange.create_asset('LRB', 'quote', 'FIAT', 2)).id) b WHERE a.symbol = 'LRA';
INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price, remaining_amount, hold_amount, status)
SELECT pg_temp.uid('bob'), id, 'LIMIT', 'SELL', 0.5, 100, 0.5, 0.5, 'NEW' FROM exchange.trading_pairs WHERE symbol = 'LRA-LRB';
SELECT is((SELECT array_agg(check_name || ' ' || trim_scale(expected) || ' ' || trim_scale(actual)) FROM exchange.reconcile()),
          ARRAY['FROZEN_MISMATCH 1.5 1'], 'an open sell order''s hold counts in the base asset');
UPDATE exchange.orders SET status = 'FILLED' WHERE user_id = pg_temp.uid('bob');
SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'a filled order holds nothing');
INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price, remaining_amount, hold_amount, status)
SELECT pg_temp.uid('carol'), id, 'LIMIT', 'BUY', 0.5, 100, 0.5, 50, 'PARTIALLY_FILLED' FROM exchange.trading_pairs WHERE symbol = 'LRA-LRB';
SELECT is((SELECT array_agg(check_name || ' ' || asset || ' ' || trim_scale(expected) || ' ' || trim_scale(actual)) FROM exchange.reconcile()),
          ARRAY['FROZEN_MISMATCH LRB 50 0'], 'an open buy order''s hold counts in the quote asset (even without an account)');
ROLLBACK TO SAVEPOINT c;
ALTER TABLE exchange.accounts DROP CONSTRAINT accounts_balances_nonnegative;
UPDATE exchange.accounts SET available_balance = -1 WHERE user_id = pg_temp.uid('alice');
SELECT ok((SELECT array_agg(check_name) FROM exchange.reconcile()) @> ARRAY['NEGATIVE_BALANCE'], 'a negative balance');
ROLLBACK TO SAVEPOINT c;
SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'clean again');
SELECT * FROM finish();
ROLLBACK;
