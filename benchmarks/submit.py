"""``python -m benchmarks submit``: the targets of issue 16, each against pgbench's TPC-B at the
same client count in the same run (scale 10, durable commits: the server's settings as they
are, printed with the results).

    python -m benchmarks submit [--dsn DSN] [--duration 10] [--deep 1000000] [--skip-depth]
                                [--only TEXT] [--repeat N]

Runs, alternating each with its TPC-B baseline (same clients, pgbench -M prepared):
  * ``CALL exchange.submit_order`` (limit orders around the mid price, about half crossing;
    the script of ``benchmarks trading``): 8 clients on 4 pairs; 32 clients on 4 pairs
    (combining has work to do); 8 clients on 1 pair; 1 client on 1 pair; p99 latency at 8
    clients on 4 pairs from pgbench's per-transaction log;
  * ``SELECT exchange.place_order`` (the function) at 8 clients on 4 pairs, for comparison;
  * both at 32 clients on 1 pair (the market lock is the bottleneck there);
  * ``exchange.place_orders`` with 100 orders per call, 8 clients on 4 pairs;
  * book depth: submit_order at 8 clients on 4 pairs with 1,000 and with ``--deep`` resting
    orders.
Each row also gives the machine's busy CPU time per order during its run (``/proc/stat``: the
backends' share is about 98 % of it): on this CPU-bound machine the p99 latency follows it
from run to run, and it shows how fast the machine was at the time.
The instructions per resting order (single call) come from ``benchmarks instructions``.
Databases ``pyx_trading_bench`` and ``pyx_trading_tpcb`` are created afresh and dropped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass

import psycopg

from benchmarks.common import markdown_table
from benchmarks.trading import (
    BATCH_SCRIPT,
    BENCH_DB,
    PAIRS,
    PLACE_SCRIPT,
    TPCB_DB,
    USERS,
    Result,
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

SUBMIT_SCRIPT = PLACE_SCRIPT.replace(
    "SELECT id FROM exchange.place_order(", "CALL exchange.submit_order(")


@dataclass(frozen=True)
class Row:
    measure: str
    clients: int
    ops: float
    tpcb: float
    p99_ms: float | None = None
    cpu_ms: float | None = None

    @property
    def ratio(self) -> float:
        return self.ops / self.tpcb


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks submit",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--duration", type=int, default=10, help="seconds per pgbench run")
    parser.add_argument("--deep", type=int, default=1_000_000)
    parser.add_argument("--skip-depth", action="store_true")
    parser.add_argument("--only", default="",
                        help="run only the measures whose 'name, N clients' contains this")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the measures this many times (a row each time)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    admin = _conninfo(args.dsn, "postgres")
    bench = _conninfo(args.dsn, BENCH_DB)
    dur = args.duration
    with psycopg.connect(admin, autocommit=True) as conn:
        settings = {k: conn.execute(f"SHOW {k}").fetchone()[0]  # type: ignore[index]
                    for k in ("server_version", "fsync", "synchronous_commit")}
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    print(f"server {settings}, {cpus} CPUs, load {load_before}, {dur} s per run", flush=True)
    _recreate(admin, TPCB_DB)
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", *_pg_args(args.dsn, TPCB_DB)],
                   capture_output=True, check=True)
    _recreate(admin, BENCH_DB)
    Migrator(bench).migrate()
    ubase = seed(bench)
    load_depth(bench, 1000)

    tpcb_cache: dict[int, float] = {}

    def tpcb(clients: int) -> float:
        checkpoint(admin)
        r = pgbench(args.dsn, TPCB_DB, script=None, clients=clients, duration=dur, name="tpcb")
        tpcb_cache[clients] = r.tps
        return r.tps

    def ours(script: str, clients: int, npairs: int, *, p99: bool = False,
             per_tx: int = 1, batch: int = 0) -> Result:
        trim_book(bench, 1000)
        load_depth(bench, 1000)
        checkpoint(admin)
        defines = {"npairs": npairs, "ubase": ubase}
        if batch:
            defines["batch"] = batch
        return pgbench(args.dsn, BENCH_DB, script=script, clients=clients, duration=dur,
                       defines=defines, log_p99=p99, per_tx=per_tx)

    rows: list[Row] = []
    plan = [
        ("CALL submit_order, 4 pairs", SUBMIT_SCRIPT, 8, PAIRS, True, 1, 0),
        ("CALL submit_order, 4 pairs", SUBMIT_SCRIPT, 32, PAIRS, False, 1, 0),
        ("CALL submit_order, 1 pair", SUBMIT_SCRIPT, 8, 1, False, 1, 0),
        ("CALL submit_order, 1 pair", SUBMIT_SCRIPT, 1, 1, False, 1, 0),
        ("SELECT place_order, 4 pairs", PLACE_SCRIPT, 8, PAIRS, True, 1, 0),
        ("CALL submit_order, 1 pair", SUBMIT_SCRIPT, 32, 1, False, 1, 0),
        ("SELECT place_order, 1 pair", PLACE_SCRIPT, 32, 1, False, 1, 0),
        ("place_orders, 100 per call, 4 pairs", BATCH_SCRIPT, 8, PAIRS, False, 100, 100),
    ]
    plan = [p for p in plan if args.only in f"{p[0]}, {p[2]} clients"] * args.repeat
    for name, script, clients, npairs, p99, per_tx, batch in plan:
        base = tpcb(clients)
        r = ours(script, clients, npairs, p99=p99, per_tx=per_tx, batch=batch)
        rows.append(Row(name, clients, r.ops, base, r.p99_ms, r.cpu_ms))
        extra = f", p99 {r.p99_ms:.1f} ms" if r.p99_ms is not None else ""
        extra += f", {r.cpu_ms:.2f} ms of CPU per order" if r.cpu_ms is not None else ""
        print(f"  {name}, {clients} clients: {r.ops:.0f}/s vs TPC-B {base:.0f} tps "
              f"= {r.ops / base:.2f}{extra}", flush=True)

    depth: dict[int, float] = {}
    for total in ([] if args.skip_depth else [1000, args.deep]):
        if total < 10_000:
            trim_book(bench, total)
        print(f"  loading the book to {total:,} resting orders ...", flush=True)
        load_depth(bench, total)
        checkpoint(admin)
        depth[total] = pgbench(args.dsn, BENCH_DB, script=SUBMIT_SCRIPT, clients=8,
                               duration=dur, defines={"npairs": PAIRS, "ubase": ubase}).tps
        print(f"  submit_order with {total:,} resting: {depth[total]:.0f}/s", flush=True)

    _drop(admin, BENCH_DB)
    _drop(admin, TPCB_DB)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[:3]
    print()
    print(f"PostgreSQL {settings['server_version']}, fsync={settings['fsync']}, "
          f"synchronous_commit={settings['synchronous_commit']}; {cpus} CPUs; load average "
          f"{' '.join(load_before)} before, {' '.join(load_after)} after; {dur} s per run; "
          f"TPC-B scale 10, {USERS} users.")
    print()
    print(markdown_table(
        ["measure", "clients", "orders/s", "TPC-B tps (same clients, run just before)",
         "ratio", "p99 (ms)", "machine CPU per order (ms)"],
        [[r.measure, str(r.clients), f"{r.ops:.0f}", f"{r.tpcb:.0f}", f"{r.ratio:.2f}",
          "-" if r.p99_ms is None else f"{r.p99_ms:.1f}",
          "-" if r.cpu_ms is None else f"{r.cpu_ms:.2f}"] for r in rows]))
    if len(depth) == 2:
        print()
        print(f"Book depth (submit_order, 8 clients, 4 pairs): {depth[1000]:.0f}/s with 1,000 "
              f"resting orders, {depth[args.deep]:.0f}/s with {args.deep:,}: "
              f"{depth[args.deep] / depth[1000]:.2f}.")
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
