-- Schema tests: the domains' tables, partitioning, and the constraints that protect money.
BEGIN;
SELECT plan(26);

SELECT has_schema('exchange');
SELECT is(
    ARRAY(SELECT unnest(ARRAY[
        'users', 'roles', 'permissions', 'role_permissions', 'user_roles', 'kyc_verifications',
        'assets', 'accounts', 'journal', 'transactions',
        'trading_pairs', 'orders', 'trades', 'klines',
        'risk_rules', 'risk_events',
        'settlement_batches', 'settlement_details', 'settlement_pair_totals',
        'settlement_discrepancies',
        'notification_templates', 'notification_preferences', 'notifications',
        'audit_logs', 'outbox_events'])
          EXCEPT
          SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'exchange' AND c.relkind IN ('r', 'p')),
    '{}'::text[],
    'every domain of the seed has its tables (lists the missing ones)');

SELECT is(
    (SELECT array_agg(c.relname::text ORDER BY c.relname)
       FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'exchange'),
    ARRAY['audit_logs', 'klines', 'notifications', 'orders', 'trades'],
    'the five large tables are partitioned');

SELECT is(
    (SELECT count(*)::int FROM exchange.create_monthly_partitions(3) WHERE NOT created),
    20, 'this month and the next three exist for all five tables');

SELECT col_is_pk('exchange', 'orders', ARRAY['id', 'created_at'], 'orders key includes the partition key');
SELECT ok(EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'exchange.trades'::regclass AND confrelid = 'exchange.orders'::regclass
                     AND conname = 'trades_buyer_order_fkey'),
          'trades reference the buyer order (id, created_at) of the partitioned orders');
SELECT ok(EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = 'exchange.trades'::regclass AND confrelid = 'exchange.orders'::regclass
                     AND conname = 'trades_seller_order_fkey'),
          'trades reference the seller order (id, created_at) of the partitioned orders');
SELECT has_column('exchange', 'users', 'uuid', 'users carry a UUID external id');
SELECT col_default_is('exchange', 'users', 'uuid', 'gen_random_uuid()', 'users.uuid defaults to the core gen_random_uuid()');
SELECT has_column('exchange', 'assets', 'is_active', 'assets have is_active');

-- Money constraints.
INSERT INTO exchange.users (username, email, password_hash) VALUES ('schema_t1', 's1@example.com', 'x');
INSERT INTO exchange.assets (symbol, name, type, decimals) VALUES ('TSTA', 'Test A', 'CRYPTO', 8);

SELECT throws_ok(
    $$INSERT INTO exchange.accounts (user_id, asset_id, available_balance)
      SELECT u.id, a.id, -1 FROM exchange.users u, exchange.assets a
       WHERE u.username = 'schema_t1' AND a.symbol = 'TSTA'$$,
    '23514', NULL, 'a negative user balance is refused by the CHECK, whoever writes it (movements refuse it first, typed: EX101)');
SELECT throws_ok(
    $$INSERT INTO exchange.accounts (user_id, asset_id, available_balance)
      SELECT u.id, a.id, 'NaN' FROM exchange.users u, exchange.assets a
       WHERE u.username = 'schema_t1' AND a.symbol = 'TSTA'$$,
    '23514', NULL, 'a NaN balance is refused');
SELECT throws_ok(
    $$INSERT INTO exchange.accounts (user_id, asset_id, frozen_balance)
      SELECT u.id, a.id, 'Infinity' FROM exchange.users u, exchange.assets a
       WHERE u.username = 'schema_t1' AND a.symbol = 'TSTA'$$,
    '22003', NULL, 'an infinite balance is refused');
SELECT lives_ok(
    $$INSERT INTO exchange.accounts (kind, asset_id, available_balance)
      SELECT 'EXTERNAL', a.id, -5 FROM exchange.assets a WHERE a.symbol = 'TSTA'$$,
    'the EXTERNAL counterpart account may be negative');
SELECT is((SELECT total_balance::numeric FROM exchange.accounts WHERE kind = 'EXTERNAL'
             AND asset_id = (SELECT id FROM exchange.assets WHERE symbol = 'TSTA')),
          -5::numeric, 'total_balance is generated from available + frozen');
SELECT throws_ok(
    $$INSERT INTO exchange.accounts (asset_id) SELECT a.id FROM exchange.assets a WHERE a.symbol = 'TSTA'$$,
    '23514', 'a USER account needs a user', 'a user account without a user is refused');
SELECT throws_ok(
    $$INSERT INTO exchange.accounts (kind, user_id, asset_id)
      SELECT 'REVENUE', u.id, a.id FROM exchange.users u, exchange.assets a
       WHERE u.username = 'schema_t1' AND a.symbol = 'TSTA'$$,
    '23514', 'a REVENUE account cannot have a user', 'a system account with a user is refused');
SELECT lives_ok(
    $$INSERT INTO exchange.accounts (user_id, asset_id)
      SELECT u.id, a.id FROM exchange.users u, exchange.assets a
       WHERE u.username = 'schema_t1' AND a.symbol = 'TSTA'$$,
    'a user account');
SELECT throws_ok(
    $$UPDATE exchange.accounts SET kind = 'FEE'
       WHERE user_id = (SELECT id FROM exchange.users WHERE username = 'schema_t1')$$,
    '23514', 'a FEE account cannot have a user', 'the owner rules hold for updates too');
SELECT throws_ok(
    $$INSERT INTO exchange.transactions (journal_id, account_id, asset_id, bucket, type, amount,
                                         balance_before, balance_after)
      VALUES (1, 1, 1, 'AVAILABLE', 'TEST', 0, 0, 0)$$,
    '23514', NULL, 'an entry of zero is refused by its domain');

INSERT INTO exchange.assets (symbol, name, type, decimals) VALUES ('TSTB', 'Test B', 'FIAT', 2);
INSERT INTO exchange.trading_pairs (symbol, base_asset_id, quote_asset_id)
SELECT 'TSTA-TSTB', a.id, b.id FROM exchange.assets a, exchange.assets b
 WHERE a.symbol = 'TSTA' AND b.symbol = 'TSTB';
SELECT throws_ok(
    $$UPDATE exchange.accounts SET trading_pair_id = (SELECT id FROM exchange.trading_pairs WHERE symbol = 'TSTA-TSTB')
       WHERE user_id = (SELECT id FROM exchange.users WHERE username = 'schema_t1')$$,
    '23514', 'a USER account cannot name a trading pair', 'only a FEE account names a pair');

SELECT throws_ok(
    $$INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price, remaining_amount)
      SELECT u.id, p.id, 'LIMIT', 'BUY', 0, 1, 0 FROM exchange.users u, exchange.trading_pairs p
       WHERE u.username = 'schema_t1' AND p.symbol = 'TSTA-TSTB'$$,
    '23514', NULL, 'a zero order amount is refused');
SELECT throws_ok(
    $$INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price, remaining_amount)
      SELECT u.id, p.id, 'LIMIT', 'BUY', 1, 'NaN', 1 FROM exchange.users u, exchange.trading_pairs p
       WHERE u.username = 'schema_t1' AND p.symbol = 'TSTA-TSTB'$$,
    '23514', NULL, 'a NaN price is refused');
SELECT throws_ok(
    $$INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price, remaining_amount, created_at)
      SELECT u.id, p.id, 'LIMIT', 'BUY', 1, 1, 1, '1999-01-01' FROM exchange.users u, exchange.trading_pairs p
       WHERE u.username = 'schema_t1' AND p.symbol = 'TSTA-TSTB'$$,
    '23514', 'no partition of relation "orders" found for row',
    'a row whose month has no partition is refused clearly (no default partition)');
SELECT throws_ok(
    $$INSERT INTO exchange.users (username, email, password_hash) VALUES ('schema_t2', 'S1@EXAMPLE.COM', 'x')$$,
    '23505', NULL, 'emails are unique case-insensitively');
SELECT throws_ok(
    $$INSERT INTO exchange.trading_pairs (symbol, base_asset_id, quote_asset_id)
      SELECT 'TSTA-TSTA', a.id, a.id FROM exchange.assets a WHERE a.symbol = 'TSTA'$$,
    '23514', NULL, 'a pair needs two different assets');

SELECT * FROM finish();
ROLLBACK;
