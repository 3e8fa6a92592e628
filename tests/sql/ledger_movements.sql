-- Ledger movements: deposit, transfer, transfers (batch), with every refusal by SQLSTATE and
-- a check that a refused call changed nothing.
BEGIN;
SELECT plan(56);

CREATE FUNCTION pg_temp.ledger_state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(concat_ws(',', id, available_balance, frozen_balance, version), ';' ORDER BY id) FROM exchange.accounts),
        (SELECT count(*) FROM exchange.journal), (SELECT count(*) FROM exchange.transactions),
        (SELECT string_agg(key || coalesce(result_id::text, '-'), ';' ORDER BY key) FROM exchange.idempotency_keys),
        (SELECT string_agg(concat_ws(',', id, status, version), ';' ORDER BY id) FROM exchange.withdrawals),
        (SELECT string_agg(concat_ws(',', id, amount), ';' ORDER BY id) FROM exchange.holds)));
$$;
CREATE TEMP TABLE u AS
WITH ins AS (
    INSERT INTO exchange.users (username, email, password_hash, status, kyc_level)
    SELECT 'lm_' || n, 'lm_' || n || '@example.com', 'x', 'ACTIVE', 2
      FROM unnest(ARRAY['alice', 'bob', 'carol']) AS n
    RETURNING id, username)
SELECT substr(username, 4) AS name, id FROM ins;
CREATE FUNCTION pg_temp.uid(text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM u WHERE name = $1 $$;
SELECT lives_ok($$SELECT exchange.create_asset('LMA', 'Ledger test A', 'CRYPTO', 8)$$, 'create asset LMA');
SELECT lives_ok($$SELECT exchange.create_asset('LMF', 'Ledger test fiat', 'FIAT', 2)$$, 'create asset LMF');
CREATE FUNCTION pg_temp.bal(text, text) RETURNS numeric LANGUAGE sql AS $$
    SELECT COALESCE((SELECT b.available FROM exchange.balances(pg_temp.uid($1)) b WHERE b.asset = $2), 0) $$;

-- deposit: happy path and idempotency
SELECT ok(exchange.deposit(pg_temp.uid('alice'), 'LMA', 10, 'lm-d1') > 0, 'deposit returns a journal id');
SELECT is(pg_temp.bal('alice', 'LMA'), 10.0, 'deposit credits available');
SELECT is(exchange.deposit(pg_temp.uid('alice'), 'LMA', 10.000, 'lm-d1'),
          (SELECT result_id FROM exchange.idempotency_keys WHERE key = 'lm-d1'),
          'same key, same request (10 = 10.000): the original journal id');
SELECT is(pg_temp.bal('alice', 'LMA'), 10.0, 'the replay moved nothing');
SELECT is((SELECT count(*)::int FROM exchange.transactions t JOIN exchange.journal j ON j.id = t.journal_id
            WHERE j.id = (SELECT result_id FROM exchange.idempotency_keys WHERE key = 'lm-d1')), 2,
          'a deposit writes two entries (user and EXTERNAL)');
SELECT is((SELECT available_balance::numeric FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id
            WHERE a.kind = 'EXTERNAL' AND s.symbol = 'LMA'), -10.0, 'EXTERNAL holds minus the deposits');

CREATE TEMP TABLE st AS SELECT pg_temp.ledger_state() AS s;
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 11, 'lm-d1')$$, 'EX108', NULL, 'same key, other amount: EX108');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('bob'), 'LMA', 10, 'lm-d1')$$, 'EX108', NULL, 'same key, other user: EX108');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 10, 'lm-d1')$$, 'EX108', NULL, 'same key, other operation: EX108');
SELECT throws_ok($$SELECT exchange.deposit(-1, 'LMA', 1, 'lm-x1')$$, 'EX102', NULL, 'deposit: unknown user');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'NOPE', 1, 'lm-x2')$$, 'EX103', NULL, 'deposit: unknown asset');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 0, 'lm-x3')$$, 'EX105', NULL, 'deposit: zero');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', -1, 'lm-x4')$$, 'EX105', NULL, 'deposit: negative');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 'NaN', 'lm-x5')$$, 'EX105', NULL, 'deposit: NaN');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 'Infinity', 'lm-x6')$$, 'EX105', NULL, 'deposit: Infinity');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 0.000000001, 'lm-x7')$$, 'EX105', NULL, 'deposit: finer than 8 decimals');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMF', 1.005, 'lm-x8')$$, 'EX105', NULL, 'deposit: finer than 2 decimals (fiat)');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 1e18, 'lm-x9')$$, 'EX105', NULL, 'deposit: too large');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', NULL, 'lm-x10')$$, 'EX105', NULL, 'deposit: NULL amount');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 1, NULL)$$, 'EX109', NULL, 'deposit: NULL key');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 1, '')$$, 'EX109', NULL, 'deposit: empty key');
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 1, repeat('k', 201))$$, 'EX109', NULL, 'deposit: key too long');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'the refused deposits changed nothing');

-- transfer
SELECT ok(exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 2.5, 'lm-t1') > 0, 'transfer returns a journal id');
SELECT is(pg_temp.bal('alice', 'LMA'), 7.5, 'transfer debits the sender');
SELECT is(pg_temp.bal('bob', 'LMA'), 2.5, 'transfer credits the receiver (account created on first credit)');
SELECT is(exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 2.5, 'lm-t1'),
          (SELECT result_id FROM exchange.idempotency_keys WHERE key = 'lm-t1'), 'transfer replay returns the original id');
SELECT is(pg_temp.bal('bob', 'LMA'), 2.5, 'the transfer replay moved nothing');

DELETE FROM st; INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 7.50000001, 'lm-y1')$$, 'EX101', NULL, 'transfer: insufficient funds');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('carol'), pg_temp.uid('bob'), 'LMA', 1, 'lm-y2')$$, 'EX101', NULL, 'transfer: sender without an account');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('alice'), 'LMA', 1, 'lm-y3')$$, 'EX106', NULL, 'transfer to oneself');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), -5, 'LMA', 1, 'lm-y4')$$, 'EX102', NULL, 'transfer: unknown receiver');
SELECT throws_ok($$SELECT exchange.transfer(-5, pg_temp.uid('alice'), 'LMA', 1, 'lm-y5')$$, 'EX102', NULL, 'transfer: unknown sender');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'ZZZ', 1, 'lm-y6')$$, 'EX103', NULL, 'transfer: unknown asset');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', -1, 'lm-y7')$$, 'EX105', NULL, 'transfer: negative');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 'NaN', 'lm-y8')$$, 'EX105', NULL, 'transfer: NaN');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 0.123456789, 'lm-y9')$$, 'EX105', NULL, 'transfer: too many decimals');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 1, NULL)$$, 'EX109', NULL, 'transfer: NULL key');
SELECT throws_ok($$SELECT exchange.transfers('{}'::exchange.transfer_request[])$$, 'EX118', NULL, 'transfers: empty batch');
SELECT throws_ok($$SELECT exchange.transfers(ARRAY(SELECT ROW(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 0.01, 'lm-b' || i)::exchange.transfer_request FROM generate_series(1, 1001) i))$$, 'EX118', NULL, 'transfers: more than 1000');
SELECT throws_ok($$SELECT exchange.transfers(ARRAY[ROW(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 1, 'lm-dup'), ROW(pg_temp.uid('alice'), pg_temp.uid('carol'), 'LMA', 1, 'lm-dup')]::exchange.transfer_request[])$$, 'EX118', NULL, 'transfers: a key twice');
SELECT throws_ok($$SELECT exchange.transfers(ARRAY[ROW(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 1, 'lm-z1'), ROW(pg_temp.uid('alice'), pg_temp.uid('carol'), 'LMA', 7, 'lm-z2')]::exchange.transfer_request[])$$, 'EX101', NULL, 'transfers: all or none (the second lacks funds)');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'the refused transfers changed nothing');

-- transfers: a batch, netted, one journal record per transfer
SELECT is(cardinality(exchange.transfers(ARRAY[
          ROW(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 1, 'lm-c1'),
          ROW(pg_temp.uid('bob'), pg_temp.uid('carol'), 'LMA', 3, 'lm-c2'),
          ROW(pg_temp.uid('carol'), pg_temp.uid('alice'), 'LMA', 0.5, 'lm-c3')]::exchange.transfer_request[])), 3,
          'a batch returns one journal id per transfer');
SELECT is(ARRAY[pg_temp.bal('alice', 'LMA'), pg_temp.bal('bob', 'LMA'), pg_temp.bal('carol', 'LMA')],
          ARRAY[7.0, 0.5, 2.5]::numeric[], 'the batch moved the netted amounts (bob passed funds along)');
SELECT is((SELECT count(DISTINCT t.journal_id)::int FROM exchange.transactions t
            WHERE t.journal_id IN (SELECT result_id FROM exchange.idempotency_keys WHERE key LIKE 'lm-c_')), 3,
          'one journal record per transfer of the batch');
SELECT is((SELECT version FROM exchange.accounts WHERE user_id = pg_temp.uid('bob') AND kind = 'USER'), 2,
          'bob''s account was updated once for the whole batch (version 1 -> 2)');
CREATE TEMP TABLE mixed AS SELECT exchange.transfers(ARRAY[
          ROW(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 1, 'lm-c1'),
          ROW(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 1, 'lm-c4')]::exchange.transfer_request[]) AS ids;
SELECT is((SELECT ids FROM mixed),
          ARRAY[(SELECT result_id FROM exchange.idempotency_keys WHERE key = 'lm-c1'),
                (SELECT max(id) FROM exchange.journal)],
          'a batch mixing a replay and a new transfer: the replay returns its id, the new one moves');
SELECT is(pg_temp.bal('bob', 'LMA'), 1.5, 'only the new transfer of that batch moved');

-- inactive asset: no deposits or transfers
SELECT lives_ok($$SELECT exchange.deactivate_asset('LMA')$$, 'deactivate LMA');
DELETE FROM st; INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LMA', 1, 'lm-i1')$$, 'EX104', NULL, 'deposit on an inactive asset');
SELECT throws_ok($$SELECT exchange.transfer(pg_temp.uid('alice'), pg_temp.uid('bob'), 'LMA', 1, 'lm-i2')$$, 'EX104', NULL, 'transfer on an inactive asset');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'refusals on the inactive asset changed nothing');

SELECT is((SELECT count(*)::int FROM exchange.reconcile()), 0, 'reconcile finds nothing');
SELECT * FROM finish();
ROLLBACK;
