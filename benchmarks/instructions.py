"""``python -m benchmarks instructions``: CPU instructions per call, counted by valgrind,
against pgbench's TPC-B transaction counted the same way in the same run.

Throughput and CPU time on a shared virtual machine drift by 10-20 % between runs; the number
of instructions a backend executes for a call does not. This benchmark counts them with
callgrind in a single-user backend (``postgres --single``) of a private cluster made for the
run (an ``EmbeddedServer`` in a temporary directory; as root it runs as ``postgres``):

- TPC-B: pgbench's tpcb-like transaction (``pgbench -i -s 1``), its five statements prepared,
  BEGIN ... COMMIT;
- ``exchange.transfer`` between two of 50 funded users, a new idempotency key each;
- ``exchange.place_order`` of a limit buy that rests (far below the market), as ``floor``;
- the floor of that order: the same rows written by ``floor``'s hand-written statement
  (``ORDER_FLOOR``: no validation, no PL/pgSQL);
- ``exchange.place_order`` twice: a limit sell that rests, then another user's limit buy
  that fills it (one trade; the pair's cost less a resting order's is what crossing adds);
- the floor of that pair: the same rows written by ``floor``'s two hand-written statements
  (``SELL_FLOOR``, ``CROSS_FLOOR``: no validation, no PL/pgSQL);
- ``exchange.place_order`` three times: two limit sells that rest, then a limit buy filling
  both (two trades, two makers' fills in one call);
- ``CALL exchange.submit_order`` of the resting buy (its market free: placed at once, then the
  commit without flush and the flushing commit). A CALL cannot be prepared here, so its count
  includes two costs a prepared client does not pay: the CALL's parse analysis (about 210 k)
  and single-user mode printing its 22 output columns (about 90 k);
- ``exchange.place_orders`` with 50 such orders per call, counted per order;
- ``exchange.place_orders`` with 25 limit buys that fill the sells of the call before and 25
  sells that rest, per order, and the floor of that batch (``BATCH_FLOOR``: the same rows in
  one set-based statement).

Each workload runs twice, with 50 and with 350 calls; the difference divided by 300 is the
cost of one call, start-up and the first calls' caches cancelled out. Prepared statements
(``PREPARE``/``EXECUTE``) stand for pgbench's ``-M prepared``; single-user mode has no network
round trips, so TPC-B's five statements are cheaper here than over a socket. Instructions are
not time (cache misses, system calls and the WAL flush are not counted): use this to compare
versions of the code, ``ledger`` and ``trading`` for the targets.

Needs valgrind (``apt-get install valgrind``) and the PostgreSQL server binaries.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg

from benchmarks.common import markdown_table, pgbench_binary
from benchmarks.floor import (
    BATCH_FLOOR,
    CROSS_FLOOR,
    ORDER_FLOOR,
    PLACE_BATCH,
    PLACE_CROSSING,
    PLACE_SEED,
    PLACE_SELL,
    SELL_FLOOR,
)
from benchmarks.ledger import setup_ledger
from benchmarks.trading import USERS, seed
from pyexchange.migrate import Migrator
from pyexchange.server import EmbeddedServer

SMALL, LARGE = 50, 350
LEDGER_ACCOUNTS = 50
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def _tpcb(n: int) -> list[str]:
    rnd = random.Random(n)
    lines = [
        "PREPARE u1(int, int) AS UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
        "PREPARE s1(int) AS SELECT abalance FROM pgbench_accounts WHERE aid = $1;",
        "PREPARE u2(int, int) AS UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;",
        "PREPARE u3(int, int) AS UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;",
        "PREPARE i1(int, int, int, int) AS INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
        "VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP);",
    ]
    for _ in range(n):
        aid, tid, delta = rnd.randint(1, 100000), rnd.randint(1, 10), rnd.randint(-5000, 5000)
        lines.append(f"BEGIN; EXECUTE u1({delta}, {aid}); EXECUTE s1({aid}); "
                     f"EXECUTE u2({delta}, {tid}); EXECUTE u3({delta}, 1); "
                     f"EXECUTE i1({tid}, 1, {aid}, {delta}); COMMIT;")
    return lines


def _transfer(base: int) -> Callable[[int], list[str]]:
    def script(n: int) -> list[str]:
        rnd = random.Random(n)
        lines = ["PREPARE t(bigint, bigint, text) AS "
                 "SELECT exchange.transfer($1, $2, 'BENCH', 1, $3);"]
        for i in range(n):
            f = rnd.randint(1, LEDGER_ACCOUNTS)
            t = rnd.randint(1, LEDGER_ACCOUNTS - 1)
            t += t >= f
            lines.append(f"EXECUTE t({base + f}, {base + t}, 'instr-{n}-{i}');")
        return lines
    return script


def _place_order(base: int) -> Callable[[int], list[str]]:
    def script(n: int) -> list[str]:
        rnd = random.Random(n)
        lines = ["PREPARE p(bigint) AS SELECT id FROM exchange.place_order("
                 "$1, 'P1-USDT', 'BUY', 'LIMIT', 0.01, 5.00);"]
        lines += [f"EXECUTE p({base + rnd.randint(1, USERS)});" for _ in range(n)]
        return lines
    return script


def _one_line(name: str, sql: str) -> str:
    """PREPARE name(bigint) AS sql, its %(u)s the parameter, on one line: single-user mode
    ends a statement at a newline (so no comments inside)."""
    return f"PREPARE {name}(bigint) AS {' '.join(sql.replace('%(u)s', '$1').split())};"


def _resting_floor(base: int) -> Callable[[int], list[str]]:
    """A resting order's writes as ``floor`` makes them: one statement, no checks."""
    def script(n: int) -> list[str]:
        rnd = random.Random(n)
        return [_one_line("f", ORDER_FLOOR)] + [f"EXECUTE f({base + rnd.randint(1, USERS)});"
                                                for _ in range(n)]
    return script


def _pair(sell: str, buy: str, sells: int = 1) -> Callable[[int], Callable[[int], list[str]]]:
    """Limit sells that rest (above the resting buys of the other workloads), then a limit
    buy of another user that fills them (a trade and a maker fill each, the settlement's
    legs), as calls of ``sell`` (``sells`` of them) and one of ``buy``: the engine's
    place_order or the floor's statements."""
    def for_base(base: int) -> Callable[[int], list[str]]:
        def script(n: int) -> list[str]:
            rnd = random.Random(n)
            lines = [_one_line("s", sell), _one_line("b", buy)]
            for _ in range(n):
                lines += [f"EXECUTE s({base + rnd.randint(1, USERS // 2)});"
                          for _ in range(sells)]
                lines.append(f"EXECUTE b({base + rnd.randint(USERS // 2 + 1, USERS)});")
            return lines
        return script
    return for_base


BATCH = 50


def _batch_statement(name: str, sql: str, base: int) -> str:
    """PREPARE name(int) of a batch statement of ``floor`` (BATCH orders: half sells that
    rest, half buys filling the call before's), on one line."""
    text = (sql.replace("%(ubase)s", str(base)).replace("%(half)s", str(BATCH // 2))
            .replace("%(k)s", "$1").replace("%%", "%"))
    return f"PREPARE {name}(int) AS {' '.join(text.split())};"


def _crossing_batch(statement: str, seed: str | None = None
                    ) -> Callable[[int], Callable[[int], list[str]]]:
    """``n`` orders in calls of BATCH, half buys filling the previous call's sells and half
    sells that rest (the engine's place_orders or the floor's one statement), per order;
    ``seed`` (the same in both runs, so it cancels) places the first call's sells."""
    def for_base(base: int) -> Callable[[int], list[str]]:
        def script(n: int) -> list[str]:
            rnd = random.Random(n)
            lines = [_batch_statement("x", statement, base)]
            if seed is not None:
                lines += [_batch_statement("s", seed, base), "EXECUTE s(0);"]
            return lines + [f"EXECUTE x({rnd.randint(0, USERS // 2 - 1)});"
                            for _ in range(n // BATCH)]
        return script
    return for_base


def _place_orders(base: int) -> Callable[[int], list[str]]:
    """``n`` resting limit buys in calls of BATCH (n is a multiple of BATCH): the per-call
    result is then the cost of one order inside a batch."""
    def script(n: int) -> list[str]:
        rnd = random.Random(n)
        lines = []
        for _ in range(n // BATCH):
            rows = ", ".join(f"ROW({base + rnd.randint(1, USERS)}, 'P1-USDT', 'BUY', 'LIMIT', "
                             "0.01, 5.00, 'GTC', NULL, NULL, NULL, NULL)" for _ in range(BATCH))
            lines.append(f"SELECT count(*) FROM exchange.place_orders(ARRAY[{rows}]"
                         "::exchange.order_request[]);")
        return lines
    return script


def _submit_order(base: int) -> Callable[[int], list[str]]:
    def script(n: int) -> list[str]:
        rnd = random.Random(n)
        return [f"CALL exchange.submit_order({base + rnd.randint(1, USERS)}, 'P1-USDT', 'BUY', "
                "'LIMIT', 0.01, 5.00);" for _ in range(n)]
    return script


def _count(server: EmbeddedServer, valgrind: str, db: str, lines: list[str]) -> int:
    """Instructions of a single-user backend running ``lines`` on ``db`` (callgrind)."""
    out = server.base_dir / "callgrind.out"
    argv = server._command([valgrind, "--tool=callgrind", f"--callgrind-out-file={out}",
                            str(server.bindir() / "postgres"), "--single",
                            "-D", str(server.data_dir), "-c", "synchronous_commit=off", db])
    proc = subprocess.run(argv, input="\n".join(lines) + "\n", text=True, capture_output=True,
                          cwd=server.base_dir, timeout=1800)
    errors = [line for line in proc.stderr.splitlines() if "ERROR:" in line]
    found = _COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or errors or not found:
        raise RuntimeError(f"single-user backend on {db} failed (exit {proc.returncode}):\n"
                           + "\n".join(errors[:5] or proc.stderr.splitlines()[-10:]))
    return int(found.group(1))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks instructions",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", default="",
                        help="count only the calls whose name contains this (TPC-B always)")
    parser.add_argument("--profile-dir", type=Path, default=None,
                        help="keep each workload's callgrind profile (the larger run) here, "
                             "for callgrind_annotate")
    args = parser.parse_args(argv)
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pyx-instr-") as tmp:
        Path(tmp).chmod(0o755)
        server = EmbeddedServer(Path(tmp) / "pg", database="pyx_ledger")
        print("a private cluster: migrating, funding 50 users, seeding the trading book ...",
              flush=True)
        try:
            ledger_dsn = server.start()
            base = setup_ledger(ledger_dsn, LEDGER_ACCOUNTS)
            with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
                conn.execute("CREATE DATABASE pyx_trading")
                conn.execute("CREATE DATABASE pyx_tpcb")
            trading_dsn = server.conninfo("pyx_trading")
            Migrator(trading_dsn).migrate()
            ubase = seed(trading_dsn)
            with psycopg.connect(trading_dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            subprocess.run([pgbench_binary(), "-i", "-q", "-s", "1", server.conninfo("pyx_tpcb")],
                           check=True, capture_output=True)
        finally:
            server.stop()
        workloads: list[tuple[str, str, Callable[[int], list[str]]]] = [
            ("TPC-B transaction (5 statements)", "pyx_tpcb", _tpcb),
            ("exchange.transfer", "pyx_ledger", _transfer(base)),
            ("exchange.place_order, resting limit buy", "pyx_trading", _place_order(ubase)),
            ("floor of that order: its writes in one statement, no checks", "pyx_trading",
             _resting_floor(ubase)),
            ("exchange.place_order, a resting limit sell then a limit buy filling it (two calls)",
             "pyx_trading", _pair(PLACE_SELL, PLACE_CROSSING)(ubase)),
            ("floor of that pair: its writes in one statement each, no checks (two calls)",
             "pyx_trading", _pair(SELL_FLOOR, CROSS_FLOOR)(ubase)),
            ("exchange.place_order, two resting limit sells then a limit buy filling both "
             "(three calls)", "pyx_trading",
             _pair(PLACE_SELL, PLACE_CROSSING.replace("0.01, 20.00", "0.02, 20.00"), 2)(ubase)),
            ("CALL exchange.submit_order, resting limit buy (3 transactions)", "pyx_trading",
             _submit_order(ubase)),
            (f"exchange.place_orders, {BATCH} resting limit buys per call, per order",
             "pyx_trading", _place_orders(ubase)),
            (f"exchange.place_orders, {BATCH // 2} buys filling the call before's sells, "
             f"{BATCH // 2} sells that rest, per order", "pyx_trading",
             _crossing_batch(PLACE_BATCH, PLACE_SEED)(ubase)),
            ("floor of that batch: its writes in one set-based statement, no checks, per order",
             "pyx_trading", _crossing_batch(BATCH_FLOOR)(ubase)),
        ]
        workloads = [w for i, w in enumerate(workloads) if i == 0 or args.only in w[0]]
        rows = []
        per_call: dict[str, float] = {}
        for name, db, script in workloads:
            small = _count(server, valgrind, db, script(SMALL))
            large = _count(server, valgrind, db, script(LARGE))
            if args.profile_dir is not None:
                args.profile_dir.mkdir(parents=True, exist_ok=True)
                slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
                shutil.copy(server.base_dir / "callgrind.out",
                            args.profile_dir / f"callgrind.{slug}.out")
            per_call[name] = (large - small) / (LARGE - SMALL)
            print(f"  {name}: {per_call[name]:,.0f} instructions per call", flush=True)
        tpcb = per_call[workloads[0][0]]
        for name, _, _ in workloads:
            rows.append([name, f"{per_call[name]:,.0f}", f"{tpcb / per_call[name]:.2f}"])
    print()
    print(markdown_table(["call", "instructions per call", "TPC-B / call"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
