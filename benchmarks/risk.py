"""Risk rules on the hot path: ``exchange.place_order`` with no risk rule and with 10 active
order rules, side by side in the same run, on the trading benchmark's workload and harness
(benchmarks/trading.py: same database seed, same pgbench script, same book depth).

    python -m benchmarks.risk [--dsn DSN] [--duration 10] [--clients 4] [--rounds 2]
                              [--async-commit] [--chunks 10] [--chunk 100] [--cpu-calls 500]

The 10 rules are order rules that apply to the benchmark's markets and that its orders do not
hit (so every order pays the evaluation, none is refused): MAX_ORDER_NOTIONAL x4 (all pairs,
P1, P2, and a CRITICAL SUSPEND_USER one), PRICE_BAND x2, ORDER_RATE x2 (two windows: two
counter rows per order), MAX_OPEN_ORDERS x2. The variants alternate (none, 10, none, 10, ...)
so that drift on a shared machine hits both; the table gives each run and the median ratio.
Then one session places orders in small chunks alternating between the two, and the server
CPU per place_order is read from /proc of the backend for each (same orders for both). On a
busy machine every figure is noisy: read them together.
The issue's bar: with 10 rules, place_order throughput >= 0.9 x with none.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any

import psycopg

from benchmarks.common import cpu_per_call
from benchmarks.trading import (
    PAIRS,
    PLACE_SCRIPT,
    USERS,
    _conninfo,
    _drop,
    _recreate,
    checkpoint,
    load_depth,
    pgbench,
    seed,
    trim_book,
)
from pyexchange.migrate import Migrator

BENCH_DB = "pyx_bench_risk"

RULES: list[tuple[str, str, dict[str, object], str, str]] = [
    ("notional 1M", "MAX_ORDER_NOTIONAL", {"max_notional": "1000000"}, "REJECT", "HIGH"),
    ("notional P1 500k", "MAX_ORDER_NOTIONAL", {"max_notional": "500000", "symbol": "P1-USDT"},
     "REJECT", "HIGH"),
    ("notional P2 500k", "MAX_ORDER_NOTIONAL", {"max_notional": "500000", "symbol": "P2-USDT"},
     "FLAG", "MEDIUM"),
    ("notional 2M suspend", "MAX_ORDER_NOTIONAL", {"max_notional": "2000000"}, "SUSPEND_USER",
     "CRITICAL"),
    ("band 50%", "PRICE_BAND", {"max_deviation_pct": 50}, "REJECT", "HIGH"),
    ("band P3 20%", "PRICE_BAND", {"max_deviation_pct": 20, "symbol": "P3-USDT"}, "FLAG", "LOW"),
    ("rate 1M/min", "ORDER_RATE", {"max_orders": 1000000, "window_seconds": 60}, "REJECT", "HIGH"),
    ("rate 10M/h", "ORDER_RATE", {"max_orders": 10000000, "window_seconds": 3600}, "FLAG", "LOW"),
    ("open 100k", "MAX_OPEN_ORDERS", {"max_open_orders": 100000}, "REJECT", "MEDIUM"),
    ("open P4 50k", "MAX_OPEN_ORDERS", {"max_open_orders": 50000, "symbol": "P4-USDT"}, "FLAG",
     "LOW"),
]


def install_rules(dsn: str) -> None:
    """The 10 rules, created inactive through the API by a bootstrap admin."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT id FROM exchange.bootstrap_admin('benchadmin', "
                           "'benchadmin@example.org', 'a long passphrase')").fetchone()
        assert row is not None
        conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)", (str(row[0]),))
        for name, type_, conditions, action, level in RULES:
            conn.execute("SELECT exchange.create_risk_rule(%s, %s, %s::jsonb, %s::jsonb, %s, "
                         "100, false)",
                         (name, type_, json.dumps(conditions), json.dumps({"action": action}),
                          level))


def set_rules_active(dsn: str, active: bool) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE exchange.risk_rules SET is_active = %s", (active,))
        row = conn.execute("SELECT count(*) FROM exchange.risk_rules WHERE is_active").fetchone()
        return int(row[0]) if row else 0


MICRO = """
DO $$
DECLARE
    v_limits exchange.order_risk_limits;
    v_t0     timestamptz;
    v_load   interval;
    v_check  interval;
    v_ubase  bigint := (SELECT min(id) - 1 FROM exchange.users WHERE username LIKE 'bench%%');
BEGIN
    v_t0 := clock_timestamp();
    FOR i IN 1 .. %(n)s LOOP   -- what place_orders does once per market per call
        SELECT (l.limits).* INTO v_limits FROM exchange.risk_order_limits l
         WHERE l.trading_pair_id = 1 + i %% 4;
    END LOOP;
    v_load := clock_timestamp() - v_t0;
    v_t0 := clock_timestamp();
    FOR i IN 1 .. %(n)s LOOP
        PERFORM exchange._check_order_risk(v_limits, v_ubase + i, 'P1-USDT', 'BUY',
                                           'LIMIT', 0.01, 10.05, NULL, NULL, 10);
    END LOOP;
    v_check := clock_timestamp() - v_t0;
    PERFORM set_config('bench.load_us', (extract(epoch FROM v_load) * 1e6 / %(n)s)::text, false);
    PERFORM set_config('bench.check_us', (extract(epoch FROM v_check) * 1e6 / %(n)s)::text, false);
END
$$"""


def micro(dsn: str, n: int = USERS) -> tuple[float, float]:
    """Microseconds per read of the cached thresholds and per _check_order_risk (10 rules, nothing hit; one
    order per user, as many users as the seed has), in one rolled-back transaction."""
    with psycopg.connect(dsn) as conn:
        conn.execute(MICRO % {"n": n})
        row = conn.execute("SELECT current_setting('bench.load_us'), "
                           "current_setting('bench.check_us')").fetchone()
        conn.rollback()
    assert row is not None
    return float(row[0]), float(row[1])


def interleaved(dsn: str, ubase: int, chunks: int, chunk: int) -> tuple[float, float]:
    """One client placing the pgbench script's orders, one transaction each (commits not
    waiting for the WAL flush), in small chunks that alternate between no rule and 10 rules,
    so that the machine's drift hits both alike. Returns orders/s without and with rules."""
    import random

    rnd = random.Random(1)
    spent = {0: 0.0, 10: 0.0}
    done = {0: 0, 10: 0}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        for i in range(chunks * 2):
            n_rules = 10 if i % 2 else 0
            set_rules_active(dsn, n_rules > 0)
            orders = [(ubase + rnd.randint(1, USERS), f"P{rnd.randint(1, PAIRS)}-USDT",
                       rnd.choice(["BUY", "SELL"]), rnd.randint(1, 5) / 100,
                       (1000 + rnd.randint(-20, 20)) / 100) for _ in range(chunk)]
            t0 = time.perf_counter()
            for uid, symbol, side, amount, price in orders:
                conn.execute("SELECT id FROM exchange.place_order(%s, %s, %s, 'LIMIT', "
                             "%s::numeric, %s::numeric)", (uid, symbol, side, amount, price))
            spent[n_rules] += time.perf_counter() - t0
            done[n_rules] += chunk
    return done[0] / spent[0], done[10] / spent[10]


def cpu_compare(dsn: str, ubase: int, calls: int, rounds: int = 2) -> tuple[float, float]:
    """Server CPU milliseconds per place_order (one transaction each, synchronous_commit off,
    from /proc of the backend: insensitive to other load), without and with the 10 rules,
    alternating; the least of each."""
    import random

    rnd = random.Random(2)

    def params() -> list[tuple[Any, ...]]:
        return [(ubase + rnd.randint(1, USERS), f"P{rnd.randint(1, PAIRS)}-USDT",
                 rnd.choice(["BUY", "SELL"]), rnd.randint(1, 5) / 100,
                 (1000 + rnd.randint(-20, 20)) / 100)]

    stmt = [("SELECT id FROM exchange.place_order(%s, %s, %s, 'LIMIT', %s::numeric, "
             "%s::numeric)", None)]
    best = {0: float("inf"), 10: float("inf")}
    for _ in range(rounds):
        for n_rules in (0, 10):
            set_rules_active(dsn, n_rules > 0)
            trim_book(dsn, 1000)
            load_depth(dsn, 1000)
            rnd.seed(2)   # the same orders for both variants
            best[n_rules] = min(best[n_rules], cpu_per_call(dsn, stmt, calls, params))
    return best[0], best[10]


def run(args: argparse.Namespace) -> list[str]:
    admin = _conninfo(args.dsn, "postgres")
    bench = _conninfo(args.dsn, BENCH_DB)
    print(f"preparing {BENCH_DB} (migrate, {PAIRS} pairs, {USERS} users, 10 rules) ...",
          flush=True)
    _recreate(admin, BENCH_DB)
    Migrator(bench).migrate()
    ubase = seed(bench)
    install_rules(bench)
    load_depth(bench, 1000)

    set_rules_active(bench, True)
    load_us, check_us = micro(bench)
    print(f"  in-database, 10 rules: thresholds read {load_us:.1f} us, _check_order_risk "
          f"{check_us:.1f} us per order", flush=True)
    if args.async_commit:
        os.environ["PGOPTIONS"] = "-c synchronous_commit=off"
    results: dict[int, list[float]] = {0: [], 10: []}
    for rnd in range(args.rounds):
        for n_rules in (0, 10):
            active = set_rules_active(bench, n_rules > 0)
            assert active == n_rules
            trim_book(bench, 1000)
            load_depth(bench, 1000)
            checkpoint(admin)
            r = pgbench(args.dsn, BENCH_DB, script=PLACE_SCRIPT, clients=args.clients,
                        duration=args.duration, defines={"npairs": PAIRS, "ubase": ubase},
                        name="place_order")
            results[n_rules].append(r.tps)
            print(f"  round {rnd + 1}: {n_rules:2d} rules, {args.clients} clients, {PAIRS} pairs: "
                  f"{r.tps:.0f} orders/s (avg {r.latency_ms:.2f} ms)", flush=True)
    inline: tuple[float, float] | None = None
    if args.chunks:
        trim_book(bench, 1000)
        load_depth(bench, 1000)
        inline = interleaved(bench, ubase, args.chunks, args.chunk)
        print(f"  interleaved, 1 client: {inline[0]:.0f} orders/s without rules, "
              f"{inline[1]:.0f} with 10", flush=True)
    cpu: tuple[float, float] | None = None
    if args.cpu_calls:
        cpu = cpu_compare(bench, ubase, args.cpu_calls, rounds=args.cpu_rounds)
        print(f"  server CPU per place_order: {cpu[0]:.3f} ms without rules, {cpu[1]:.3f} ms "
              f"with 10", flush=True)
    with psycopg.connect(bench, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM exchange.risk_events").fetchone()
        events = int(row[0]) if row else 0
    if not args.keep:
        _drop(admin, BENCH_DB)

    none, ten = statistics.median(results[0]), statistics.median(results[10])
    commit = "synchronous_commit=off" if args.async_commit else "durable commits"
    lines = [f"place_order, {args.clients} clients, {PAIRS} pairs, {args.duration} s per run, "
             f"{commit}, {args.rounds} round(s) alternating; risk events written: {events}.",
             f"In-database cost with 10 rules (nothing hit): reading the market's cached "
             f"thresholds {load_us:.1f} us (once per market per call), _check_order_risk "
             f"{check_us:.1f} us per order (a session of its own, same machine load).",
             "",
             "| active risk rules | runs (orders/s) | median orders/s | ratio to none |",
             "|---:|---|---:|---:|"]
    for n, med in ((0, none), (10, ten)):
        runs = ", ".join(f"{x:.0f}" for x in results[n])
        lines.append(f"| {n} | {runs} | {med:.0f} | {med / none:.3f} |")
    paired = statistics.median(t / n for n, t in zip(results[0], results[10], strict=True))
    if cpu is not None:
        lines.append("")
        lines.append(f"Server CPU per place_order (from /proc of the backend, least of 3 x "
                     f"{args.cpu_calls} calls per variant, {args.cpu_rounds} alternating rounds, "
                     f"synchronous_commit=off): {cpu[0]:.3f} ms with no rule, {cpu[1]:.3f} ms "
                     f"with 10: throughput ratio {cpu[0] / cpu[1]:.3f}.")
    if inline is not None:
        lines.append("")
        lines.append(f"Interleaved in one session ({args.chunks} x {args.chunk} orders per "
                     f"variant, alternating chunks, synchronous_commit=off): {inline[0]:.0f} "
                     f"orders/s with no rule, {inline[1]:.0f} with 10: ratio "
                     f"{inline[1] / inline[0]:.3f}.")
    lines.append("")
    lines.append(f"median of the per-round ratios (10 rules / none, same round): {paired:.3f}")
    verdicts = [("pgbench per-round", paired)]
    if cpu is not None:
        derived = cpu[0] / (cpu[0] + (load_us + check_us) / 1000)
        lines.append("")
        lines.append(f"Derived: place_order's server CPU without rules ({cpu[0]:.3f} ms) plus the "
                     f"in-database cost of the evaluation ({(load_us + check_us) / 1000:.3f} ms): "
                     f"throughput ratio {derived:.3f}.")
        verdicts.append(("derived", derived))
    if inline is not None:
        verdicts.append(("interleaved session", inline[1] / inline[0]))
    if cpu is not None:
        verdicts.append(("server CPU", cpu[0] / cpu[1]))
    lines.append("bar (>= 0.9): " + "; ".join(
        f"{name} {ratio:.3f} {'met' if ratio >= 0.9 else 'NOT met'}" for name, ratio in verdicts))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.risk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                        help="any database of the server (the bench database is created beside it)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per pgbench run")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of none / 10")
    parser.add_argument("--async-commit", action="store_true",
                        help="pgbench sessions with synchronous_commit=off (CPU-bound: the "
                             "evaluation's share of each call is larger)")
    parser.add_argument("--chunks", type=int, default=10,
                        help="interleaved single-session measurement: chunks per variant (0: skip)")
    parser.add_argument("--chunk", type=int, default=100, help="orders per chunk")
    parser.add_argument("--cpu-calls", type=int, default=500,
                        help="server CPU per place_order from /proc, calls per round (0: skip; "
                             "the server must run on this host)")
    parser.add_argument("--cpu-rounds", type=int, default=2,
                        help="alternating rounds of the CPU measurement")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args(argv)
    started = time.monotonic()
    lines = run(args)
    print()
    print("\n".join(lines))
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
