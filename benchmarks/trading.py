"""Trading benchmark: ``exchange.place_order`` under pgbench, side by side with pgbench's own
TPC-B on the same server in the same run.

    python -m benchmarks trading [--dsn DSN] [--duration 20] [--quick] [--compare-notify]

What it measures (durable commits: the server's synchronous_commit and fsync as they are,
reported in the output):
  * TPC-B (pgbench -i -s 10, built-in script) at 1, 4 and 8 clients: the baseline.
  * place_order: limit orders of 0.01-0.05 around a mid price of 10.00 (+-20 ticks), buy or
    sell at random, so about half of them cross; 1 and 4 pairs; 1, 4 and 8 clients; the p99
    latency at 4 clients from pgbench's per-transaction log.
  * Book depth: 8 clients on 4 pairs with 1,000 and with 1,000,000 resting orders (loaded
    outside the benchmark's price range, so the book is deep but the walk stays at its top).
  * The batch form: exchange.place_orders with 100 and 1,000 orders (one pair per batch, as
    a market maker quoting one market), 4 clients, orders/s = batches/s x batch size.

The database ``pyx_trading_bench`` (and ``pyx_trading_tpcb``) is created afresh, migrated, and
seeded with 4 pairs P1-USDT .. P4-USDT and 1,000 funded users. It is dropped at the end
unless --keep.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.migrate import Migrator

BENCH_DB = "pyx_trading_bench"
TPCB_DB = "pyx_trading_tpcb"
USERS = 1000
PAIRS = 4

PLACE_SCRIPT = """\
\\set uid :ubase + random(1, 1000)
\\set pair random(1, :npairs)
\\set side random(0, 1)
\\set px 1000 + random(-20, 20)
\\set amt random(1, 5)
SELECT id FROM exchange.place_order(:uid::bigint, 'P' || :pair::text || '-USDT', CASE :side::int WHEN 0 THEN 'BUY' ELSE 'SELL' END, 'LIMIT', :amt::numeric * 0.01, :px::numeric * 0.01);
"""

BATCH_SCRIPT = """\
\\set pair random(1, :npairs)
SELECT count(*) FROM exchange.place_orders(ARRAY(
  SELECT ROW(:ubase::bigint + 1 + floor(random() * 1000)::int, 'P' || :pair::text || '-USDT',
             CASE WHEN random() < 0.5 THEN 'BUY' ELSE 'SELL' END, 'LIMIT',
             (1 + floor(random() * 5)) * 0.01, (980 + floor(random() * 41)) * 0.01,
             'GTC', NULL, NULL, NULL, NULL)::exchange.order_request
    FROM generate_series(1, :batch::int)));
"""


@dataclass
class Result:
    name: str
    clients: int
    tps: float
    latency_ms: float
    p99_ms: float | None = None
    per_tx: int = 1
    cpu_ms: float | None = None     # the machine's busy CPU time per operation (/proc/stat)

    @property
    def ops(self) -> float:
        return self.tps * self.per_tx


def _busy_jiffies() -> int | None:
    """CPU time the machine spent busy so far (all CPUs, clock ticks), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    return sum(values) - values[3] - values[4]    # all but idle and iowait


def _conninfo(dsn: str, dbname: str) -> str:
    parts = conninfo_to_dict(dsn)
    parts["dbname"] = dbname
    return make_conninfo(**{k: str(v) for k, v in parts.items() if v is not None})


def _pg_args(dsn: str, dbname: str) -> list[str]:
    parts = conninfo_to_dict(dsn)
    args = ["-h", str(parts.get("host", "127.0.0.1")), "-p", str(parts.get("port", 5432)),
            "-U", str(parts.get("user", "postgres"))]
    return [*args, dbname]


def _recreate(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def seed(dsn: str) -> int:
    """Assets, 4 pairs, 1,000 ACTIVE users with ample funds. Returns the first user id - 1."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT exchange.create_asset('USDT', 'Tether', 'CRYPTO', 8)")
        for i in range(1, PAIRS + 1):
            conn.execute("SELECT exchange.create_asset(%s, %s, 'CRYPTO', 8)", (f"P{i}", f"P{i}"))
            conn.execute("SELECT exchange.create_trading_pair(%s, %s, 'USDT', 2, 4)",
                         (f"P{i}-USDT", f"P{i}"))
        row = conn.execute(
            "WITH u AS (INSERT INTO exchange.users (username, email, password_hash, status, kyc_level) "
            "SELECT 'bench' || g, 'bench' || g || '@example.org', 'x', 'ACTIVE', 2 "
            "FROM generate_series(1, %s) g RETURNING id) SELECT min(id) - 1 FROM u",
            (USERS,)).fetchone()
        assert row is not None
        ubase = int(row[0])
        # one balanced DEPOSIT record per asset: every user +amount, EXTERNAL -total
        for sym, amount in [("USDT", 10**9)] + [(f"P{i}", 10**7) for i in range(1, PAIRS + 1)]:
            conn.execute(
                """
                WITH a AS (SELECT id FROM exchange.assets WHERE symbol = %(sym)s),
                legs AS (
                    SELECT exchange._user_account(u.id, a.id) AS acc, %(amt)s::numeric AS amt
                      FROM exchange.users u, a WHERE u.username LIKE 'bench%%'
                    UNION ALL
                    SELECT exchange._system_account('EXTERNAL', a.id), -%(amt)s::numeric * %(n)s FROM a)
                SELECT exchange._post_journals(ARRAY['DEPOSIT'], ARRAY['BENCH'], ARRAY[0::bigint],
                       array_agg(1), array_agg(acc), array_agg('AVAILABLE'::exchange.balance_bucket),
                       array_agg(amt)) FROM legs
                """, {"sym": sym, "amt": amount, "n": USERS})
        return ubase


def load_depth(dsn: str, total: int) -> None:
    """Bring the resting orders to ``total`` (spread over the pairs and both sides) with
    set-based inserts: orders, their book rows, and one hold record per account. They rest
    at 5.00-9.00 (bids) and 11.00-15.00 (asks), outside the benchmark's 9.80-10.20."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM exchange.order_book").fetchone()
        have = int(row[0]) if row else 0
        need = total - have
        chunk = 200_000
        while need > 0:
            n = min(chunk, need)
            conn.execute(
                """
                WITH src AS (
                    SELECT g, %(ubase)s + 1 + (g * 7919) %% %(users)s AS user_id,
                           1 + g %% %(pairs)s AS pair_n,
                           CASE WHEN g %% 2 = 0 THEN 'BUY' ELSE 'SELL' END::exchange.order_side AS side,
                           CASE WHEN g %% 2 = 0 THEN 5 + (g %% 401) * 0.01
                                ELSE 11 + (g %% 401) * 0.01 END AS price
                      FROM generate_series(1, %(n)s) g
                ), o AS (
                    INSERT INTO exchange.orders (user_id, trading_pair_id, type, side, amount, price,
                                                 remaining_amount, hold_amount, status)
                    SELECT s.user_id, tp.id, 'LIMIT', s.side, 0.01, s.price, 0.01,
                           CASE s.side WHEN 'BUY' THEN s.price * 0.01 ELSE 0.01 END, 'NEW'
                      FROM src s JOIN exchange.trading_pairs tp ON tp.symbol = 'P' || s.pair_n || '-USDT'
                    RETURNING id, created_at, user_id, trading_pair_id, side, price, hold_amount
                ), b AS (
                    INSERT INTO exchange.order_book (order_id, order_created_at, trading_pair_id, side,
                                                     price, seq, user_id, remaining, base_account_id,
                                                     quote_account_id)
                    SELECT o.id, o.created_at, o.trading_pair_id, o.side, o.price,
                           nextval('exchange.order_book_seq'), o.user_id, 0.01, ab.id, aq.id
                      FROM o JOIN exchange.trading_pairs tp ON tp.id = o.trading_pair_id
                      JOIN exchange.accounts ab ON ab.user_id = o.user_id AND ab.asset_id = tp.base_asset_id
                      JOIN exchange.accounts aq ON aq.user_id = o.user_id AND aq.asset_id = tp.quote_asset_id
                    RETURNING order_id
                ), holds AS (
                    SELECT CASE o.side WHEN 'BUY' THEN aq.id ELSE ab.id END AS acc,
                           sum(o.hold_amount) AS amt
                      FROM o JOIN exchange.trading_pairs tp ON tp.id = o.trading_pair_id
                      JOIN exchange.accounts ab ON ab.user_id = o.user_id AND ab.asset_id = tp.base_asset_id
                      JOIN exchange.accounts aq ON aq.user_id = o.user_id AND aq.asset_id = tp.quote_asset_id
                     GROUP BY 1
                ), legs AS (
                    SELECT acc, 'AVAILABLE'::exchange.balance_bucket AS bucket, -amt AS amt FROM holds
                    UNION ALL
                    SELECT acc, 'FROZEN', amt FROM holds
                )
                SELECT (SELECT count(*) FROM b),
                       exchange._post_journals(ARRAY['ORDER_HOLD'], ARRAY['BENCH'], ARRAY[0::bigint],
                           array_agg(1), array_agg(acc), array_agg(bucket), array_agg(amt::numeric))
                  FROM legs
                """, {"ubase": _ubase(conn), "users": USERS, "pairs": PAIRS, "n": n})
            need -= n
        conn.execute("VACUUM ANALYZE exchange.order_book")
        conn.execute("ANALYZE exchange.orders")


def _ubase(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT min(id) - 1 FROM exchange.users WHERE username LIKE 'bench%'").fetchone()
    assert row is not None
    return int(row[0])


def trim_book(dsn: str, total: int) -> None:
    """Cancel resting orders (through the API, per user) until about ``total`` remain."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT count(*) FROM exchange.order_book").fetchone()
            have = int(row[0]) if row else 0
            if have <= total:
                return
            users = conn.execute(
                "SELECT user_id FROM exchange.order_book GROUP BY user_id ORDER BY count(*) DESC LIMIT 20"
            ).fetchall()
            for (uid,) in users:
                conn.execute("SELECT count(*) FROM exchange.cancel_all_orders(%s)", (uid,))
                row = conn.execute("SELECT count(*) FROM exchange.order_book").fetchone()
                if row and int(row[0]) <= total:
                    return


_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
_LAT = re.compile(r"latency average = ([0-9.]+) ms")


def pgbench(dsn: str, dbname: str, *, script: str | None, clients: int, duration: int,
            defines: dict[str, Any] | None = None, log_p99: bool = False,
            name: str = "", per_tx: int = 1) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients),
                "-T", str(duration)]
        if script is not None:
            path = Path(tmp) / "script.sql"
            path.write_text(script)
            args += ["-f", str(path)]
        for k, v in (defines or {}).items():
            args += ["-D", f"{k}={v}"]
        if log_p99:
            args += ["-l", "--log-prefix", str(Path(tmp) / "log")]
        busy = _busy_jiffies()
        out = subprocess.run([*args, *_pg_args(dsn, dbname)], capture_output=True, text=True,
                             check=False, cwd=tmp)
        busy_after = _busy_jiffies()
        if out.returncode != 0 or "tps =" not in out.stdout:
            raise RuntimeError(f"pgbench failed:\n{out.stdout}\n{out.stderr}")
        tps = float(_TPS.search(out.stdout).group(1))  # type: ignore[union-attr]
        lat_m = _LAT.search(out.stdout)
        lat = float(lat_m.group(1)) if lat_m else 0.0
        p99 = None
        if log_p99:
            lats: list[int] = []
            for f in Path(tmp).glob("log*"):
                for line in f.read_text().splitlines():
                    parts = line.split()
                    if len(parts) >= 3:
                        lats.append(int(parts[2]))
            if lats:
                p99 = statistics.quantiles(lats, n=100)[98] / 1000.0
        cpu_ms = None
        if busy is not None and busy_after is not None and tps > 0:
            ticks = os.sysconf("SC_CLK_TCK")
            cpu_ms = (busy_after - busy) * 1000 / ticks / (tps * duration * per_tx)
        return Result(name, clients, tps, lat, p99, per_tx, cpu_ms)


def checkpoint(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def run(args: argparse.Namespace) -> list[str]:
    admin = _conninfo(args.dsn, "postgres")
    bench = _conninfo(args.dsn, BENCH_DB)
    dur = args.duration
    lines: list[str] = []

    def say(msg: str) -> None:
        print(msg, flush=True)

    with psycopg.connect(admin, autocommit=True) as conn:
        settings = {k: conn.execute(f"SHOW {k}").fetchone()[0]  # type: ignore[index]
                    for k in ("server_version", "fsync", "synchronous_commit", "shared_buffers")}
    cpus = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    say(f"server {settings}, {cpus} CPUs, {dur}s per run")

    say("TPC-B baseline: pgbench -i -s 10 ...")
    _recreate(admin, TPCB_DB)
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", *_pg_args(args.dsn, TPCB_DB)],
                   capture_output=True, check=True)
    say(f"preparing {BENCH_DB} (migrate, 4 pairs, {USERS} users) ...")
    _recreate(admin, BENCH_DB)
    Migrator(bench).migrate()
    ubase = seed(bench)
    load_depth(bench, 1000)

    clients_list = [1, 4, 8] if not args.quick else [8]
    tpcb: dict[int, Result] = {}
    place: dict[tuple[int, int], Result] = {}
    for c in clients_list:
        checkpoint(admin)
        tpcb[c] = pgbench(args.dsn, TPCB_DB, script=None, clients=c, duration=dur, name="tpcb")
        say(f"  TPC-B {c} clients: {tpcb[c].tps:.0f} tps")
        for npairs in ([1, PAIRS] if not args.quick else [PAIRS]):
            trim_book(bench, 1000)
            load_depth(bench, 1000)
            checkpoint(admin)
            r = pgbench(args.dsn, BENCH_DB, script=PLACE_SCRIPT, clients=c, duration=dur,
                        defines={"npairs": npairs, "ubase": ubase}, log_p99=(c == 4),
                        name="place_order")
            place[(c, npairs)] = r
            p99 = f", p99 {r.p99_ms:.1f} ms" if r.p99_ms is not None else ""
            say(f"  place_order {c} clients {npairs} pair(s): {r.tps:.0f} orders/s, "
                f"avg {r.latency_ms:.2f} ms{p99}")

    # the engine without the outbox statement trigger (notifications, NOTIFY, market feed)
    no_notify: Result | None = None
    if args.compare_notify:
        trim_book(bench, 1000)
        with psycopg.connect(bench, autocommit=True) as conn:
            conn.execute("ALTER TABLE exchange.outbox_events DISABLE TRIGGER tg_outbox_events__after_insert")
        checkpoint(admin)
        no_notify = pgbench(args.dsn, BENCH_DB, script=PLACE_SCRIPT, clients=8, duration=dur,
                            defines={"npairs": PAIRS, "ubase": ubase}, name="no_notify")
        with psycopg.connect(bench, autocommit=True) as conn:
            conn.execute("ALTER TABLE exchange.outbox_events ENABLE TRIGGER tg_outbox_events__after_insert")
        say(f"  place_order 8 clients 4 pairs, outbox trigger disabled: {no_notify.tps:.0f} orders/s")

    batch: dict[int, Result] = {}
    for size in (100, 1000):
        trim_book(bench, 1000)
        checkpoint(admin)
        batch[size] = pgbench(args.dsn, BENCH_DB, script=BATCH_SCRIPT, clients=4, duration=dur,
                              defines={"npairs": PAIRS, "ubase": ubase, "batch": size},
                              name="batch", per_tx=size)
        say(f"  place_orders batch {size}, 4 clients: {batch[size].ops:.0f} orders/s")

    # book depth: 1,000 vs 1,000,000 resting orders, 8 clients on 4 pairs
    depth: dict[int, Result] = {}
    for total in ([1000, args.deep] if not args.skip_depth else []):
        if total < 10_000:
            trim_book(bench, total)
        say(f"  loading the book to {total:,} resting orders ...")
        load_depth(bench, total)
        checkpoint(admin)
        depth[total] = pgbench(args.dsn, BENCH_DB, script=PLACE_SCRIPT, clients=8, duration=dur,
                               defines={"npairs": PAIRS, "ubase": ubase}, name="depth")
        say(f"  depth {total:,}: {depth[total].tps:.0f} orders/s")

    # the tables
    lines.append(f"Server: PostgreSQL {settings['server_version']}, fsync={settings['fsync']}, "
                 f"synchronous_commit={settings['synchronous_commit']}, "
                 f"shared_buffers={settings['shared_buffers']}; {cpus} CPUs; {dur} s per run.")
    lines.append("")
    lines.append("| clients | TPC-B tps | place_order/s, 1 pair | place_order/s, 4 pairs | ratio (4 pairs / TPC-B) | avg latency 4 pairs (ms) |")
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for c in clients_list:
        one = place.get((c, 1))
        four = place[(c, PAIRS)]
        lines.append(f"| {c} | {tpcb[c].tps:.0f} | {one.tps:.0f} | " if one else f"| {c} | {tpcb[c].tps:.0f} | - | ")
        lines[-1] += f"{four.tps:.0f} | {four.tps / tpcb[c].tps:.2f} | {four.latency_ms:.2f} |"
    if (4, PAIRS) in place and place[(4, PAIRS)].p99_ms is not None:
        lines.append("")
        lines.append(f"p99 latency of place_order at 4 clients, 4 pairs: "
                     f"{place[(4, PAIRS)].p99_ms:.1f} ms "
                     f"(1 pair: {place[(4, 1)].p99_ms:.1f} ms)." if (4, 1) in place
                     and place[(4, 1)].p99_ms is not None else
                     f"p99 latency of place_order at 4 clients, 4 pairs: "
                     f"{place[(4, PAIRS)].p99_ms:.1f} ms.")
    if depth:
        lines.append("")
        lines.append("| resting orders | place_order/s (8 clients, 4 pairs) | ratio |")
        lines.append("|---:|---:|---:|")
        base = depth[1000].tps
        for total, r in depth.items():
            lines.append(f"| {total:,} | {r.tps:.0f} | {r.tps / base:.2f} |")
    if no_notify is not None:
        lines.append("")
        lines.append(f"Without the outbox statement trigger (tg_outbox_events__after_insert): "
                     f"{no_notify.tps:.0f} place_order/s at 8 clients on 4 pairs "
                     f"({no_notify.tps / tpcb[8].tps:.2f} x TPC-B).")
    lines.append("")
    lines.append("| batch size | batches/s (4 clients) | orders/s |")
    lines.append("|---:|---:|---:|")
    for size, r in batch.items():
        lines.append(f"| {size} | {r.tps:.1f} | {r.ops:.0f} |")
    if not args.keep:
        _drop(admin, BENCH_DB)
        _drop(admin, TPCB_DB)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks trading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                        help="any database of the server (the bench databases are created beside it)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per pgbench run")
    parser.add_argument("--deep", type=int, default=1_000_000, help="resting orders of the deep book")
    parser.add_argument("--quick", action="store_true", help="8 clients and 4 pairs only")
    parser.add_argument("--skip-depth", action="store_true", help="skip the book-depth runs")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument("--compare-notify", action="store_true",
                        help="also measure 8 clients / 4 pairs with the outbox trigger disabled")
    args = parser.parse_args(argv)
    started = time.monotonic()
    lines = run(args)
    print()
    print("\n".join(lines))
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
