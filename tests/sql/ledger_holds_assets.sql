-- Holds (freeze/unfreeze) and assets (create, deactivate, activate, list): happy paths and
-- every refusal by SQLSTATE; a refused call changes nothing.
BEGIN;
SELECT plan(51);

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
    SELECT 'lh_' || n, 'lh_' || n || '@example.com', 'x', 'ACTIVE', 2
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
-- assets
SELECT is((SELECT symbol::text || ' ' || type::text || ' ' || decimals FROM exchange.create_asset('LHA', 'Hold test', 'CRYPTO', 6)),
          'LHA CRYPTO 6', 'create_asset returns the new asset');
SELECT is((SELECT array_agg(kind::text ORDER BY kind) FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id WHERE s.symbol = 'LHA'),
          ARRAY['EXTERNAL', 'FEE', 'REVENUE'], 'it creates the EXTERNAL, FEE and REVENUE accounts');
SELECT ok((SELECT is_active FROM exchange.list_assets() WHERE symbol = 'LHA'), 'list_assets shows it, active');
INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange.create_asset('LHA', 'again', 'CRYPTO', 6)$$, 'EX110', NULL, 'an existing symbol');
SELECT throws_ok($$SELECT exchange.create_asset('lh', 'lower', 'CRYPTO', 6)$$, 'EX111', NULL, 'a lower-case symbol');
SELECT throws_ok($$SELECT exchange.create_asset('LHB', 'x', 'STOCK', 6)$$, 'EX111', NULL, 'an unknown type');
SELECT throws_ok($$SELECT exchange.create_asset('LHB', 'x', 'CRYPTO', 19)$$, 'EX111', NULL, 'too many decimals');
SELECT throws_ok($$SELECT exchange.create_asset('LHB', '', 'CRYPTO', 2)$$, 'EX111', NULL, 'an empty name');
SELECT throws_ok($$SELECT exchange.create_asset('LHB', 'x', 'CRYPTO', 2, -1)$$, 'EX111', NULL, 'a negative minimum');
SELECT throws_ok($$SELECT exchange.create_asset('LHB', 'x', 'CRYPTO', 2, 0, 0.001)$$, 'EX111', NULL, 'a fee finer than the decimals');
SELECT throws_ok($$SELECT exchange.create_asset('LHB', 'x', 'CRYPTO', 2, 0, 'NaN')$$, 'EX111', NULL, 'a NaN fee');
SELECT throws_ok($$SELECT exchange.deactivate_asset('NOPE')$$, 'EX103', NULL, 'deactivate an unknown asset');
SELECT throws_ok($$SELECT exchange.activate_asset('NOPE')$$, 'EX103', NULL, 'activate an unknown asset');
SELECT set_config('exchange.acting_user_id', pg_temp.uid('bob')::text, true);
SELECT throws_ok($$SELECT exchange.create_asset('LHB', 'x', 'CRYPTO', 2)$$, 'EX321', NULL, 'an acting user without asset:create');
SELECT throws_ok($$SELECT exchange.deactivate_asset('LHA')$$, 'EX321', NULL, 'an acting user without asset:update');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('bob'), 'LHA', 1, 'lh-self')$$, 'EX321', NULL, 'a trader cannot credit a deposit');
SELECT set_config('exchange.acting_user_id', '', true);
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'the refused calls changed nothing');

-- freeze / unfreeze
SELECT lives_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LHA', 10, 'lh-d1')$$, 'deposit 10');
CREATE TEMP TABLE h AS SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 3, 'MARGIN', 42, 'lh-f1') AS id;
SELECT is(pg_temp.bal('alice', 'LHA'), ARRAY[7, 3]::numeric[], 'freeze moves available to frozen');
SELECT is((SELECT amount::numeric FROM exchange.holds WHERE id = (SELECT id FROM h)), 3.0, 'the hold records it');
SELECT is(exchange.freeze(pg_temp.uid('alice'), 'LHA', 3, 'MARGIN', 42, 'lh-f1'), (SELECT id FROM h), 'freeze replay: same hold');
SELECT is(exchange.freeze(pg_temp.uid('alice'), 'LHA', 1, 'MARGIN', 42, 'lh-f2'), (SELECT id FROM h), 'a second freeze on the reference adds to the hold');
SELECT is(pg_temp.bal('alice', 'LHA'), ARRAY[6, 4]::numeric[], 'the replay moved nothing; the second freeze did');
SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'frozen matches the holds');

DELETE FROM st; INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 6.000001, 'MARGIN', 42, 'lh-x1')$$, 'EX101', NULL, 'freeze more than available');
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('bob'), 'LHA', 1, 'MARGIN', 42, 'lh-x2')$$, 'EX101', NULL, 'freeze without an account');
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 1, 'margin', 42, 'lh-x3')$$, 'EX117', NULL, 'a lower-case reference type');
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 1, 'MARGIN', NULL, 'lh-x4')$$, 'EX117', NULL, 'no reference id');
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 0.0000001, 'MARGIN', 42, 'lh-x5')$$, 'EX105', NULL, 'freeze: too many decimals');
SELECT throws_ok($$SELECT exchange.freeze(-1, 'LHA', 1, 'MARGIN', 42, 'lh-x6')$$, 'EX102', NULL, 'freeze: unknown user');
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'NOPE', 1, 'MARGIN', 42, 'lh-x7')$$, 'EX103', NULL, 'freeze: unknown asset');
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 1, 'MARGIN', 43, 'lh-f1')$$, 'EX108', NULL, 'freeze: same key, other reference');
SELECT throws_ok($$SELECT exchange.unfreeze(pg_temp.uid('alice'), 'LHA', 1, 'MARGIN', 99, 'lh-x8')$$, 'EX115', NULL, 'unfreeze: no such hold');
SELECT throws_ok($$SELECT exchange.unfreeze(pg_temp.uid('alice'), 'LHA', 4.000001, 'MARGIN', 42, 'lh-x9')$$, 'EX116', NULL, 'unfreeze more than the hold');
SELECT throws_ok($$SELECT exchange.unfreeze(pg_temp.uid('alice'), 'LHA', -1, 'MARGIN', 42, 'lh-x10')$$, 'EX105', NULL, 'unfreeze: negative');
SELECT throws_ok($$SELECT exchange.unfreeze(pg_temp.uid('alice'), 'LHA', 1, '', 42, 'lh-x11')$$, 'EX117', NULL, 'unfreeze: empty reference type');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'the refused holds changed nothing');

SELECT is(exchange.unfreeze(pg_temp.uid('alice'), 'LHA', 1.5, 'MARGIN', 42, 'lh-u1'), (SELECT id FROM h), 'unfreeze part');
SELECT is(pg_temp.bal('alice', 'LHA'), ARRAY[7.5, 2.5]::numeric[], 'part released');
SELECT is(exchange.unfreeze(pg_temp.uid('alice'), 'LHA', NULL, 'MARGIN', 42, 'lh-u2'), (SELECT id FROM h), 'unfreeze the rest (NULL amount)');
SELECT is(pg_temp.bal('alice', 'LHA'), ARRAY[10, 0]::numeric[], 'all released');
SELECT throws_ok($$SELECT exchange.unfreeze(pg_temp.uid('alice'), 'LHA', NULL, 'MARGIN', 42, 'lh-u3')$$, 'EX116', NULL, 'unfreeze an empty hold');
SELECT is((SELECT array_agg(type ORDER BY entry_id) FROM exchange.account_history(pg_temp.uid('alice'), 'LHA') WHERE bucket = 'FROZEN'),
          ARRAY['FREEZE', 'FREEZE', 'UNFREEZE', 'UNFREEZE'], 'the history shows each hold movement');
SELECT is((SELECT DISTINCT reference_type || ' ' || reference_id FROM exchange.account_history(pg_temp.uid('alice'), 'LHA') WHERE bucket = 'FROZEN'),
          'MARGIN 42', 'with its reference');

-- inactive: no freezes, unfreezes allowed
SELECT lives_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 1, 'MARGIN', 7, 'lh-f3')$$, 'freeze again');
SELECT is((SELECT is_active FROM exchange.deactivate_asset('LHA')), false, 'deactivate');
SELECT is((SELECT is_active FROM exchange.deactivate_asset('LHA')), false, 'deactivate is idempotent');
SELECT throws_ok($$SELECT exchange.freeze(pg_temp.uid('alice'), 'LHA', 1, 'MARGIN', 7, 'lh-f4')$$, 'EX104', NULL, 'no freeze on an inactive asset');
SELECT lives_ok($$SELECT exchange.unfreeze(pg_temp.uid('alice'), 'LHA', 1, 'MARGIN', 7, 'lh-u4')$$, 'unfreeze on an inactive asset');
SELECT is((SELECT is_active FROM exchange.activate_asset('LHA')), true, 'activate');

SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'reconcile finds nothing');
SELECT * FROM finish();
ROLLBACK;
