"""``python -m benchmarks batch``: ``exchange.place_orders`` by batch size and client count,
with pgbench's TPC-B at the same client count in the same run (scale 10, durable commits).

    python -m benchmarks batch [--dsn DSN] [--duration 5] [--sizes 1,10,100] [--clients 1,8]

For each client count: a TPC-B run, then one run per batch size of the ``trading`` batch
script (one pair per call, limit orders around the mid price, about half crossing, 1,000
users, a 1,000-order book restored before each run). Prints orders/s, the ratio to TPC-B,
and each call's latency. Databases
``pyx_trading_bench`` and ``pyx_trading_tpcb`` are created afresh and dropped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from benchmarks.common import markdown_table
from benchmarks.trading import (
    BATCH_SCRIPT,
    BENCH_DB,
    PAIRS,
    TPCB_DB,
    _conninfo,
    _drop,
    _pg_args,
    _recreate,
    checkpoint,
    load_depth,
    pgbench,
    seed,
    trim_book,
)
from pyexchange.migrate import Migrator


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks batch",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--duration", type=int, default=5, help="seconds per pgbench run")
    parser.add_argument("--sizes", default="1,10,100", help="orders per call, comma-separated")
    parser.add_argument("--clients", default="1,8", help="client counts, comma-separated")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    clients_list = [int(x) for x in args.clients.split(",")]
    admin = _conninfo(args.dsn, "postgres")
    bench = _conninfo(args.dsn, BENCH_DB)
    _recreate(admin, TPCB_DB)
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", *_pg_args(args.dsn, TPCB_DB)],
                   capture_output=True, check=True)
    _recreate(admin, BENCH_DB)
    Migrator(bench).migrate()
    ubase = seed(bench)
    rows = []
    try:
        for clients in clients_list:
            checkpoint(admin)
            base = pgbench(args.dsn, TPCB_DB, script=None, clients=clients,
                           duration=args.duration, name="tpcb").tps
            for size in sizes:
                trim_book(bench, 1000)
                load_depth(bench, 1000)
                checkpoint(admin)
                r = pgbench(args.dsn, BENCH_DB, script=BATCH_SCRIPT, clients=clients,
                            duration=args.duration, per_tx=size,
                            defines={"npairs": PAIRS, "ubase": ubase, "batch": size})
                per_call = 1000.0 * clients / r.tps
                print(f"  {size} per call, {clients} clients: {r.ops:.0f} orders/s vs TPC-B "
                      f"{base:.0f} = {r.ops / base:.2f}", flush=True)
                rows.append([str(size), str(clients), f"{r.ops:,.0f}", f"{base:,.0f}",
                             f"{r.ops / base:.2f}", f"{per_call:.2f}"])
    finally:
        _drop(admin, BENCH_DB)
        _drop(admin, TPCB_DB)
    print()
    print(markdown_table(["orders per call", "clients", "orders/s", "TPC-B tps", "ratio",
                          "latency per call (ms)"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
