-- The failover drill (pyexchange/ha_drill.py): its scratch users and the checks it runs
-- after the failover. It runs as the superuser of the scratch formation it creates.

-- name: ha_drill_user
INSERT INTO exchange.users (username, email, password_hash, status, kyc_level)
VALUES (%(username)s, %(email)s, 'drill: no login', 'ACTIVE', 2)
RETURNING id;

-- name: ha_drill_keys
SELECT k.key, k.result_id
  FROM exchange.idempotency_keys k
 WHERE k.key LIKE %(prefix)s;

-- name: ha_drill_orders
SELECT c.client_order_id::text AS client_order_id, c.order_id, o.status::text AS status
  FROM exchange.client_order_ids c
  JOIN exchange.orders o ON o.id = c.order_id
 WHERE c.client_order_id LIKE %(prefix)s;

-- name: ha_drill_crossed_books
SELECT tp.symbol
  FROM exchange.trading_pairs tp
 WHERE (SELECT max(b.price) FROM exchange.order_book b
         WHERE b.trading_pair_id = tp.id AND b.side = 'BUY')
    >= (SELECT min(b.price) FROM exchange.order_book b
         WHERE b.trading_pair_id = tp.id AND b.side = 'SELL');

-- name: ha_drill_counts
SELECT (SELECT count(*) FROM exchange.idempotency_keys) AS keys,
       (SELECT count(*) FROM exchange.journal) AS journal,
       (SELECT count(*) FROM exchange.orders) AS orders,
       (SELECT count(*) FROM exchange.trades) AS trades;
