"""``python -m benchmarks ledger``: transfers per second of ``exchange.transfer`` against
pgbench's built-in TPC-B, side by side on the same server in the same run.

For each number of accounts (users holding the BENCH asset; default 50 and 10) and each
number of clients (default 1, 4, 8), one ``pgbench -M prepared -T <seconds>`` run of TPC-B
(``-b tpcb-like`` on tables made by ``pgbench -i -s <scale>``, default scale 1) and, right
after it, one run of ``benchmarks/ledger_transfer.sql`` (a transfer of 1 BENCH between two
different random users, a fresh UUID idempotency key each). Commits are durable (the
server's synchronous_commit, on by default). Before each run: VACUUM of the hot tables
(pgbench's own default for TPC-B) and a CHECKPOINT. Also reported: bytes of storage per
transfer, the growth of journal, entries, idempotency keys and accounts (tables, indexes,
TOAST) divided by the transfers of the run.

``--repeat N`` runs each pair (TPC-B, then transfers) N times in a row and reports the pair
whose ratio is the median, with the range of the N ratios: on a shared virtual machine the
speed of the CPU and of the WAL flush drifts from one run to the next, and a single pair can
land on either side of a target by that drift alone.

Target (issue 3): at 4 clients and 50 accounts, transfers/s >= 1.0 x TPC-B tps.
"""

from __future__ import annotations

import argparse
import random
import sys
from decimal import Decimal
from typing import Any

import psycopg

from benchmarks.common import (
    HERE,
    bench_database,
    checkpoint,
    cpu_per_call,
    markdown_table,
    pgbench_init,
    relation_bytes,
    run_pgbench,
    server_dsn,
)

SCRIPT = HERE / "ledger_transfer.sql"
LEDGER_TABLES = ("exchange.journal", "exchange.transactions", "exchange.idempotency_keys",
                 "exchange.accounts")
TARGET = (50, 4)


# pgbench's tpcb-like transaction, statement for statement.
TPCB_STATEMENTS = [
    ("UPDATE pgbench_accounts SET abalance = abalance + %s WHERE aid = %s", None),
    ("SELECT abalance FROM pgbench_accounts WHERE aid = %s", None),
    ("UPDATE pgbench_tellers SET tbalance = tbalance + %s WHERE tid = %s", None),
    ("UPDATE pgbench_branches SET bbalance = bbalance + %s WHERE bid = %s", None),
    ("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
     "VALUES (%s, %s, %s, %s, CURRENT_TIMESTAMP)", None),
]


def _pair(base: int, accounts: int) -> tuple[int, int]:
    f = random.randint(1, accounts)
    t = random.randint(1, accounts - 1)
    return base + f, base + t + (t >= f)


def _tpcb_params(scale: int) -> list[tuple[int, ...]]:
    aid = random.randint(1, 100000 * scale)
    bid = random.randint(1, scale)
    tid = random.randint(1, 10 * scale)
    delta = random.randint(-5000, 5000)
    return [(delta, aid), (aid,), (delta, tid), (delta, bid), (tid, bid, aid, delta)]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def setup_ledger(dsn: str, accounts: int) -> int:
    """``accounts`` users funded with BENCH; returns the id before the first one."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT exchange.create_asset('BENCH', 'Benchmark asset', 'CRYPTO', 8)")
        ids = [r[0] for r in conn.execute(
            "INSERT INTO exchange.users (username, email, password_hash, status, kyc_level) "
            "SELECT 'bench' || i, 'bench' || i || '@example.com', 'x', 'ACTIVE', 2 "
            "FROM generate_series(1, %s) AS i RETURNING id", (accounts,)).fetchall()]
        ids.sort()
        if ids != list(range(ids[0], ids[0] + accounts)):
            raise RuntimeError("benchmark users do not have consecutive ids")
        for uid in ids:
            conn.execute("SELECT exchange.deposit(%s, 'BENCH', %s, %s)",
                         (uid, Decimal(10) ** 12, f"bench-seed-{uid}"))
        conn.execute("VACUUM ANALYZE")
        return int(ids[0]) - 1


def _vacuum(dsn: str, tables: tuple[str, ...]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in tables:
            conn.execute(f"VACUUM {table}")  # fixed names, never user input


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks ledger",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dsn", default=None,
                        help="server to measure (default: PYEXCHANGE_BENCH_DSN, libpq env, "
                             "127.0.0.1:5432 as postgres)")
    parser.add_argument("--accounts", type=_ints, default=[50, 10],
                        help="comma-separated numbers of accounts (default 50,10)")
    parser.add_argument("--clients", type=_ints, default=[1, 4, 8],
                        help="comma-separated numbers of clients (default 1,4,8)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each run (10)")
    parser.add_argument("--tpcb-scale", type=int, default=1,
                        help="pgbench -i scale of the TPC-B baseline (default 1)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="pairs of runs per configuration; the median ratio is reported "
                             "with the range (default 1)")
    parser.add_argument("--cpu-calls", type=int, default=0,
                        help="also measure server CPU per transaction (transfer vs TPC-B) "
                             "over N calls, from /proc of the backend (server on this host)")
    args = parser.parse_args(argv)

    admin = server_dsn(args.dsn)
    rows: list[list[Any]] = []
    verdict: str | None = None
    cpu_line: str | None = None
    with bench_database(admin, "pyx_bench_tpcb") as tpcb_dsn, \
            bench_database(admin, "pyx_bench_ledger", migrate=True) as ledger_dsn:
        print(f"TPC-B tables at scale {args.tpcb_scale}; ledger with "
              f"{max(args.accounts)} funded users; {args.seconds} s per run", flush=True)
        pgbench_init(tpcb_dsn, args.tpcb_scale)
        base = setup_ledger(ledger_dsn, max(args.accounts))
        for accounts in args.accounts:
            for clients in args.clients:
                pairs = []
                for _ in range(max(args.repeat, 1)):
                    _vacuum(tpcb_dsn, ("pgbench_branches", "pgbench_tellers"))
                    with psycopg.connect(tpcb_dsn, autocommit=True) as conn:
                        conn.execute("TRUNCATE pgbench_history")
                    checkpoint(tpcb_dsn)
                    tpcb = run_pgbench(tpcb_dsn, clients=clients, seconds=args.seconds,
                                       builtin="tpcb-like")
                    _vacuum(ledger_dsn, ("exchange.accounts",))
                    checkpoint(ledger_dsn)
                    before = relation_bytes(ledger_dsn, LEDGER_TABLES)
                    ledger = run_pgbench(ledger_dsn, clients=clients, seconds=args.seconds,
                                         script=SCRIPT,
                                         defines={"accounts": accounts, "base": base})
                    grown = relation_bytes(ledger_dsn, LEDGER_TABLES) - before
                    pairs.append((ledger.tps / tpcb.tps, ledger, tpcb, grown))
                    print(f"  accounts {accounts:>3}, clients {clients}: transfers/s "
                          f"{ledger.tps:8.0f}  TPC-B tps {tpcb.tps:8.0f}  "
                          f"ratio {pairs[-1][0]:.2f}", flush=True)
                pairs.sort(key=lambda p: p[0])
                ratio, ledger, tpcb, grown = pairs[(len(pairs) - 1) // 2]
                spread = (f"{pairs[0][0]:.2f}-{pairs[-1][0]:.2f}" if len(pairs) > 1
                          else f"{ratio:.2f}")
                rows.append([accounts, clients, f"{ledger.tps:.0f}", f"{tpcb.tps:.0f}",
                             f"{ratio:.2f}", spread, f"{ledger.latency_ms:.2f}",
                             f"{tpcb.latency_ms:.2f}",
                             f"{grown / max(ledger.transactions, 1):.0f}"])
                if (accounts, clients) == TARGET:
                    verdict = ("met" if ratio >= 1.0 else "NOT met") + (
                        f" (ratio {ratio:.2f}" + (f", median of {len(pairs)} pairs, range "
                                                  f"{spread})" if len(pairs) > 1 else ")"))
        if args.cpu_calls:
            n = max(args.accounts)
            transfer_ms = cpu_per_call(
                ledger_dsn,
                [("SELECT exchange.transfer(%s, %s, 'BENCH', 1, gen_random_uuid()::text)", None)],
                args.cpu_calls, lambda: [_pair(base, n)])
            tpcb_ms = cpu_per_call(tpcb_dsn, TPCB_STATEMENTS, args.cpu_calls,
                                   lambda: _tpcb_params(args.tpcb_scale))
            cpu_line = (f"server CPU per transaction: transfer {transfer_ms:.2f} ms, TPC-B "
                        f"{tpcb_ms:.2f} ms (ratio {tpcb_ms / transfer_ms:.2f}); least of 3 x "
                        f"{args.cpu_calls} calls, synchronous_commit off")
    print()
    print(markdown_table(["accounts", "clients", "transfers/s", "TPC-B tps", "ratio",
                          "ratio range", "transfer latency ms", "TPC-B latency ms",
                          "bytes/transfer"], rows))
    if cpu_line is not None:
        print(f"\n{cpu_line}")
    if verdict is not None:
        print(f"\ntarget (4 clients, 50 accounts: transfers/s >= 1.0 x TPC-B tps): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
