"""Crash recovery on a private cluster: kill -9 the server during load, restart it, and find
every acknowledged write present and every call in flight at the crash resolved exactly once
by its retry (deposits and transfers by their idempotency key, orders by their client order
id).

The cluster is this test's own (initdb as the postgres OS user, port 5580, socket and data
under /tmp/pyx-17-crash-*), stopped and removed by the fixture's finaliser whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks.soak import BASES, MID, QUOTE, SoakReport, check, setup
from pyexchange.migrate import Migrator
from pyexchange.server import find_bindir

PORT = 5580
D = Decimal

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="the private cluster runs as the postgres OS user (runuser, as root)")


@dataclass
class Cluster:
    root: Path
    bindir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.root} port={PORT} user=postgres dbname={dbname} connect_timeout=5"

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bindir / "pg_ctl"), "-D", str(self.data),
             *args], capture_output=True, text=True, timeout=60, check=check)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.root / "log"), "-w", "-t", "30", "-o",
                    f"-p {PORT} -k {self.root} -c listen_addresses='' -c fsync=on", "start")

    def pids(self) -> list[int]:
        """The postmaster's pid, then its children's."""
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return []
        postmaster = int(pidfile.read_text().split("\n")[0])
        children = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    stat = (proc / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                    children.append(int(proc.name))
        return [postmaster, *children]

    def kill9(self) -> None:
        """SIGKILL the postmaster and every backend: a crash, not a shutdown."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="pyx-17-crash-", dir="/tmp"))
    shutil.chown(root, "postgres", "postgres")
    c = Cluster(root, find_bindir())
    try:
        subprocess.run(["runuser", "-u", "postgres", "--", str(c.bindir / "initdb"), "-D",
                        str(c.data), "-A", "trust", "-U", "postgres", "--no-sync"],
                       capture_output=True, text=True, timeout=120, check=True)
        c.start()
        yield c
    finally:
        if c.data.exists():
            c.pg_ctl("-m", "immediate", "-w", "stop", check=False)
            c.kill9()  # whatever pg_ctl left (a crashed postmaster's orphans)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Call:
    kind: str  # deposit, transfer, order
    args: tuple[Any, ...]
    key: str
    result: int | None = None  # the id acknowledged
    in_flight: bool = False


@dataclass
class Log:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    other_errors: list[str] = field(default_factory=list)


SQL = {
    "deposit": "SELECT exchange.deposit(%s, %s, %s, %s)",
    "transfer": "SELECT exchange.transfer(%s, %s, %s, %s, %s)",
    "order": "SELECT id FROM exchange.place_order(%s, %s, %s, 'LIMIT', %s, %s, 'GTC', %s)",
}


def _new_call(rnd: random.Random, users: list[int]) -> Call:
    key = uuid.uuid4().hex
    kind = rnd.choice(("deposit", "transfer", "order", "order"))
    if kind == "deposit":
        return Call(kind, (rnd.choice(users), rnd.choice((QUOTE, *BASES)),
                           D(rnd.randint(1, 100)), key), key)
    if kind == "transfer":
        a, b = rnd.sample(users, 2)
        return Call(kind, (a, b, QUOTE, D(rnd.randint(1, 100)) / 10, key), key)
    base = rnd.choice(BASES)
    price = (MID[base] * (1 + D(rnd.randint(-10, 10)) / 1000)).quantize(D("0.01"))
    return Call(kind, (rnd.choice(users), f"{base}-{QUOTE}", rnd.choice(("BUY", "SELL")),
                       D(rnd.randint(1, 100)) / 100, price, key), key)


def _load(dsn: str, users: list[int], seed: int, log: Log, stop: threading.Event) -> None:
    rnd = random.Random(seed)
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError:
        return
    with conn:
        while not stop.is_set():
            call = _new_call(rnd, users)
            with log.lock:
                log.calls.append(call)
            try:
                row = conn.execute(SQL[call.kind], call.args).fetchone()
            except (psycopg.OperationalError, psycopg.InterfaceError):
                call.in_flight = True  # sent or not, answered or not: unknown
                return
            except psycopg.Error as exc:
                if not (exc.sqlstate or "").startswith("EX"):
                    with log.lock:
                        log.other_errors.append(f"{exc.sqlstate} {exc}")
                with log.lock:
                    log.calls.remove(call)  # refused (insufficient funds...): nothing to find
                continue
            assert row is not None
            call.result = row[0]


def test_kill_9_during_load_then_restart_loses_nothing_and_retries_resolve_once(
        cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE crash")
    dsn = cluster.dsn("crash")
    Migrator(dsn).migrate()
    users = setup(dsn, 6)

    log, stop = Log(), threading.Event()
    workers = [threading.Thread(target=_load, args=(dsn, users, seed, log, stop), daemon=True)
               for seed in range(4)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # load until a good number of writes were acknowledged
        with log.lock:
            acked = sum(c.result is not None for c in log.calls)
        if acked >= 150:
            break
        time.sleep(0.05)
    cluster.kill9()
    stop.set()
    for w in workers:
        w.join(timeout=30)
    assert not any(w.is_alive() for w in workers)
    assert log.other_errors == []
    acked_calls = [c for c in log.calls if c.result is not None]
    in_flight = [c for c in log.calls if c.in_flight]
    assert len(acked_calls) >= 150 and in_flight, "the crash hit calls in flight"

    cluster.start()  # crash recovery replays the WAL
    with psycopg.connect(dsn, autocommit=True) as conn:
        # every call in flight, retried with its key: resolved now, and once
        for call in in_flight:
            row = conn.execute(SQL[call.kind], call.args).fetchone()
            assert row is not None
            again = conn.execute(SQL[call.kind], call.args).fetchone()
            assert again == row, "a second retry returns the same result"
            call.result = row[0]
        # every acknowledged write is present, with the id it was acknowledged with
        for call in acked_calls + in_flight:
            if call.kind == "order":
                rows = conn.execute(
                    "SELECT order_id FROM exchange.client_order_ids WHERE user_id = %s "
                    "AND client_order_id = %s", (call.args[0], call.key)).fetchall()
                assert rows == [(call.result,)], call
                assert conn.execute("SELECT count(*) FROM exchange.orders WHERE id = %s",
                                    (call.result,)).fetchone() == (1,)
            else:
                assert conn.execute(
                    "SELECT k.result_id, count(j.id) FROM exchange.idempotency_keys k "
                    "LEFT JOIN exchange.journal j ON j.id = k.result_id WHERE k.key = %s "
                    "GROUP BY k.result_id", (call.key,)).fetchall() == [(call.result, 1)], call
        # nothing else was written: every movement and order is one of the calls
        deposits = conn.execute("SELECT count(*) FROM exchange.journal WHERE type = 'DEPOSIT'"
                                ).fetchone()
        ours = sum(c.kind == "deposit" for c in acked_calls + in_flight)
        assert deposits == (ours + 6 * (1 + len(BASES)),)  # and the setup's funding
        orders = conn.execute("SELECT count(*) FROM exchange.orders").fetchone()
        assert orders == (sum(c.kind == "order" for c in acked_calls + in_flight),)
    report = SoakReport()
    assert check(dsn, report) == []  # reconcile, book, holds, K-lines, outbox
