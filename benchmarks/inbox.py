"""``python -m benchmarks inbox``: what submit_order's inbox costs. CPU time of one backend
per ``CALL exchange.submit_order`` with its market free, against the same call queued behind
a holder of the market's lock; and the share of orders that go through the inbox under the
``submit`` benchmark's load (8 clients on 4 pairs).

    python -m benchmarks inbox [--dsn DSN] [--calls 200] [--rounds 2] [--duration 10]

The backend's CPU time is read from ``/proc`` (``benchmarks.common.backend_cpu_seconds``), so
the server must run on this machine. Each call places a resting limit buy far below the market
(1,000 funded users, the ``trading`` seed). Queued: another session holds the market's lock
(a session-level advisory lock on its key); the call queues its request, commits it and
waits; the holder lets go once the call waits (``pg_locks``); the call then places its own
request (it is the only one pending). The inbox share: ``order_requests`` rows inserted over
``orders`` inserted during one pgbench run of the ``submit`` script.
The database ``pyx_inbox_bench`` is created afresh and dropped.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import threading
import time
from typing import Any

import psycopg

from benchmarks.common import backend_cpu_seconds
from benchmarks.submit import SUBMIT_SCRIPT
from benchmarks.trading import (
    PAIRS,
    USERS,
    _conninfo,
    _drop,
    _recreate,
    checkpoint,
    load_depth,
    pgbench,
    seed,
)
from pyexchange.migrate import Migrator

DB = "pyx_inbox_bench"
CALL = "CALL exchange.submit_order(%s, 'P1-USDT', 'BUY', 'LIMIT', 0.01, 5.00)"


def _call(conn: psycopg.Connection[Any], user: int, failed: list[BaseException]) -> None:
    try:
        conn.execute(CALL, (user,))
    except BaseException as exc:  # handed to the main thread
        failed.append(exc)


def _per_call(dsn: str, calls: int, *, queued: bool, rnd: random.Random) -> float:
    """Milliseconds of CPU of the calling backend per call."""
    with psycopg.connect(dsn, autocommit=True) as holder, \
            psycopg.connect(dsn, autocommit=True) as caller:
        pid = caller.info.backend_pid
        row = holder.execute("SELECT id FROM exchange.trading_pairs WHERE symbol = 'P1-USDT'"
                             ).fetchone()
        assert row is not None
        pair = row[0]
        for _ in range(20):     # warm the session's caches and plans
            caller.execute(CALL, (rnd.randint(1, USERS),))
        start = backend_cpu_seconds(pid)
        for _ in range(calls):
            if not queued:
                caller.execute(CALL, (rnd.randint(1, USERS),))
                continue
            holder.execute("SELECT pg_advisory_lock(1601, %s)", (pair,))
            failed: list[BaseException] = []
            thread = threading.Thread(target=_call, args=(caller, rnd.randint(1, USERS), failed))
            thread.start()
            deadline = time.monotonic() + 10
            while holder.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted",
                                 (pid,)).fetchone() != (1,):
                if time.monotonic() > deadline:
                    raise RuntimeError("the call never waited for its market")
                time.sleep(0.0005)
            holder.execute("SELECT pg_advisory_unlock(1601, %s)", (pair,))
            thread.join(30)
            if failed:
                raise failed[0]
        return (backend_cpu_seconds(pid) - start) / calls * 1000


def _inbox_share(args: argparse.Namespace, admin: str, dsn: str, ubase: int) -> float:
    def inserted(conn: psycopg.Connection[Any]) -> tuple[int, int]:
        """Rows inserted so far into the inbox and into the orders' partitions."""
        row = conn.execute(
            "SELECT (SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'order_requests'),"
            " (SELECT sum(n_tup_ins) FROM pg_stat_user_tables WHERE relname LIKE 'orders\\_%')"
        ).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    with psycopg.connect(dsn, autocommit=True) as conn:
        queued, orders = inserted(conn)
        checkpoint(admin)
        pgbench(args.dsn, DB, script=SUBMIT_SCRIPT, clients=8, duration=args.duration,
                defines={"npairs": PAIRS, "ubase": ubase})
        time.sleep(1)   # the statistics of the last transactions
        queued_after, orders_after = inserted(conn)
    return (queued_after - queued) / (orders_after - orders)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks inbox",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds of the pgbench run")
    args = parser.parse_args(argv)
    admin = _conninfo(args.dsn, "postgres")
    dsn = _conninfo(args.dsn, DB)
    _recreate(admin, DB)
    try:
        Migrator(dsn).migrate()
        ubase = seed(dsn)
        load_depth(dsn, 1000)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        rnd = random.Random(16)
        rows: list[Any] = []
        for r in range(args.rounds):
            free = _per_call(dsn, args.calls, queued=False, rnd=rnd)
            queued = _per_call(dsn, args.calls, queued=True, rnd=rnd)
            rows.append((free, queued))
            print(f"  round {r + 1}: market free {free:.3f} ms of CPU per call, queued "
                  f"{queued:.3f} ms ({queued / free:.2f}x)", flush=True)
        share = _inbox_share(args, admin, dsn, ubase)
        print(f"  submit script, 8 clients on {PAIRS} pairs, {args.duration} s: "
              f"{share:.0%} of the orders went through the inbox", flush=True)
    finally:
        _drop(admin, DB)
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    print(f"\n{cpus} CPUs; {args.calls} calls per measure; resting limit buys on P1-USDT.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
