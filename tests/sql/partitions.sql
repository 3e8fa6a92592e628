-- Partition management: create_monthly_partitions (idempotent, months ahead),
-- partition_status (rows, sizes, missing months), drop_partitions_older_than (retention that
-- refuses to drop open orders or orders that kept trades reference).
BEGIN;
SELECT plan(23);

-- Fixtures: two users, a pair, and partitions six and five months back for every table.
INSERT INTO exchange.users (username, email, password_hash, status)
VALUES ('part_u1', 'part_u1@example.com', 'x', 'ACTIVE'),
       ('part_u2', 'part_u2@example.com', 'x', 'ACTIVE');
INSERT INTO exchange.assets (symbol, name, type, decimals)
VALUES ('PTA', 'Part A', 'CRYPTO', 8), ('PTB', 'Part B', 'FIAT', 2);
INSERT INTO exchange.trading_pairs (symbol, base_asset_id, quote_asset_id)
SELECT 'PTA-PTB', a.id, b.id FROM exchange.assets a, exchange.assets b
 WHERE a.symbol = 'PTA' AND b.symbol = 'PTB';

CREATE TEMP TABLE t_months AS
SELECT (date_trunc('month', now() AT TIME ZONE 'UTC'))::date AS this_month,
       (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '6 months')::date AS m6,
       (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '5 months')::date AS m5;

-- create_monthly_partitions
SELECT is((SELECT count(*)::int FROM exchange.create_monthly_partitions(3) WHERE created), 0,
          'the deploy made this month and the next three: a second call creates nothing');
SELECT is((SELECT count(*)::int FROM exchange.create_monthly_partitions(1, (SELECT m6 FROM t_months))
            WHERE created), 10,
          'partitions for two past months are created for the five tables');
SELECT is((SELECT count(*)::int FROM exchange.create_monthly_partitions(1, (SELECT m6 FROM t_months))
            WHERE created), 0, 'and calling it again creates nothing (idempotent)');
SELECT is((SELECT count(*)::int FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
            WHERE n.nspname = 'exchange' AND c.relowner <> p.relowner), 0,
          'every partition, new ones included, belongs to the owner of its table');
SELECT throws_ok($$SELECT * FROM exchange.create_monthly_partitions(-1)$$, 'EX001', NULL,
                 'a negative horizon is refused with EX001');

-- partition_status: missing months ahead
SELECT is((SELECT count(*)::int FROM exchange.partition_status() WHERE missing), 0,
          'nothing is missing among this month and the next three');
SELECT is((SELECT array_agg(DISTINCT month) FROM exchange.partition_status(5) WHERE missing),
          (SELECT ARRAY[(this_month + interval '4 months')::date, (this_month + interval '5 months')::date]
             FROM t_months),
          'partition_status(5) reports months +4 and +5 as missing');
SELECT is((SELECT count(*)::int FROM exchange.partition_status(5) WHERE missing), 10,
          '... for each of the five tables');
SELECT is((SELECT count(*)::int FROM exchange.create_monthly_partitions(5) WHERE created), 10,
          'create_monthly_partitions(5) creates exactly the missing ones');
SELECT is((SELECT count(*)::int FROM exchange.partition_status(5) WHERE missing), 0,
          'after which none is missing');
SELECT throws_ok($$SELECT * FROM exchange.partition_status(-1)$$, 'EX001', NULL,
                 'partition_status refuses a negative horizon');

-- Rows: an old FILLED order, an old open order, and a trade between old orders.
INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price,
                             filled_amount, remaining_amount, status, created_at)
SELECT u.id, p.id, 'LIMIT', v.side::exchange.order_side, 1, 10, 1, 0, 'FILLED', m.m6 + interval '1 day'
  FROM exchange.users u, exchange.trading_pairs p, t_months m,
       (VALUES ('part_u1', 'BUY'), ('part_u2', 'SELL')) v(username, side)
 WHERE u.username = v.username AND p.symbol = 'PTA-PTB';
INSERT INTO exchange.trades (trading_pair_id, buyer_order_id, buyer_order_created_at,
                             seller_order_id, seller_order_created_at, buyer_user_id,
                             seller_user_id, price, amount, quote_amount, is_maker_buyer, created_at)
SELECT b.trading_pair_id, b.id, b.created_at, s.id, s.created_at, b.user_id, s.user_id,
       10, 1, 10, true, b.created_at + interval '1 hour'
  FROM exchange.orders b, exchange.orders s
 WHERE b.side = 'BUY' AND s.side = 'SELL' AND b.trading_pair_id = s.trading_pair_id
   AND b.created_at < (SELECT m5 FROM t_months) AND s.created_at < (SELECT m5 FROM t_months);
INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price,
                             remaining_amount, status, created_at)
SELECT u.id, p.id, 'LIMIT', 'BUY', 2, 9, 2, 'NEW', m.m5 + interval '2 days'
  FROM exchange.users u, exchange.trading_pairs p, t_months m
 WHERE u.username = 'part_u1' AND p.symbol = 'PTA-PTB';

SELECT is((SELECT row_count FROM exchange.partition_status()
            WHERE table_name = 'orders' AND month = (SELECT m6 FROM t_months)), 2::bigint,
          'partition_status counts the rows of each partition (orders six months back: 2)');
SELECT is((SELECT row_count FROM exchange.partition_status()
            WHERE table_name = 'trades' AND month = (SELECT m6 FROM t_months)), 1::bigint,
          '... (trades six months back: 1)');
SELECT ok((SELECT bool_and(total_bytes > 0) FROM exchange.partition_status() WHERE NOT missing),
          'and reports a size for every partition');

-- Retention
SELECT throws_ok($$SELECT * FROM exchange.drop_partitions_older_than(NULL)$$, 'EX001', NULL,
                 'retention refuses a NULL horizon');
SELECT throws_ok($$SELECT * FROM exchange.drop_partitions_older_than(3)$$, 'EX003', NULL,
                 'retention refuses to drop a partition that holds an open (NEW) order');
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'exchange'
              AND c.relname IN (SELECT 'orders_' || to_char(m5, 'YYYY_MM') FROM t_months
                                UNION ALL SELECT 'trades_' || to_char(m6, 'YYYY_MM') FROM t_months)),
          2, 'and drops nothing when it refuses (even the partitions that were free to go)');
UPDATE exchange.orders SET status = 'PENDING' WHERE status = 'NEW' AND user_id =
    (SELECT id FROM exchange.users WHERE username = 'part_u1') AND price = 9;
SELECT throws_ok($$SELECT * FROM exchange.drop_partitions_older_than(3)$$, 'EX003', NULL,
                 'a PENDING order also counts as open');
UPDATE exchange.orders SET status = 'CANCELED' WHERE status = 'PENDING' AND price = 9;

-- A trade kept (this month) that references an old order blocks that order's partition.
INSERT INTO exchange.trades (trading_pair_id, buyer_order_id, buyer_order_created_at,
                             seller_order_id, seller_order_created_at, buyer_user_id,
                             seller_user_id, price, amount, quote_amount, is_maker_buyer)
SELECT b.trading_pair_id, b.id, b.created_at, s.id, s.created_at, b.user_id, s.user_id,
       10, 1, 10, true
  FROM exchange.orders b, exchange.orders s
 WHERE b.side = 'BUY' AND s.side = 'SELL' AND b.price = 10 AND s.price = 10;
SELECT throws_ok($$SELECT * FROM exchange.drop_partitions_older_than(3)$$, 'EX003', NULL,
                 'retention refuses to drop orders that a kept trade references');
DELETE FROM exchange.trades WHERE created_at >= (SELECT this_month FROM t_months);

SELECT is((SELECT count(*)::int FROM exchange.drop_partitions_older_than(3, true)), 10,
          'a dry run reports the ten partitions it would drop');
SELECT is((SELECT count(*)::int FROM exchange.partition_status()
            WHERE month < (SELECT this_month - interval '3 months' FROM t_months)), 10,
          '... and drops none of them');
SELECT is(ARRAY(SELECT table_name || ':' || to_char(range_start AT TIME ZONE 'UTC', 'YYYY_MM')
                  FROM exchange.drop_partitions_older_than(3)),
          (SELECT ARRAY['trades:' || to_char(m6, 'YYYY_MM'), 'audit_logs:' || to_char(m6, 'YYYY_MM'),
                        'klines:' || to_char(m6, 'YYYY_MM'), 'notifications:' || to_char(m6, 'YYYY_MM'),
                        'orders:' || to_char(m6, 'YYYY_MM'),
                        'trades:' || to_char(m5, 'YYYY_MM'), 'audit_logs:' || to_char(m5, 'YYYY_MM'),
                        'klines:' || to_char(m5, 'YYYY_MM'), 'notifications:' || to_char(m5, 'YYYY_MM'),
                        'orders:' || to_char(m5, 'YYYY_MM')] FROM t_months),
          'with no open order left, retention drops the old partitions, oldest first, trades before orders');
SELECT is((SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, t_months m
            WHERE n.nspname = 'exchange'
              AND (c.relname LIKE '%\_' || to_char(m.m6, 'YYYY_MM')
                   OR c.relname LIKE '%\_' || to_char(m.m5, 'YYYY_MM'))), 0,
          'the old partitions are gone (detached and dropped, not left detached)');

SELECT * FROM finish();
ROLLBACK;
