"""``python -m benchmarks floor``: how far the engine's calls are from the cost of their own
writes, and what that leaves of the throughput targets.

For three kinds of transaction it measures the server CPU of one call (the backend's user +
system time from /proc, synchronous_commit off, least of 3 rounds; the server must run on
this host; ``benchmarks.common.cpu_per_call``):

- pgbench's TPC-B transaction (its five statements, BEGIN ... COMMIT), on ``pgbench -i -s 1``;
- ``exchange.transfer`` and a *floor* for it: one hand-written statement making the same
  writes (an idempotency key, both accounts locked in ascending id and updated, a journal
  record, two entries), with no validation and no PL/pgSQL;
- ``exchange.place_order`` of a limit buy that rests (far below the market, so it never
  matches) and a floor for it: one statement making a resting order's writes (the order, its
  book row, the hold: account locked and updated, journal record, two entries, an outbox
  event, the market's book sequence).

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

# The writes of a resting limit buy of 0.01 P1 at 5.00 USDT by user %(u)s, in one statement.
ORDER_FLOOR = """
WITH p AS MATERIALIZED (
    SELECT tp.id AS pair, tp.quote_asset_id AS quote, tp.base_asset_id AS base
      FROM exchange.trading_pairs tp WHERE tp.symbol = 'P1-USDT'
), a AS MATERIALIZED (
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
    SELECT nextval('exchange.orders_id_seq'), %(u)s, p.pair, 'LIMIT', 'BUY', 'GTC',
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
        ]
        rows.append(["TPC-B transaction (5 statements)", f"{tpcb:.3f}", "1.00"])
        for name, dsn, statement, params in measured:
            ms = cpu_per_call(dsn, [(statement, None)], args.calls, params)
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
