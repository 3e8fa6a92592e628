"""Relay benchmark: throughput (events/s) and latency from commit to broker acknowledgement.

Runs against the PostgreSQL server of ``--dsn``, PYEXCHANGE_BENCH_DSN or the libpq environment
(default 127.0.0.1:5432 as postgres) in its own new database, and the NATS JetStream server of PYEXCHANGE_NATS_URL
(default nats://127.0.0.1:4222) in its own new stream; both are dropped at the end.

    python -m benchmarks relay [--quick] [--dsn DSN]
    python -m benchmarks.relay [--quick]

1. Backlog drain: N events already committed (spread over many aggregates, then over a few
   hot ones), one relay, `--once`: events/s.
2. Under trading load: a relay process running, two sessions placing and crossing orders,
   and a probe session committing one tiny event every 5 ms. Latency per probe event =
   published_at (clock_timestamp() when the relay marked it, after the broker's ack) minus
   created_at (the probe transaction's start, ~0.1 ms before its commit): p50, p99, max. The
   trading sessions' orders/s with the relay running are printed next to a baseline run
   without it (same load and probe, events left pending; the relay then drains them before
   the measured run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pyexchange.migrate import Migrator
from pyexchange.relay import Relay, RelayConfig

ROOT = Path(__file__).resolve().parents[1]
NATS_URL = os.environ.get("PYEXCHANGE_NATS_URL", "nats://127.0.0.1:4222")


def admin_dsn(dsn: str | None) -> str:
    """The maintenance DSN (database ``postgres``) of the server to measure."""
    dsn = dsn or os.environ.get("PYEXCHANGE_BENCH_DSN") or ""
    params: dict[str, Any] = psycopg.conninfo.conninfo_to_dict(dsn) if dsn else {}
    params.setdefault("host", os.environ.get("PGHOST", "127.0.0.1"))
    params.setdefault("port", os.environ.get("PGPORT", "5432"))
    params.setdefault("user", os.environ.get("PGUSER", "postgres"))
    params["dbname"] = "postgres"
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


def _dsn(admin: str, dbname: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(admin)
    params["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def _delete_stream(name: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(name)
    except Exception:
        pass
    finally:
        await nc.close()


def setup_market(conn: psycopg.Connection[Any]) -> list[int]:
    conn.execute("SELECT exchange.create_asset('BNCH', 'Bench coin', 'CRYPTO', 8)")
    conn.execute("SELECT exchange.create_asset('BUSD', 'Bench dollar', 'CRYPTO', 8)")
    conn.execute("SELECT exchange.create_trading_pair('BNCH-BUSD', 'BNCH', 'BUSD', 2, 4)")
    users = []
    for i in range(2):
        row = conn.execute("INSERT INTO exchange.users (username, email, password_hash, status, "
                           "kyc_level) VALUES (%s, %s, 'x', 'ACTIVE', 2) RETURNING id",
                           (f"bench{i}", f"bench{i}@example.org")).fetchone()
        assert row is not None
        users.append(int(row[0]))
        conn.execute("SELECT exchange.deposit(%s, 'BNCH', 1000000, %s)", (row[0], f"b{i}"))
        conn.execute("SELECT exchange.deposit(%s, 'BUSD', 1000000000, %s)", (row[0], f"q{i}"))
    return users


def trade_loop(dsn: str, user: int, side: str, stop: threading.Event, counter: list[int]) -> None:
    """Place small limit orders around one price so that about half of them trade."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        i = 0
        while not stop.is_set():
            price = Decimal(100 + (i % 5) - 2 + (1 if side == "SELL" else -1) * (i % 2))
            conn.execute("SELECT id FROM exchange.place_order(%s, 'BNCH-BUSD', %s, 'LIMIT', "
                         "%s, %s)", (user, side, Decimal("0.01"), price))
            i += 1
        counter.append(i)


def probe_loop(dsn: str, stop: threading.Event, interval: float, ids: list[int]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        n = 0
        while not stop.is_set():
            row = conn.execute("SELECT exchange._emit_event('probe', %s, 'user_activated', "
                               "'{}'::jsonb)", (str(n % 50),)).fetchone()
            assert row is not None
            ids.append(int(row[0]))
            n += 1
            time.sleep(interval)


def trading_phase(dsn: str, users: list[int], seconds: float, relay: bool, stream: str,
                  prefix: str, probe_interval: float, linger: float = 0.005) -> dict[str, Any]:
    proc = None
    if relay:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from pyexchange.cli import main; main()", "--dsn", dsn,
             "relay", "--nats-url", NATS_URL, "--stream", stream, "--subject-prefix", prefix,
             "--poll-interval", "1", "--linger", str(linger)], cwd=ROOT,
            stdout=subprocess.DEVNULL)
        time.sleep(1.0)  # let it connect and LISTEN before the clock starts
    stop = threading.Event()
    counts: list[int] = []
    probe_ids: list[int] = []
    threads = [threading.Thread(target=trade_loop, args=(dsn, users[0], "BUY", stop, counts)),
               threading.Thread(target=trade_loop, args=(dsn, users[1], "SELL", stop, counts))]
    # The probe runs in both phases, so the baseline differs only by the relay.
    threads.append(threading.Thread(target=probe_loop,
                                    args=(dsn, stop, probe_interval, probe_ids)))
    with psycopg.connect(dsn, autocommit=True) as conn:
        start_id = conn.execute("SELECT coalesce(max(id), 0) FROM exchange.outbox_events").fetchone()[0]  # type: ignore[index]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    result: dict[str, Any] = {"orders_per_s": sum(counts) / elapsed}
    if proc is not None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            deadline = time.monotonic() + 60
            while conn.execute("SELECT count(*) FROM exchange.outbox_events WHERE status = "
                               "'PENDING' AND id > %s", (start_id,)).fetchone()[0] > 0:  # type: ignore[index]
                if time.monotonic() > deadline:
                    raise RuntimeError("the relay did not catch up within 60 s")
                time.sleep(0.1)
            lat = [float(r[0]) for r in conn.execute(
                "SELECT extract(epoch FROM published_at - created_at) * 1000 "
                "FROM exchange.outbox_events WHERE id = ANY (%s)", (probe_ids,))]
            total, span = conn.execute(
                "SELECT count(*), extract(epoch FROM max(published_at) - min(created_at)) "
                "FROM exchange.outbox_events WHERE id > %s", (start_id,)).fetchone()  # type: ignore[misc]
        proc.terminate()
        proc.wait(15)
        result.update(events=total, events_per_s=total / float(span), probes=len(lat),
                      p50=statistics.median(lat), p99=percentile(lat, 99), max=max(lat))
    return result


def drain_phase(dsn: str, stream: str, prefix: str, n: int, aggregates: int,
                batch: int) -> tuple[int, float]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT count(exchange._emit_event('order', (g %% %s)::text, 'order_placed', "
                     "jsonb_build_object('order_id', g, 'user_id', 1, 'symbol', 'BNCH-BUSD', "
                     "'price', '100.5', 'quantity', '0.01'))) FROM generate_series(1, %s) g",
                     (aggregates, n))
    relay = Relay(RelayConfig(dsn=dsn, nats_url=NATS_URL, stream=stream, subject_prefix=prefix,
                              batch_size=batch))
    t0 = time.perf_counter()
    stats = asyncio.run(relay.run(once=True))
    elapsed = time.perf_counter() - t0
    assert stats.published == n and not stats.failed, stats
    return stats.published, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks relay", description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", default=None, help="server to measure (default: "
                        "PYEXCHANGE_BENCH_DSN or the libpq environment)")
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=10.0, help="trading phase length")
    args = parser.parse_args(argv)
    n = 2000 if args.quick else args.events
    seconds = 3.0 if args.quick else args.seconds

    token = uuid.uuid4().hex[:8]
    dbname, stream, prefix = f"pyx_bench_relay_{token}", f"PYX_BENCH_{token.upper()}", f"pyxbench_{token}"
    admin_conninfo = admin_dsn(args.dsn)
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    dsn = _dsn(admin_conninfo, dbname)
    try:
        Migrator(dsn).migrate()
        print(f"relay benchmark (database {dbname}, stream {stream})")
        print("\n1. backlog drain, one relay (--once)")
        print(f"   {'events':>8} {'aggregates':>10} {'batch':>6} {'seconds':>8} {'events/s':>9}")
        for aggregates, batch in ((n // 10, 200), (n // 10, 1000), (20, 200)):
            published, elapsed = drain_phase(dsn, stream, prefix, n, aggregates, batch)
            print(f"   {published:>8} {aggregates:>10} {batch:>6} {elapsed:>8.2f} "
                  f"{published / elapsed:>9.0f}")
        with psycopg.connect(dsn, autocommit=True) as conn:
            users = setup_market(conn)
        print(f"\n2. trading load ({seconds:.0f} s, 2 sessions placing orders; probe event every 5 ms)")
        base = trading_phase(dsn, users, seconds, False, stream, prefix, 0.005)
        asyncio.run(Relay(RelayConfig(dsn=dsn, nats_url=NATS_URL, stream=stream,
                                      subject_prefix=prefix)).run(once=True))  # the backlog
        print(f"   orders/s without relay (baseline): {base['orders_per_s']:.0f}")
        for linger in (0.0, 0.005, 0.02):
            run = trading_phase(dsn, users, seconds, True, stream, prefix, 0.005, linger)
            print(f"   relay --linger {linger * 1000:.0f} ms: orders/s {run['orders_per_s']:.0f}; "
                  f"{run['events']} events published ({run['events_per_s']:.0f}/s); commit -> "
                  f"ack over {run['probes']} probes: p50 {run['p50']:.1f} ms, "
                  f"p99 {run['p99']:.1f} ms, max {run['max']:.1f} ms")
    finally:
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))
        asyncio.run(_delete_stream(stream))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
