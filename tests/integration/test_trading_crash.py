"""Crash: kill -9 the server of a private cluster during a submit_order load (with the outbox
relay running), restart it, and check that every acknowledged order is there exactly once,
every unanswered request is resolved (placed by process_order_requests, or placed / refused
by its retry with the same client_order_id) and none stays pending, no event the relay
published is missing, and the ledger reconciles.

The short form (``CRASH_SECONDS`` of load) runs in ``make test``; the cluster lives in
/tmp/pyx-16-crash-*, as the ``postgres`` user when run as root, and is removed by the
fixture's finaliser whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pyexchange.relay import OutboxEvent, Relay, RelayConfig
from pyexchange.server import EmbeddedServer
from tests.integration._trading_support import check_invariants, setup_market

D = Decimal
CRASH_SECONDS = float(os.environ.get("PYX_CRASH_SECONDS", "1.5"))
PAIRS = (("BTC-USDT", "BTC", "USDT"), ("ETH-USDT", "ETH", "USDT"))


@pytest.fixture
def private_server() -> Iterator[EmbeddedServer]:
    base = Path(tempfile.mkdtemp(prefix="pyx-16-crash-", dir="/tmp"))
    base.chmod(0o755)
    server = EmbeddedServer(base / "pg", database="pyx_crash")
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        _kill_cluster(server)          # whatever a failed restart left behind
        shutil.rmtree(base, ignore_errors=True)


def _cluster_pids(server: EmbeddedServer) -> list[int]:
    pidfile = server.data_dir / "postmaster.pid"
    try:
        postmaster = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return []
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)],
                              capture_output=True, text=True, check=False).stdout.split()
    return [postmaster, *(int(p) for p in children)]


def _gone(pid: int) -> bool:
    """Exited, or a zombie nobody reaps (a container's init may not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _kill_cluster(server: EmbeddedServer) -> None:
    pids = _cluster_pids(server)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pids:
        # as after a power cut: no process holds the lock file any more (an unreaped zombie
        # would still answer kill(pid, 0) and stop the restart); so do the socket's
        (server.data_dir / "postmaster.pid").unlink(missing_ok=True)
        for lock in server.socket_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink(missing_ok=True)


class _RecordingRelay(Relay):
    """The relay's own claim / flush / mark path, with a publisher that only records."""

    def __init__(self, dsn: str, published: list[int]) -> None:
        super().__init__(RelayConfig(dsn=dsn))
        self.published = published

    async def publish(self, events: list[OutboxEvent]) -> tuple[list[int], dict[str, list[int]]]:
        ids = [e.id for e in events]
        self.published.extend(ids)
        return ids, {}


def _relay(dsn: str, published: list[int], stop: threading.Event) -> None:
    async def loop() -> None:
        relay = _RecordingRelay(dsn, published)
        with contextlib.suppress(psycopg.Error, OSError):
            await relay.connect_database()
            while not stop.is_set():
                stats = await relay.relay_batch()
                if not stats.batches:
                    await asyncio.sleep(0.01)
        with contextlib.suppress(Exception):
            await relay.close_database()
    asyncio.run(loop())


def _submit(conn: psycopg.Connection[Any], req: tuple[Any, ...]) -> Any:
    row = conn.execute("CALL exchange.submit_order(%s, %s, %s, 'LIMIT', %s, %s, 'GTC', %s)",
                       req).fetchone()
    assert row is not None
    return row[0]


def test_a_crash_during_submit_order_loses_no_acknowledged_order(
        private_server: EmbeddedServer) -> None:
    dsn = private_server.start()
    with psycopg.connect(dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=tuple(f"trader{i}" for i in range(6)), pairs=PAIRS,
                           funds={"BTC": "1000", "ETH": "1000", "USDT": "10000000"})
    users = list(ids.values())
    acked: dict[str, int] = {}            # client_order_id -> order id
    unanswered: dict[str, tuple[Any, ...]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        k = 0
        try:
            conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error:
            return
        with conn:
            while not stop.is_set():
                k += 1
                coid = f"w{seed}-{k}"
                sym = rnd.choice(PAIRS)[0]
                req = (rnd.choice(users), sym, rnd.choice(("BUY", "SELL")),
                       D(rnd.randint(1, 50)) / 10, D(100 + rnd.randint(-5, 5)), coid)
                try:
                    oid = _submit(conn, req)
                except psycopg.OperationalError:
                    with lock:
                        unanswered[coid] = req
                    return
                with lock:
                    acked[coid] = oid

    published: list[int] = []
    relay = threading.Thread(target=_relay, args=(dsn, published, stop))
    workers = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    relay.start()
    for t in workers:
        t.start()
    time.sleep(CRASH_SECONDS)
    _kill_cluster(private_server)            # kill -9: the postmaster and every backend
    stop.set()
    for t in [*workers, relay]:
        t.join(30)
    assert not any(t.is_alive() for t in [*workers, relay])
    assert len(acked) > 20 and published, (len(acked), len(published))

    dsn = private_server.start()              # crash recovery
    with psycopg.connect(dsn, autocommit=True) as conn:
        def orders_of(coid: str) -> list[int]:
            return [r[0] for r in conn.execute(
                "SELECT id FROM exchange.orders WHERE client_order_id = %s", (coid,))]

        for coid, oid in acked.items():
            assert orders_of(coid) == [oid], coid
        # requests nobody waits for any more: placed (or refused) once, then retried
        while conn.execute("SELECT exchange.process_order_requests()").fetchone() != (0,):
            pass
        for coid, req in unanswered.items():
            before = orders_of(coid)
            assert len(before) <= 1, coid
            try:
                oid = _submit(conn, req)
            except psycopg.Error as exc:
                assert exc.sqlstate is not None and exc.sqlstate.startswith("EX"), exc
                assert before == [] and orders_of(coid) == []
                continue
            assert orders_of(coid) == [oid] and before in ([], [oid]), coid
        assert conn.execute("SELECT count(*) FROM exchange.order_requests "
                            "WHERE status = 'PENDING'").fetchone() == (0,)
        missing = conn.execute(
            "SELECT count(*) FROM unnest(%s::bigint[]) AS p(id) WHERE NOT EXISTS "
            "(SELECT 1 FROM exchange.outbox_events e WHERE e.id = p.id)",
            (published,)).fetchone()
        assert missing == (0,), f"{missing} published events lost in the crash"
        check_invariants(conn)
