-- exchange._post_journals / _post_journal and exchange._post_pair: the posting primitives'
-- guards (EX010, EX101) on one record, several records and a pair, netting, running
-- balances, and ids.
BEGIN;
SELECT plan(37);

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
    SELECT 'lp_' || n, 'lp_' || n || '@example.com', 'x', 'ACTIVE', 2
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
SELECT lives_ok($$SELECT exchange.create_asset('LPA', 'post A', 'CRYPTO', 8)$$, 'asset A');
SELECT lives_ok($$SELECT exchange.create_asset('LPB', 'post B', 'CRYPTO', 8)$$, 'asset B');
SELECT lives_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LPA', 10, 'lp-d1')$$, 'deposit A');
SELECT lives_ok($$SELECT exchange.deposit(pg_temp.uid('bob'), 'LPA', 1, 'lp-d2')$$, 'deposit A to bob');
SELECT lives_ok($$SELECT exchange.deposit(pg_temp.uid('alice'), 'LPB', 5, 'lp-d3')$$, 'deposit B');
CREATE TEMP TABLE acc AS
SELECT (SELECT a.id FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id WHERE a.user_id = pg_temp.uid('alice') AND s.symbol = 'LPA') AS a_a,
       (SELECT a.id FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id WHERE a.user_id = pg_temp.uid('bob') AND s.symbol = 'LPA') AS b_a,
       (SELECT a.id FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id WHERE a.user_id = pg_temp.uid('alice') AND s.symbol = 'LPB') AS a_b;
INSERT INTO st SELECT pg_temp.ledger_state();
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT a_a FROM acc), -42], '{AVAILABLE,AVAILABLE}', '{-1,1}')$$, 'EX010', NULL, 'one record: an unknown account');
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT a_a FROM acc), (SELECT b_a FROM acc)], '{AVAILABLE,AVAILABLE}', '{-1,2}')$$, 'EX010', NULL, 'one record: unbalanced');
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT a_a FROM acc), (SELECT a_b FROM acc)], '{AVAILABLE,AVAILABLE}', '{-1,1}')$$, 'EX010', NULL, 'one record: balanced in sum but across two assets');
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT a_a FROM acc)], '{AVAILABLE}', '{NULL}'::numeric[])$$, 'EX010', NULL, 'one record: a NULL amount');
SELECT throws_ok($$SELECT exchange._post_journals('{T}', '{NULL}', '{NULL}', '{2,2}', ARRAY[(SELECT a_a FROM acc), (SELECT b_a FROM acc)], '{AVAILABLE,AVAILABLE}', '{-1,1}')$$, 'EX010', NULL, 'one record: a leg naming record 2');
SELECT throws_ok($$SELECT exchange._post_journals('{T,T}', '{NULL,NULL}', '{NULL,NULL}', '{1,3}', ARRAY[(SELECT a_a FROM acc), (SELECT b_a FROM acc)], '{AVAILABLE,AVAILABLE}', '{-1,1}')$$, 'EX010', NULL, 'several records: a leg naming record 3');
SELECT throws_ok($$SELECT exchange._post_journals('{T,T}', '{NULL,NULL}', '{NULL,NULL}', '{1,1,2,2}', ARRAY[(SELECT a_a FROM acc), (SELECT b_a FROM acc), (SELECT a_a FROM acc), (SELECT b_a FROM acc)], '{AVAILABLE,AVAILABLE,AVAILABLE,AVAILABLE}', '{-1,1,-1,2}')$$, 'EX010', NULL, 'several records: the second unbalanced');
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT b_a FROM acc), (SELECT a_a FROM acc)], '{AVAILABLE,AVAILABLE}', '{-2,2}')$$, 'EX101', NULL, 'one record: a balance would go negative');
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT a_a FROM acc), (SELECT a_a FROM acc), -42], '{AVAILABLE,FROZEN,AVAILABLE}', '{-1,0,1}')$$, 'EX010', NULL, 'one record of three legs: an unknown account');
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT a_a FROM acc), (SELECT a_a FROM acc), (SELECT a_b FROM acc)], '{AVAILABLE,FROZEN,AVAILABLE}', '{-1,0,1}')$$, 'EX010', NULL, 'one record of three legs: balanced in sum but across two assets');
SELECT throws_ok($$SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT b_a FROM acc), (SELECT b_a FROM acc)], '{AVAILABLE,FROZEN}', '{-2,2}')$$, 'EX101', NULL, 'one record on one account: its available balance would go negative');
SELECT throws_ok($$SELECT exchange._post_pair('T', NULL, NULL, (SELECT a_a FROM acc), 'AVAILABLE', -42, 'AVAILABLE', 1)$$, 'EX010', 'journal legs name an unknown account', 'a pair: an unknown account');
SELECT throws_ok($$SELECT exchange._post_pair('T', NULL, NULL, (SELECT a_a FROM acc), 'AVAILABLE', (SELECT a_b FROM acc), 'AVAILABLE', 1)$$, 'EX010', NULL, 'a pair: two assets');
SELECT throws_ok($$SELECT exchange._post_pair('T', NULL, NULL, (SELECT a_a FROM acc), 'AVAILABLE', (SELECT b_a FROM acc), 'AVAILABLE', 0)$$, 'EX010', 'malformed journal legs', 'a pair: an amount of zero');
SELECT throws_ok($$SELECT exchange._post_pair('T', NULL, NULL, (SELECT a_a FROM acc), 'AVAILABLE', (SELECT a_a FROM acc), 'AVAILABLE', 1)$$, 'EX010', 'malformed journal legs', 'a pair: one bucket to itself');
SELECT throws_ok($$SELECT exchange._post_pair('T', NULL, NULL, (SELECT a_a FROM acc), NULL, (SELECT b_a FROM acc), 'AVAILABLE', 1)$$, 'EX010', 'malformed journal legs', 'a pair: no bucket');
SELECT throws_ok($$SELECT exchange._post_pair('T', NULL, NULL, (SELECT b_a FROM acc), 'AVAILABLE', (SELECT a_a FROM acc), 'AVAILABLE', 2)$$, 'EX101', NULL, 'a pair: the available balance would go negative');
SELECT throws_ok($$SELECT exchange._post_pair('T', NULL, NULL, (SELECT b_a FROM acc), 'FROZEN', (SELECT b_a FROM acc), 'AVAILABLE', 1)$$, 'EX101', NULL, 'a pair on one account: its frozen balance would go negative');
SELECT is(pg_temp.ledger_state(), (SELECT s FROM st), 'the refused postings changed nothing');

-- one record: netting, and a net of zero writes no entry
CREATE TEMP TABLE j1 AS SELECT exchange._post_journal('T', 'X', 1, ARRAY[(SELECT a_a FROM acc), (SELECT b_a FROM acc), (SELECT a_a FROM acc), (SELECT b_a FROM acc), (SELECT a_a FROM acc), (SELECT a_a FROM acc)], '{AVAILABLE,AVAILABLE,AVAILABLE,AVAILABLE,AVAILABLE,FROZEN}', '{-3,3,1,-1,-1,1}') AS id;
SELECT is((SELECT array_agg(account_id::text || bucket::text || trim_scale(amount) || ':' || trim_scale(balance_before) || '>' || trim_scale(balance_after) ORDER BY id) FROM exchange.transactions WHERE journal_id = (SELECT id FROM j1)),
          ARRAY[(SELECT a_a FROM acc) || 'AVAILABLE-3:10>7', (SELECT a_a FROM acc) || 'FROZEN1:0>1', (SELECT b_a FROM acc) || 'AVAILABLE2:1>3'],
          'netted per (account, bucket), ordered by account then bucket, with balances before and after');
-- one record, two legs on one account (a hold): one row update, an entry per bucket
CREATE TEMP TABLE jh AS SELECT exchange._post_journal('HOLD', 'X', 2, ARRAY[(SELECT a_a FROM acc), (SELECT a_a FROM acc)], '{FROZEN,AVAILABLE}', '{0.5,-0.5}') AS id;
SELECT is((SELECT array_agg(bucket::text || trim_scale(amount) || ':' || trim_scale(balance_before) || '>' || trim_scale(balance_after) ORDER BY id) FROM exchange.transactions WHERE journal_id = (SELECT id FROM jh)),
          ARRAY['AVAILABLE-0.5:7>6.5', 'FROZEN0.5:1>1.5'], 'a hold: one entry per bucket, ordered by bucket, with balances before and after');
SELECT is(pg_temp.bal('alice', 'LPA'), ARRAY[6.5, 1.5]::numeric[], 'a hold: available and frozen of the one account both moved');
CREATE TEMP TABLE j2 AS SELECT exchange._post_journal('T', NULL, NULL, ARRAY[(SELECT a_a FROM acc), (SELECT a_a FROM acc)], '{AVAILABLE,AVAILABLE}', '{-1,1}') AS id;
SELECT is((SELECT count(*)::int FROM exchange.transactions WHERE journal_id = (SELECT id FROM j2)), 0, 'a net of zero writes no entry');
SELECT ok((SELECT id FROM j2) > (SELECT id FROM j1), 'journal ids increase');

-- several records: one balance update per account, running balances in record order
CREATE TEMP TABLE v0 AS SELECT version FROM exchange.accounts WHERE id = (SELECT b_a FROM acc);
CREATE TEMP TABLE jn AS SELECT exchange._post_journals('{FA,FB,FC}', '{FILL,FILL,FILL}', '{1,2,3}', '{1,1,2,2,3,3}',
    ARRAY[(SELECT a_a FROM acc), (SELECT b_a FROM acc), (SELECT a_a FROM acc), (SELECT b_a FROM acc), (SELECT b_a FROM acc), (SELECT a_a FROM acc)],
    '{AVAILABLE,AVAILABLE,AVAILABLE,AVAILABLE,AVAILABLE,AVAILABLE}', '{-1,1,-2,2,-0.5,0.5}') AS ids;
SELECT is(cardinality((SELECT ids FROM jn)), 3, 'one id per record');
SELECT is((SELECT array_agg(type || ':' || trim_scale(balance_before) || '>' || trim_scale(balance_after) ORDER BY id) FROM exchange.transactions WHERE account_id = (SELECT b_a FROM acc) AND journal_id = ANY ((SELECT ids FROM jn)::bigint[])),
          ARRAY['FA:3>4', 'FB:4>6', 'FC:6>5.5'], 'running balances follow the records');
SELECT is((SELECT version FROM exchange.accounts WHERE id = (SELECT b_a FROM acc)), (SELECT version + 1 FROM v0), 'the account row was updated once for the call');
SELECT is((SELECT array_agg(check_name) FROM exchange.reconcile()), ARRAY['FROZEN_MISMATCH'], 'reconcile: only the freeze posted without a hold (the first record above)');

-- a pair: two accounts, then two buckets of one account
CREATE TEMP TABLE jp AS SELECT exchange._post_pair('TP', 'X', 3, (SELECT b_a FROM acc), 'AVAILABLE', (SELECT a_a FROM acc), 'AVAILABLE', 0.25) AS id;
SELECT is((SELECT array_agg(account_id::text || bucket::text || trim_scale(amount) || ':' || trim_scale(balance_before) || '>' || trim_scale(balance_after) ORDER BY id) FROM exchange.transactions WHERE journal_id = (SELECT id FROM jp)),
          ARRAY[(SELECT a_a FROM acc) || 'AVAILABLE0.25:4>4.25', (SELECT b_a FROM acc) || 'AVAILABLE-0.25:5.5>5.25'],
          'a pair: one entry per account, in account order, with balances before and after');
SELECT is((SELECT array_agg(type || reference_type || reference_id) FROM exchange.journal WHERE id = (SELECT id FROM jp)), ARRAY['TPX3'], 'a pair: its journal record');
CREATE TEMP TABLE jq AS SELECT exchange._post_pair('TQ', NULL, NULL, (SELECT b_a FROM acc), 'AVAILABLE', (SELECT b_a FROM acc), 'FROZEN', 5.25, nextval('exchange.journal_id_seq')) AS id;
SELECT is((SELECT array_agg(bucket::text || trim_scale(amount) || ':' || trim_scale(balance_before) || '>' || trim_scale(balance_after) ORDER BY id) FROM exchange.transactions WHERE journal_id = (SELECT id FROM jq)),
          ARRAY['AVAILABLE-5.25:5.25>0', 'FROZEN5.25:0>5.25'], 'a pair on one account (a hold): the journal id given, an entry per bucket, down to zero');
SELECT is((SELECT version FROM exchange.accounts WHERE id = (SELECT b_a FROM acc)), (SELECT version + 3 FROM v0), 'a pair updates an account once');
SELECT * FROM finish();
ROLLBACK;
