"""``python -m benchmarks floor``: how far the engine's calls are from the cost of their own
writes, and what that leaves of the throughput targets.

For four kinds of transaction it measures the server CPU of one call (the backend's user +
system time from /proc, synchronous_commit off, least of 3 rounds; the server must run on
this host; ``benchmarks.common.cpu_per_call``):

- pgbench's TPC-B transaction (its five statements, BEGIN ... COMMIT), on ``pgbench -i -s 1``;
- ``exchange.transfer`` and a *floor* for it: one hand-written statement making the same
  writes (an idempotency key, both accounts locked in ascending id and updated, a journal
  record, two entries), with no validation and no PL/pgSQL;
- ``exchange.place_order`` of a limit buy that rests (far below the market, so it never
  matches) and a floor for it: one statement making a resting order's writes (the order, its
  book row, the hold: account locked and updated, journal record, two entries, an outbox
  event, the market's book sequence);
- a *pair* of ``exchange.place_order`` calls, a limit sell that rests and another user's limit
  buy that fills it (one trade: what half the orders of ``trading`` and ``submit`` do), and
  its floor: two statements making the same rows (the sell as above; the buy's order, the
  trade, the maker's fill and book row, two journal records with eight entries over six
  accounts, four outbox events, the market's state, six K-lines). A pair is two
  transactions; its CPU is given per order, as the mix of those benchmarks costs.

The floors are not a design: they skip every check the functions make. They bound what any
PL/pgSQL over this schema can reach: ``TPC-B CPU / call CPU`` is the throughput ratio the
call would have against TPC-B if both were bound by the same CPUs (TPC-B at scale 1 and 4
clients is bound by its branch row and the WAL flush rather than the CPU, so the ratio
measured by ``ledger``/``trading`` can be lower still).
"""

from __future__ import annotations

import argparse
import random
import sys
from typing import Any

import psycopg

from benchmarks.common import bench_database, cpu_per_call, markdown_table, pgbench_init, server_dsn
from benchmarks.ledger import TPCB_STATEMENTS, _pair, _tpcb_params, setup_ledger
from benchmarks.trading import USERS, seed

ACCOUNTS = 50

# The writes of one transfer of 1 BENCH from %(f)s to %(t)s, in one statement.
TRANSFER_FLOOR = """
WITH k AS (
    INSERT INTO exchange.idempotency_keys (key, operation, request, result_id)
    VALUES (gen_random_uuid()::text, 'TRANSFER', 'floor',
            nextval('exchange.journal_id_seq'::regclass))
    RETURNING result_id
), l AS (
    SELECT a.id, CASE WHEN a.user_id = %(f)s THEN -1 ELSE 1 END AS d
      FROM exchange.accounts a
     WHERE a.kind = 'USER' AND a.user_id IN (%(f)s, %(t)s)
       AND a.asset_id = (SELECT id FROM exchange.assets WHERE symbol = 'BENCH')
     ORDER BY a.id FOR NO KEY UPDATE
), u AS (
    UPDATE exchange.accounts a
       SET available_balance = a.available_balance + l.d, version = a.version + 1,
           updated_at = now()
      FROM l WHERE a.id = l.id
    RETURNING a.id, a.user_id, a.asset_id, a.available_balance::numeric AS after, l.d
), j AS (
    INSERT INTO exchange.journal (id, type) OVERRIDING SYSTEM VALUE
    SELECT result_id, 'TRANSFER' FROM k
)
INSERT INTO exchange.transactions
    (journal_id, account_id, user_id, asset_id, bucket, type, amount, balance_before,
     balance_after)
SELECT k.result_id, u.id, u.user_id, u.asset_id, 'AVAILABLE', 'TRANSFER', u.d, u.after - u.d,
       u.after
  FROM u, k
"""

# The user %(u)s's quote (q) and base (b) accounts, then the start of the insert of the user's
# limit buy of 0.01 P1 (a CTE o; the values from the price on follow): shared by ORDER_FLOOR
# and CROSS_FLOOR, pieces of one WITH statement after a CTE p with the market.
_BUYER_CTES = """a AS MATERIALIZED (
    SELECT (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = %(u)s AND acc.asset_id = p.quote AND acc.kind = 'USER') AS q,
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = %(u)s AND acc.asset_id = p.base AND acc.kind = 'USER') AS b
      FROM p
), o AS (
    INSERT INTO exchange.orders
        (id, user_id, trading_pair_id, type, side, time_in_force, stp_mode, amount, price,
         filled_amount, remaining_amount, filled_quote, fee_paid, hold_amount, status,
         created_at)
    OVERRIDING SYSTEM VALUE
    SELECT nextval('exchange.orders_id_seq'), %(u)s, p.pair, 'LIMIT', 'BUY', 'GTC',"""

# The writes of a resting limit buy of 0.01 P1 at 5.00 USDT by user %(u)s, in one statement.
ORDER_FLOOR = """
WITH p AS MATERIALIZED (
    SELECT tp.id AS pair, tp.quote_asset_id AS quote, tp.base_asset_id AS base
      FROM exchange.trading_pairs tp WHERE tp.symbol = 'P1-USDT'
), """ + _BUYER_CTES + """
           'EXPIRE_MAKER', 0.01, 5.00, 0, 0.01, 0, 0, 0.0501, 'NEW', now()
      FROM p
    RETURNING id, created_at, trading_pair_id
), bk AS (
    INSERT INTO exchange.order_book
        (order_id, order_created_at, trading_pair_id, side, price, seq, user_id, remaining,
         base_account_id, quote_account_id)
    SELECT o.id, o.created_at, o.trading_pair_id, 'BUY', 5.00,
           nextval('exchange.order_book_seq'), %(u)s, 0.01, a.b, a.q
      FROM o, a
), lk AS MATERIALIZED (
    SELECT acc.id FROM exchange.accounts acc WHERE acc.id = (SELECT q FROM a)
       FOR NO KEY UPDATE
), up AS (
    UPDATE exchange.accounts acc
       SET available_balance = acc.available_balance - 0.0501,
           frozen_balance = acc.frozen_balance + 0.0501,
           version = acc.version + 1, updated_at = now()
     WHERE acc.id = (SELECT q FROM a) AND (SELECT count(*) FROM lk) = 1
    RETURNING acc.id, acc.user_id, acc.asset_id, acc.available_balance::numeric AS av,
              acc.frozen_balance::numeric AS fr
), j AS (
    INSERT INTO exchange.journal (id, type, reference_type, reference_id)
    OVERRIDING SYSTEM VALUE
    SELECT nextval('exchange.journal_id_seq'::regclass), 'ORDER_HOLD', 'ORDER', o.id FROM o
    RETURNING id
), e AS (
    INSERT INTO exchange.transactions
        (journal_id, account_id, user_id, asset_id, bucket, type, amount, balance_before,
         balance_after, reference_type, reference_id)
    SELECT j.id, up.id, up.user_id, up.asset_id, x.b::exchange.balance_bucket, 'ORDER_HOLD',
           x.amt, x.after - x.amt, x.after, 'ORDER', o.id
      FROM j, up, o,
           LATERAL (VALUES ('AVAILABLE', -0.0501, up.av), ('FROZEN', 0.0501, up.fr))
               AS x(b, amt, after)
), ev AS (
    INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type, event_data)
    SELECT 'order', o.id::text, 'order.created',
           jsonb_build_object('order_id', o.id, 'price', '5.00', 'status', 'NEW')
      FROM o
), ms AS (
    UPDATE exchange.market_state s SET book_sequence = s.book_sequence + 1
      FROM p WHERE s.trading_pair_id = p.pair
)
SELECT id FROM o
"""

# The writes of a limit sell of 0.01 P1 at 20.00 USDT by user %(u)s that rests (above every
# bid): ORDER_FLOOR's writes for the other side, the hold in base.
SELL_FLOOR = (ORDER_FLOOR.replace("'LIMIT', 'BUY', 'GTC'", "'LIMIT', 'SELL', 'GTC'")
              .replace("0.01, 5.00, 0, 0.01, 0, 0, 0.0501", "0.01, 20.00, 0, 0.01, 0, 0, 0.01")
              .replace("SELECT o.id, o.created_at, o.trading_pair_id, 'BUY', 5.00",
                       "SELECT o.id, o.created_at, o.trading_pair_id, 'SELL', 20.00")
              .replace("WHERE acc.id = (SELECT q FROM a)", "WHERE acc.id = (SELECT b FROM a)")
              .replace("0.0501", "0.01"))

# Parts shared by CROSS_FLOOR and BATCH_FLOOR (pieces of one WITH statement).
# The market: its pair, assets and FEE accounts.
_MARKET_CTE = """p AS MATERIALIZED (
    SELECT tp.id AS pair, tp.quote_asset_id AS quote, tp.base_asset_id AS base,
           ms.fee_base_account_id AS fee_b, ms.fee_quote_account_id AS fee_q
      FROM exchange.trading_pairs tp JOIN exchange.market_state ms ON ms.trading_pair_id = tp.id
     WHERE tp.symbol = 'P1-USDT'
)"""
# The accounts of the legs (acc, bucket, amount), locked in ascending id, each updated once.
_SETTLE_CTES = """lk AS MATERIALIZED (
    SELECT acc.id FROM exchange.accounts acc
     WHERE acc.id IN (SELECT legs.acc FROM legs) ORDER BY acc.id FOR NO KEY UPDATE
), tot AS (
    SELECT legs.acc, COALESCE(sum(legs.amount) FILTER (WHERE legs.bucket = 'AVAILABLE'), 0) AS da,
           COALESCE(sum(legs.amount) FILTER (WHERE legs.bucket = 'FROZEN'), 0) AS df
      FROM legs GROUP BY legs.acc
), up AS (
    UPDATE exchange.accounts acc
       SET available_balance = acc.available_balance + tot.da,
           frozen_balance = acc.frozen_balance + tot.df,
           version = acc.version + 1, updated_at = now()
      FROM tot WHERE acc.id = tot.acc AND (SELECT count(*) FROM lk) > 0
    RETURNING acc.id, acc.user_id, acc.asset_id, acc.available_balance::numeric AS av,
              acc.frozen_balance::numeric AS fr
)"""
# Six K-lines of the market, inserted or updated.
_KLINES_CTE = """kl AS (
    INSERT INTO exchange.klines AS k
        (trading_pair_id, interval, open_time, close_time, open_price, high_price,
         low_price, close_price, volume, quote_volume, trades_count)
    SELECT p.pair, iv.name, date_bin(iv.width, now(), TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           date_bin(iv.width, now(), TIMESTAMPTZ '2000-01-01 00:00:00+00') + iv.width,
           20.00, 20.00, 20.00, 20.00, 0.01, 0.2, 1
      FROM p CROSS JOIN (VALUES ('1m'::exchange.kline_interval, interval '1 minute'),
                                ('5m', interval '5 minutes'), ('15m', interval '15 minutes'),
                                ('1h', interval '1 hour'), ('4h', interval '4 hours'),
                                ('1d', interval '1 day')) AS iv(name, width)
    ON CONFLICT (trading_pair_id, interval, open_time) DO UPDATE
       SET high_price = GREATEST(k.high_price, excluded.high_price),
           low_price = LEAST(k.low_price, excluded.low_price),
           close_price = excluded.close_price, volume = k.volume + excluded.volume,
           quote_volume = k.quote_volume + excluded.quote_volume,
           trades_count = k.trades_count + excluded.trades_count
)"""

# The writes of a limit buy of 0.01 P1 at 20.00 by user %(u)s that fills the best ask (a
# SELL_FLOOR order of another user), in one statement: the taker's order (FILLED), the
# trade, the maker's fill and its book row, the hold and the trade's journal records (eight
# entries: the taker's hold; both sides' frozen legs paid out, fees to the market's FEE
# accounts), six accounts locked in ascending id and updated once each, four outbox events,
# the market's last price and book sequence, six K-lines. Running balances are taken from
# the accounts' final balances (the engine computes them per entry).
CROSS_FLOOR = """
WITH """ + _MARKET_CTE + """, m AS MATERIALIZED (
    SELECT b.order_id, b.order_created_at, b.user_id, b.base_account_id, b.quote_account_id
      FROM exchange.order_book b
     WHERE b.trading_pair_id = (SELECT p.pair FROM p) AND b.side = 'SELL' AND b.price <= 20.00
     ORDER BY b.price, b.seq LIMIT 1
), """ + _BUYER_CTES + """
           'EXPIRE_MAKER', 0.01, 20.00, 0.01, 0, 0.2, 0.00001, 0, 'FILLED', now()
      FROM p
    RETURNING id, created_at
), t AS (
    INSERT INTO exchange.trades
        (id, trading_pair_id, buyer_order_id, buyer_order_created_at, seller_order_id,
         seller_order_created_at, buyer_user_id, seller_user_id, price, amount, quote_amount,
         buyer_fee, seller_fee, is_maker_buyer, created_at)
    OVERRIDING SYSTEM VALUE
    SELECT nextval('exchange.trades_id_seq'), p.pair, o.id, o.created_at, m.order_id,
           m.order_created_at, %(u)s, m.user_id, 20.00, 0.01, 0.2, 0.00001, 0.0002, false, now()
      FROM p, o, m
    RETURNING id
), mu AS (
    UPDATE exchange.orders x
       SET filled_amount = x.filled_amount + 0.01, remaining_amount = 0,
           filled_quote = x.filled_quote + 0.2, fee_paid = x.fee_paid + 0.0002,
           hold_amount = 0, status = 'FILLED', version = x.version + 1
      FROM m WHERE x.id = m.order_id AND x.created_at = m.order_created_at
), bd AS (
    DELETE FROM exchange.order_book x USING m WHERE x.order_id = m.order_id
), legs AS MATERIALIZED (
    SELECT l.rec, l.acc, l.bucket::exchange.balance_bucket AS bucket, l.amount
      FROM a, m, p,
           LATERAL (VALUES (1, a.q, 'AVAILABLE', -0.2), (1, a.q, 'FROZEN', 0.2),
                           (2, a.q, 'FROZEN', -0.2), (2, m.quote_account_id, 'AVAILABLE', 0.1998),
                           (2, p.fee_q, 'AVAILABLE', 0.0002),
                           (2, m.base_account_id, 'FROZEN', -0.01),
                           (2, a.b, 'AVAILABLE', 0.00999), (2, p.fee_b, 'AVAILABLE', 0.00001))
               AS l(rec, acc, bucket, amount)
), """ + _SETTLE_CTES + """, j AS (
    INSERT INTO exchange.journal (id, type, reference_type, reference_id)
    OVERRIDING SYSTEM VALUE
    SELECT nextval('exchange.journal_id_seq'::regclass), x.type, x.rtype, x.rid
      FROM (SELECT 'ORDER_HOLD' AS type, 'ORDER' AS rtype, o.id AS rid FROM o
            UNION ALL SELECT 'TRADE', 'TRADE', t.id FROM t) AS x
    RETURNING id, type
), e AS (
    INSERT INTO exchange.transactions
        (journal_id, account_id, user_id, asset_id, bucket, type, amount, balance_before,
         balance_after, reference_type, reference_id)
    SELECT j.id, up.id, up.user_id, up.asset_id, legs.bucket, j.type, legs.amount,
           CASE legs.bucket WHEN 'AVAILABLE' THEN up.av ELSE up.fr END - legs.amount,
           CASE legs.bucket WHEN 'AVAILABLE' THEN up.av ELSE up.fr END,
           CASE legs.rec WHEN 1 THEN 'ORDER' ELSE 'TRADE' END, 0
      FROM legs JOIN up ON up.id = legs.acc
      JOIN j ON j.type = CASE legs.rec WHEN 1 THEN 'ORDER_HOLD' ELSE 'TRADE' END
), ev AS (
    INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type, event_data)
    SELECT x.agg, x.aid, x.typ,
           jsonb_build_object('order_id', x.aid, 'symbol', 'P1-USDT', 'price', '20',
                              'quantity', '0.01', 'status', x.status)
      FROM o, t, m,
           LATERAL (VALUES ('order', o.id::text, 'order_placed', 'NEW'),
                           ('trade', t.id::text, 'trade_executed', 'FILLED'),
                           ('order', o.id::text, 'order_filled', 'FILLED'),
                           ('order', m.order_id::text, 'order_filled', 'FILLED'))
               AS x(agg, aid, typ, status)
), ms AS (
    UPDATE exchange.market_state s
       SET last_price = 20.00, last_trade_at = now(), book_sequence = s.book_sequence + 1
      FROM p WHERE s.trading_pair_id = p.pair
), """ + _KLINES_CTE + """
SELECT id FROM o
"""

# The writes of a batch of 2 x %(half)s orders in one statement, set-based: limit sells of
# 0.01 at 20.00 that rest, and as many limit buys at 20.00, each filling one of the best asks
# (the sells of the call before): per crossing order CROSS_FLOOR's rows, per resting one SELL_FLOOR's,
# every table written once (for 50 + 50: 150 journal records, 500 entries, each account
# updated once, 250 outbox events, six K-lines). Users: sellers %(ubase)s + 1..500, buyers + 501..1000,
# from offset %(k)s (never a self-trade). Running balances as in CROSS_FLOOR.
BATCH_FLOOR = """
WITH """ + _MARKET_CTE + """, mk AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY b.price, b.seq) AS g, b.order_id, b.order_created_at,
           b.user_id, b.base_account_id, b.quote_account_id
      FROM (SELECT * FROM exchange.order_book b
             WHERE b.trading_pair_id = (SELECT p.pair FROM p) AND b.side = 'SELL'
               AND b.price <= 20.00
             ORDER BY b.price, b.seq LIMIT %(half)s) AS b
), r AS MATERIALIZED (
    SELECT g.g, u.seller, u.buyer,
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = u.seller AND acc.asset_id = p.base AND acc.kind = 'USER') AS s_base,
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = u.buyer AND acc.asset_id = p.base AND acc.kind = 'USER') AS b_base,
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = u.buyer AND acc.asset_id = p.quote AND acc.kind = 'USER') AS b_quote,
           nextval('exchange.orders_id_seq') AS sell_id, nextval('exchange.orders_id_seq') AS buy_id,
           nextval('exchange.journal_id_seq'::regclass) AS j_sell,
           nextval('exchange.journal_id_seq'::regclass) AS j_buy,
           mk.order_id AS maker_id, mk.order_created_at AS maker_created, mk.user_id AS maker,
           mk.base_account_id AS m_base, mk.quote_account_id AS m_quote,
           CASE WHEN mk.order_id IS NOT NULL THEN nextval('exchange.trades_id_seq') END AS trade_id,
           CASE WHEN mk.order_id IS NOT NULL
                THEN nextval('exchange.journal_id_seq'::regclass) END AS j_trade
      FROM generate_series(1, %(half)s) AS g(g)
     CROSS JOIN p
     CROSS JOIN LATERAL (SELECT %(ubase)s + 1 + (%(k)s + g.g) %% 500 AS seller,
                                %(ubase)s + 501 + (%(k)s + g.g) %% 500 AS buyer) AS u
      LEFT JOIN mk ON mk.g = g.g
), o AS (
    INSERT INTO exchange.orders
        (id, user_id, trading_pair_id, type, side, time_in_force, stp_mode, amount, price,
         filled_amount, remaining_amount, filled_quote, fee_paid, hold_amount, status,
         created_at)
    OVERRIDING SYSTEM VALUE
    SELECT x.id, x.uid, p.pair, 'LIMIT', x.side::exchange.order_side, 'GTC', 'EXPIRE_MAKER',
           0.01, 20.00, x.filled, 0.01 - x.filled, x.filled * 20, x.filled * 0.001, x.hold,
           x.status::exchange.order_status, now()
      FROM r CROSS JOIN p
     CROSS JOIN LATERAL (VALUES (r.sell_id, r.seller, 'SELL', 0, 0.01, 'NEW'),
                                (r.buy_id, r.buyer, 'BUY', 0.01, 0, 'FILLED'))
               AS x(id, uid, side, filled, hold, status)
), bi AS (
    INSERT INTO exchange.order_book
        (order_id, order_created_at, trading_pair_id, side, price, seq, user_id, remaining,
         base_account_id, quote_account_id)
    SELECT r.sell_id, now(), p.pair, 'SELL', 20.00, nextval('exchange.order_book_seq'),
           r.seller, 0.01, r.s_base,
           (SELECT acc.id FROM exchange.accounts acc
             WHERE acc.user_id = r.seller AND acc.asset_id = p.quote AND acc.kind = 'USER')
      FROM r CROSS JOIN p
), t AS (
    INSERT INTO exchange.trades
        (id, trading_pair_id, buyer_order_id, buyer_order_created_at, seller_order_id,
         seller_order_created_at, buyer_user_id, seller_user_id, price, amount, quote_amount,
         buyer_fee, seller_fee, is_maker_buyer, created_at)
    OVERRIDING SYSTEM VALUE
    SELECT r.trade_id, p.pair, r.buy_id, now(), r.maker_id, r.maker_created, r.buyer, r.maker,
           20.00, 0.01, 0.2, 0.00001, 0.0002, false, now()
      FROM r CROSS JOIN p WHERE r.trade_id IS NOT NULL
), mu AS (
    UPDATE exchange.orders x
       SET filled_amount = x.filled_amount + 0.01, remaining_amount = 0,
           filled_quote = x.filled_quote + 0.2, fee_paid = x.fee_paid + 0.0002,
           hold_amount = 0, status = 'FILLED', version = x.version + 1
      FROM r WHERE x.id = r.maker_id AND x.created_at = r.maker_created
), bd AS (
    DELETE FROM exchange.order_book x USING r WHERE x.order_id = r.maker_id
), legs AS MATERIALIZED (
    SELECT l.jid, l.jtype, l.rtype, l.rid, l.acc, l.bucket::exchange.balance_bucket AS bucket,
           l.amount
      FROM r CROSS JOIN p,
           LATERAL (VALUES
               (r.j_sell, 'ORDER_HOLD', 'ORDER', r.sell_id, r.s_base, 'AVAILABLE', -0.01),
               (r.j_sell, 'ORDER_HOLD', 'ORDER', r.sell_id, r.s_base, 'FROZEN', 0.01),
               (r.j_buy, 'ORDER_HOLD', 'ORDER', r.buy_id, r.b_quote, 'AVAILABLE', -0.2),
               (r.j_buy, 'ORDER_HOLD', 'ORDER', r.buy_id, r.b_quote, 'FROZEN', 0.2),
               (r.j_trade, 'TRADE', 'TRADE', r.trade_id, r.b_quote, 'FROZEN', -0.2),
               (r.j_trade, 'TRADE', 'TRADE', r.trade_id, r.m_quote, 'AVAILABLE', 0.1998),
               (r.j_trade, 'TRADE', 'TRADE', r.trade_id, p.fee_q, 'AVAILABLE', 0.0002),
               (r.j_trade, 'TRADE', 'TRADE', r.trade_id, r.m_base, 'FROZEN', -0.01),
               (r.j_trade, 'TRADE', 'TRADE', r.trade_id, r.b_base, 'AVAILABLE', 0.00999),
               (r.j_trade, 'TRADE', 'TRADE', r.trade_id, p.fee_b, 'AVAILABLE', 0.00001))
               AS l(jid, jtype, rtype, rid, acc, bucket, amount)
     WHERE l.jid IS NOT NULL
), """ + _SETTLE_CTES + """, j AS (
    INSERT INTO exchange.journal (id, type, reference_type, reference_id)
    OVERRIDING SYSTEM VALUE
    SELECT DISTINCT legs.jid, legs.jtype, legs.rtype, legs.rid FROM legs
), e AS (
    INSERT INTO exchange.transactions
        (journal_id, account_id, user_id, asset_id, bucket, type, amount, balance_before,
         balance_after, reference_type, reference_id)
    SELECT legs.jid, up.id, up.user_id, up.asset_id, legs.bucket, legs.jtype, legs.amount,
           CASE legs.bucket WHEN 'AVAILABLE' THEN up.av ELSE up.fr END - legs.amount,
           CASE legs.bucket WHEN 'AVAILABLE' THEN up.av ELSE up.fr END, legs.rtype, legs.rid
      FROM legs JOIN up ON up.id = legs.acc
), ev AS (
    INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type, event_data)
    SELECT x.agg, x.aid::text, x.typ,
           jsonb_build_object('order_id', x.aid, 'symbol', 'P1-USDT', 'price', '20',
                              'quantity', '0.01', 'status', x.status)
      FROM r,
           LATERAL (VALUES ('order', r.sell_id, 'order_placed', 'NEW'),
                           ('order', r.buy_id, 'order_placed', 'NEW'),
                           ('trade', r.trade_id, 'trade_executed', 'FILLED'),
                           ('order', r.buy_id, 'order_filled', 'FILLED'),
                           ('order', r.maker_id, 'order_filled', 'FILLED'))
               AS x(agg, aid, typ, status)
     WHERE x.aid IS NOT NULL
), ms AS (
    UPDATE exchange.market_state s
       SET last_price = 20.00, last_trade_at = now(), book_sequence = s.book_sequence + 150
      FROM p WHERE s.trading_pair_id = p.pair
), """ + _KLINES_CTE + """
SELECT count(*) FROM r
"""

# The same orders through the engine, one place_orders call: the buys first, which fill the
# sells of the call before (PLACE_SEED's, for the first call), then the sells, which rest.
PLACE_BATCH = """
SELECT count(*) FROM exchange.place_orders(ARRAY(
    SELECT ROW(CASE x.side WHEN 'SELL' THEN %(ubase)s + 1 + (%(k)s + g.g) %% 500
                           ELSE %(ubase)s + 501 + (%(k)s + g.g) %% 500 END,
               'P1-USDT', x.side, 'LIMIT', 0.01, 20.00, 'GTC', NULL, NULL, NULL,
               NULL)::exchange.order_request
      FROM (VALUES (1, 'BUY'), (2, 'SELL')) AS x(n, side), generate_series(1, %(half)s) AS g(g)
     ORDER BY x.n, g.g))
"""
PLACE_SEED = PLACE_BATCH.replace("(VALUES (1, 'BUY'), (2, 'SELL'))", "(VALUES (2, 'SELL'))")

PLACE_SELL = ("SELECT id FROM exchange.place_order(%(u)s, 'P1-USDT', 'SELL', 'LIMIT', "
              "0.01, 20.00)")
PLACE_CROSSING = ("SELECT id FROM exchange.place_order(%(u)s, 'P1-USDT', 'BUY', 'LIMIT', "
                  "0.01, 20.00)")

PLACE_RESTING = ("SELECT id FROM exchange.place_order(%(u)s, 'P1-USDT', 'BUY', 'LIMIT', "
                 "0.01, 5.00)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks floor",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dsn", default=None,
                        help="server to measure (default: PYEXCHANGE_BENCH_DSN, libpq env, "
                             "127.0.0.1:5432 as postgres); it must run on this host")
    parser.add_argument("--calls", type=int, default=2000,
                        help="calls per round (3 rounds, the least counts; default 2000)")
    args = parser.parse_args(argv)
    admin = server_dsn(args.dsn)
    rows: list[list[Any]] = []
    with bench_database(admin, "pyx_floor_tpcb") as tpcb_dsn, \
            bench_database(admin, "pyx_floor_ledger", migrate=True) as ledger_dsn, \
            bench_database(admin, "pyx_floor_trading", migrate=True) as trading_dsn:
        pgbench_init(tpcb_dsn, 1)
        base = setup_ledger(ledger_dsn, ACCOUNTS)
        ubase = seed(trading_dsn)
        with psycopg.connect(trading_dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

        def pair_args() -> list[dict[str, int]]:
            f, t = _pair(base, ACCOUNTS)
            return [{"f": f, "t": t}]

        def user_args() -> list[dict[str, int]]:
            return [{"u": ubase + random.randint(1, USERS)}]

        def batch_args() -> list[dict[str, int]]:
            return [{"ubase": ubase, "k": random.randint(0, USERS // 2 - 1), "half": 50}]

        def two_users() -> list[dict[str, int]]:
            # seller and buyer from two halves of the users: never a self-trade
            return [{"u": ubase + random.randint(1, USERS // 2)},
                    {"u": ubase + random.randint(USERS // 2 + 1, USERS)}]

        print(f"server CPU per call, least of 3 x {args.calls} calls ...", flush=True)
        tpcb = cpu_per_call(tpcb_dsn, TPCB_STATEMENTS, args.calls, lambda: _tpcb_params(1))
        measured = [
            ("exchange.transfer", ledger_dsn,
             "SELECT exchange.transfer(%(f)s, %(t)s, 'BENCH', 1, gen_random_uuid()::text)",
             pair_args),
            ("transfer floor (one statement, no checks)", ledger_dsn, TRANSFER_FLOOR,
             pair_args),
            ("exchange.place_order, resting limit buy", trading_dsn, PLACE_RESTING, user_args),
            ("resting order floor (one statement, no checks)", trading_dsn, ORDER_FLOOR,
             user_args),
            ("exchange.place_order, a resting sell, then a buy filling it (per order)",
             trading_dsn, [PLACE_SELL, PLACE_CROSSING], two_users),
            ("the same pair's floor (two statements, no checks; per order)", trading_dsn,
             [SELL_FLOOR, CROSS_FLOOR], two_users),
            ("exchange.place_orders, 50 buys filling the previous call's sells, 50 sells that "
             "rest (per order)", trading_dsn, PLACE_BATCH, batch_args),
            ("the same batch's floor (one statement, set-based, no checks; per order)",
             trading_dsn, BATCH_FLOOR, batch_args),
        ]
        rows.append(["TPC-B transaction (5 statements)", f"{tpcb:.3f}", "1.00"])
        for name, dsn, statement, params in measured:
            if statement is PLACE_BATCH:  # the first call's buys fill these
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(PLACE_SEED, batch_args()[0])
            texts = [statement] if isinstance(statement, str) else statement
            # a pair is two calls (two transactions): its CPU per order is half the pair's; a
            # batch is one call of 100 orders, run a 50th as often
            orders = 100 if "%(k)s" in texts[0] else len(texts)
            calls = max(args.calls // 50, 20) if orders == 100 else args.calls
            ms = cpu_per_call(dsn, [(t, None) for t in texts], calls, params,
                              separate=True) / orders
            rows.append([name, f"{ms:.3f}", f"{tpcb / ms:.2f}"])
            print(f"  {name}: {ms:.3f} ms", flush=True)
        with psycopg.connect(ledger_dsn) as conn:
            bad = conn.execute("SELECT count(*) FROM exchange.reconcile()").fetchone()
        print(f"  (ledger reconcile after the floor's transfers: {bad[0] if bad else '?'} rows)")
    print()
    print(markdown_table(["transaction", "server CPU ms", "TPC-B CPU / its CPU"], rows))
    print(f"\nThe last column is the throughput ratio to TPC-B ({tpcb:.3f} ms per transaction) "
          "if both were bound by the same CPUs.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
