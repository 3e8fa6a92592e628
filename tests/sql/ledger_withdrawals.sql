-- Withdrawals: request (freeze amount + fee), complete (to EXTERNAL, fee to FEE), cancel;
-- every refusal by SQLSTATE, and a refused call changes nothing.
BEGIN;
SELECT plan(43);

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
    SELECT 'lw_' || n, 'lw_' || n || '@example.com', 'x', 'ACTIVE', 2
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
SELECT lives_ok($$SELECT exchange.create_asset('LWA', 'Withdraw test', 'CRYPTO', 8, 0.01, 0.0005)$$, 'create asset with minimum 0.01 and fee 0.0005');
SELECT lives_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LWA', 10, 'lw-d1')$$, 'deposit 10');

CREATE TEMP TABLE w1 AS SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 4, 'lw-w1') AS id;
SELECT is(pg_temp.bal('alice', 'LWA'), ARRAY[5.9995, 4.0005]::numeric[], 'withdraw freezes amount + fee');
SELECT is((SELECT status::text FROM exchange.get_withdrawal((SELECT id FROM w1))), 'PENDING', 'the withdrawal is PENDING');
SELECT is((SELECT fee::numeric FROM exchange.get_withdrawal((SELECT id FROM w1))), 0.0005, 'it records the asset''s fee');
SELECT is(exchange.withdraw(pg_temp.uid('alice'), 'LWA', 4, 'lw-w1'), (SELECT id FROM w1), 'withdraw replay returns the same withdrawal');
SELECT is(pg_temp.bal('alice', 'LWA'), ARRAY[5.9995, 4.0005]::numeric[], 'the replay froze nothing more');

INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 0.009, 'lw-x1')$$, 'EX107', NULL, 'below the minimum');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 6, 'lw-x2')$$, 'EX101', NULL, 'available < amount + fee');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 5.9995, 'lw-x3')$$, 'EX101', NULL, 'the fee is frozen on top (5.9995 + 0.0005 > 5.9995)');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('bob'), 'LWA', 1, 'lw-x4')$$, 'EX101', NULL, 'a user without an account');
SELECT throws_ok($$SELECT exchange.withdraw(-1, 'LWA', 1, 'lw-x5')$$, 'EX102', NULL, 'unknown user');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'NOPE', 1, 'lw-x6')$$, 'EX103', NULL, 'unknown asset');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 'NaN', 'lw-x7')$$, 'EX105', NULL, 'NaN');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 0, 'lw-x8')$$, 'EX105', NULL, 'zero');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 1.000000001, 'lw-x9')$$, 'EX105', NULL, 'too many decimals');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 999999999999999999.9, 'lw-x10')$$, 'EX101', NULL, 'amount + fee beyond any balance');
SELECT throws_ok($$SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 1, 'lw-w1')$$, 'EX108', NULL, 'same key, other amount');
SELECT throws_ok($$SELECT exchange.complete_withdrawal(-1)$$, 'EX112', NULL, 'complete: unknown withdrawal');
SELECT throws_ok($$SELECT exchange.cancel_withdrawal(-1)$$, 'EX112', NULL, 'cancel: unknown withdrawal');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'the refused calls changed nothing');

-- complete: amount to EXTERNAL, fee to the withdrawal FEE account
SELECT is((SELECT status::text FROM exchange.complete_withdrawal((SELECT id FROM w1), 'tx-abc')), 'COMPLETED', 'complete');
SELECT is(pg_temp.bal('alice', 'LWA'), ARRAY[5.9995, 0]::numeric[], 'the frozen amount + fee left the user');
SELECT is(pg_temp.system('EXTERNAL', 'LWA'), -6.0, 'EXTERNAL: -10 deposited + 4 paid out');
SELECT is(pg_temp.system('FEE', 'LWA'), 0.0005, 'the fee reached the withdrawal FEE account');
SELECT is((SELECT external_ref FROM exchange.get_withdrawal((SELECT id FROM w1))), 'tx-abc', 'the external reference is kept');
DELETE FROM st; INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange.complete_withdrawal((SELECT id FROM w1))$$, 'EX113', NULL, 'a completed withdrawal cannot complete again');
SELECT throws_ok($$SELECT exchange.cancel_withdrawal((SELECT id FROM w1))$$, 'EX113', NULL, 'a completed withdrawal cannot be cancelled');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'nothing changed');

-- cancel releases
CREATE TEMP TABLE w2 AS SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 1, 'lw-w2') AS id;
SELECT is((SELECT status::text || ' ' || note FROM exchange.cancel_withdrawal((SELECT id FROM w2), 'user asked')), 'CANCELLED user asked', 'cancel with a reason');
SELECT is(pg_temp.bal('alice', 'LWA'), ARRAY[5.9995, 0]::numeric[], 'cancel released amount + fee');
DELETE FROM st; INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange.cancel_withdrawal((SELECT id FROM w2))$$, 'EX113', NULL, 'a cancelled withdrawal cannot be cancelled again');
SELECT throws_ok($$SELECT exchange.complete_withdrawal((SELECT id FROM w2))$$, 'EX113', NULL, 'a cancelled withdrawal cannot complete');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'nothing changed');

-- REVIEW (issue 6 holds large withdrawals): cannot complete, can cancel
CREATE TEMP TABLE w3 AS SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 2, 'lw-w3') AS id;
UPDATE exchange.withdrawals SET status = 'REVIEW' WHERE id = (SELECT id FROM w3);
SELECT throws_ok($$SELECT exchange.complete_withdrawal((SELECT id FROM w3))$$, 'EX114', NULL, 'a withdrawal under review cannot complete');
SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'a REVIEW withdrawal still counts as a hold');
SELECT is((SELECT status::text FROM exchange.cancel_withdrawal((SELECT id FROM w3))), 'CANCELLED', 'a withdrawal under review can be cancelled');

-- inactive asset: withdrawals still allowed
SELECT lives_ok($$SELECT exchange.deactivate_asset('LWA')$$, 'deactivate');
SELECT ok(exchange.withdraw(pg_temp.uid('alice'), 'LWA', 1, 'lw-w4') > 0, 'withdraw from an inactive asset');

-- access: an acting user needs withdrawal:approve to complete; the owner may cancel
CREATE TEMP TABLE w5 AS SELECT exchange.withdraw(pg_temp.uid('alice'), 'LWA', 1, 'lw-w5') AS id;
SELECT set_config('exchange.acting_user_id', pg_temp.uid('bob')::text, true);
SELECT throws_ok($$SELECT exchange.complete_withdrawal((SELECT id FROM w5))$$, 'EX321', NULL, 'a user without withdrawal:approve cannot complete');
SELECT throws_ok($$SELECT exchange.cancel_withdrawal((SELECT id FROM w5))$$, 'EX321', NULL, 'nor cancel another user''s withdrawal');
SELECT set_config('exchange.acting_user_id', pg_temp.uid('alice')::text, true);
SELECT is((SELECT status::text FROM exchange.cancel_withdrawal((SELECT id FROM w5))), 'CANCELLED', 'the owner cancels their own');
SELECT set_config('exchange.acting_user_id', '', true);

SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'reconcile finds nothing');
SELECT * FROM finish();
ROLLBACK;
