-- Operations: the partition horizon, retention of one table at a time (EX020 for a table that
-- is not partitioned; orders refused while any trade references them), the monitoring
-- functions' argument checks, and a dry run of run_maintenance that changes nothing.
BEGIN;
SELECT plan(12);

CREATE TEMP TABLE t_m AS
SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM') AS this_month,
       to_char((now() AT TIME ZONE 'UTC') + interval '3 months', 'YYYY_MM') AS plus3;

SELECT is(exchange._partition_horizon(), 3, 'after the deploy every table covers 3 months ahead');
SELECT lives_ok(format('ALTER TABLE exchange.klines DETACH PARTITION exchange.klines_%s; DROP TABLE exchange.klines_%s',
                       (SELECT plus3 FROM t_m), (SELECT plus3 FROM t_m)), 'drop the klines of month +3');
SELECT is(exchange._partition_horizon(), 2, 'one table short of a month ahead shortens the horizon');
SELECT lives_ok(format('ALTER TABLE exchange.klines DETACH PARTITION exchange.klines_%s',
                       (SELECT this_month FROM t_m)), 'detach the klines of this month');
SELECT is(exchange._partition_horizon(), -1, 'a table without this month gives -1');

SELECT throws_ok($$SELECT * FROM exchange.drop_partitions_older_than(1, true, 'users')$$, 'EX020', NULL,
                 'retention of a table that is not partitioned is refused with EX020');

-- an orders partition far back whose order a (kept, older) trade references
INSERT INTO exchange.users (username, email, password_hash, status)
VALUES ('ops_t1', 'ops_t1@example.com', 'x', 'ACTIVE');
INSERT INTO exchange.assets (symbol, name, type, decimals)
VALUES ('OPA', 'Ops A', 'CRYPTO', 8), ('OPB', 'Ops B', 'FIAT', 2);
INSERT INTO exchange.trading_pairs (symbol, base_asset_id, quote_asset_id)
SELECT 'OPA-OPB', a.id, b.id FROM exchange.assets a, exchange.assets b
 WHERE a.symbol = 'OPA' AND b.symbol = 'OPB';
SELECT lives_ok($$SELECT * FROM exchange.create_monthly_partitions(0, (current_date - interval '5 years')::date)$$,
                'partitions five years back');
INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price,
                             filled_amount, remaining_amount, status, created_at)
SELECT u.id, p.id, 'LIMIT', s.side::exchange.order_side, 1, 10, 1, 0, 'FILLED',
       date_trunc('month', now() - interval '5 years') + interval '1 day'
  FROM exchange.users u, exchange.trading_pairs p, (VALUES ('BUY'), ('SELL')) s(side)
 WHERE u.username = 'ops_t1' AND p.symbol = 'OPA-OPB';
INSERT INTO exchange.trades (trading_pair_id, buyer_order_id, buyer_order_created_at,
                             seller_order_id, seller_order_created_at, buyer_user_id,
                             seller_user_id, price, amount, quote_amount, is_maker_buyer, created_at)
SELECT b.trading_pair_id, b.id, b.created_at, s.id, s.created_at, b.user_id, s.user_id,
       10, 1, 10, true, date_trunc('month', now() - interval '5 years') + interval '2 days'
  FROM exchange.orders b, exchange.orders s
 WHERE b.side = 'BUY' AND s.side = 'SELL' AND b.price = 10 AND s.price = 10;
SELECT throws_ok($$SELECT * FROM exchange.drop_partitions_older_than(12, false, 'orders')$$, 'EX003', NULL,
                 'orders alone: refused while any trade, even one as old, references them');
SELECT is((SELECT array_agg(table_name) FROM exchange.drop_partitions_older_than(12, false, 'trades')),
          ARRAY['trades'], 'trades alone: only the trades partition goes');
SELECT is((SELECT array_agg(table_name) FROM exchange.drop_partitions_older_than(12, false, 'orders')),
          ARRAY['orders'], '... and then the orders partition may go');

SELECT throws_ok($$SELECT * FROM exchange.monitor_overview(interval '0')$$, 'EX001', NULL,
                 'monitor_overview refuses an empty window');
SELECT is((SELECT count(*)::int FROM exchange.run_maintenance(true) WHERE outcome = 'would create')
          + (SELECT count(*)::int FROM exchange.size_history),
          2, 'a dry run reports the two klines months to create and records no sample');

SELECT * FROM finish();
ROLLBACK;
