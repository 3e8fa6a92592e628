-- The demo's own statements (the market simulation of `pyexchange demo`).

-- name: demo_find_user
SELECT id FROM exchange.users WHERE username = %(username)s;

-- name: demo_create_user
-- Demo traders are created ACTIVE directly (the demo runs as the database owner); they have
-- no usable password.
INSERT INTO exchange.users (username, email, password_hash, status, kyc_level)
VALUES (%(username)s::text, %(username)s::text || '@demo.pyexchange.local', '!demo-no-login', 'ACTIVE', 2)
RETURNING id;

-- name: demo_fees
SELECT tp.symbol, s.symbol AS asset, trim_scale(a.available_balance) AS amount
  FROM exchange.accounts a
  JOIN exchange.assets s ON s.id = a.asset_id
  JOIN exchange.trading_pairs tp ON tp.id = a.trading_pair_id
 WHERE a.kind = 'FEE'
 ORDER BY tp.symbol, s.symbol;

-- name: demo_counts
SELECT (SELECT count(*) FROM exchange.orders) AS orders,
       (SELECT count(*) FROM exchange.trades) AS trades,
       (SELECT count(*) FROM exchange.order_book) AS resting,
       (SELECT count(*) FROM exchange.stop_orders) AS pending_stops,
       (SELECT count(*) FROM exchange.outbox_events) AS events;

-- name: demo_trading_checks
-- The trading invariants reconcile() does not cover: no crossed book, filled amounts equal
-- their trades, no hold left on an ended order.
SELECT 'crossed book' AS problem, tp.symbol AS detail
  FROM exchange.trading_pairs tp
 WHERE (SELECT max(price) FROM exchange.order_book b WHERE b.trading_pair_id = tp.id AND b.side = 'BUY')
    >= (SELECT min(price) FROM exchange.order_book b WHERE b.trading_pair_id = tp.id AND b.side = 'SELL')
UNION ALL
SELECT 'filled amount differs from its trades', o.id::text
  FROM exchange.orders o
 WHERE o.filled_amount <> COALESCE((SELECT sum(t.amount) FROM exchange.trades t
                                     WHERE t.buyer_order_id = o.id OR t.seller_order_id = o.id), 0)
UNION ALL
SELECT 'hold left on an ended order', o.id::text
  FROM exchange.orders o
 WHERE o.status NOT IN ('NEW', 'PARTIALLY_FILLED', 'PENDING') AND o.hold_amount <> 0;

-- name: demo_candles
-- Candles of %(seconds)s seconds from one pair's trades since %(since)s (the demo's charts:
-- a run shorter than a minute still gives a chart of several candles).
SELECT to_timestamp((floor(extract(epoch FROM t.created_at) / %(seconds)s) * %(seconds)s)::float8)
           AS open_time,
       (array_agg(t.price::numeric ORDER BY t.created_at, t.id))[1] AS open,
       max(t.price::numeric) AS high, min(t.price::numeric) AS low,
       (array_agg(t.price::numeric ORDER BY t.created_at DESC, t.id DESC))[1] AS close,
       sum(t.amount::numeric) AS volume
  FROM exchange.trades t
  JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id
 WHERE tp.symbol = %(symbol)s AND t.created_at >= %(since)s
 GROUP BY 1
 ORDER BY 1;
