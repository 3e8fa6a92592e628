"""``pyexchange backup drill``: point-in-time recovery tested end to end, as one command.

On a scratch cluster that it creates (an embedded server in a temporary directory, with its
own pgBackRest repository) and always removes, the drill

1. creates and migrates the database, lists two assets and a market, funds traders;
2. takes a full backup before and an incremental one after that setup (the restore uses
   both);
3. trades (limit orders that fill, resting bids, a cancel), transfers, withdrawals (completed
   and pending) and deposits;
4. notes the time T and fingerprints every table of the schema (row count and a digest of
   the rows) as committed by T;
5. does more of the same after T (new rows and updates of rows that existed at T);
6. archives the current WAL (``pgbackrest check``), verifies the repository, restores to T
   into a new data directory and starts it on its own socket;
7. checks that every table of the copy is exactly as it was at T (so every row committed by
   T is there, none written after it), that ``exchange.reconcile()`` is empty and that no
   book is crossed.

The result is one verdict line; the CLI exits non-zero on any difference.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from pyexchange.backup import (
    RestoredCluster,
    TableRows,
    chown_to,
    compare,
    fingerprint,
    restore_copy,
    setup_embedded,
    stop_cluster,
)
from pyexchange.errors import BackupInvalid
from pyexchange.queries import query

D = Decimal


@dataclass(frozen=True)
class DrillResult:
    ok: bool
    verdict: str
    target_time: datetime | None
    tables: int
    rows_at_target: int
    tables_changed_after: int
    differences: tuple[str, ...]
    problems: tuple[tuple[str, str], ...]
    backup_seconds: float
    restore_seconds: float
    total_seconds: float
    scratch: Path                 # removed unless the drill ran with keep=True


class _Activity:
    """Trades, transfers, withdrawals and deposits through the client (the public API)."""

    def __init__(self, ex: Any, conninfo: str) -> None:
        self.ex = ex
        self.conninfo = conninfo
        self.run = uuid.uuid4().hex[:8]
        self.n = 0
        self.users: dict[str, int] = {}

    def key(self, what: str) -> str:
        self.n += 1
        return f"drill-{self.run}-{what}-{self.n}"

    def setup(self, traders: int = 4) -> None:
        ex = self.ex
        ex.create_asset("BTC", "Bitcoin", "CRYPTO", 8)
        ex.create_asset("USDT", "Tether USD", "CRYPTO", 8)
        ex.create_trading_pair("BTC-USDT", "BTC", "USDT", price_precision=2,
                               amount_precision=4, maker_fee_rate=D("0.001"),
                               taker_fee_rate=D("0.002"))
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            for i in range(traders):
                name = f"drill_trader_{i}"
                row = conn.execute(query("demo_create_user"), {"username": name}).fetchone()
                assert row is not None
                self.users[name] = int(row[0])
        for uid in self.users.values():
            ex.deposit(uid, "BTC", D("10"), self.key("fund-btc"))
            ex.deposit(uid, "USDT", D("1000000"), self.key("fund-usdt"))

    def round(self, r: int) -> None:
        ex = self.ex
        ids = list(self.users.values())
        maker, taker, other, fourth = ids[r % 4], ids[(r + 1) % 4], ids[(r + 2) % 4], ids[(r + 3) % 4]
        ask = D(60000 + (r % 7) * 5)
        ex.place_order(maker, "BTC-USDT", "SELL", "LIMIT", D("0.0500"), ask)
        ex.place_order(taker, "BTC-USDT", "BUY", "LIMIT", D("0.0300"), ask)          # fills
        bid = ex.place_order(other, "BTC-USDT", "BUY", "LIMIT", D("0.0100"), D(59000 - r))
        if r % 3 == 0:
            ex.cancel_order(other, bid.id)
        ex.place_order(fourth, "BTC-USDT", "BUY", "MARKET", D("0.0100"))             # takes
        ex.transfer(maker, other, "USDT", D("12.5") + r % 10, self.key("transfer"))
        withdrawal = ex.withdraw(taker, "USDT", D("7") + r % 10, self.key("withdraw"))
        if r % 2 == 0:
            ex.complete_withdrawal(withdrawal.id, f"tx-{self.run}-{r}")
        ex.deposit(fourth, "USDT", D("3.25") + r % 10, self.key("deposit"))


def _snapshot(conninfo: str) -> tuple[datetime, dict[str, TableRows]]:
    """The server's clock and the fingerprint of every table, in one snapshot."""
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        return row[0], fingerprint(conn)


def run_drill(*, workdir: Path | None = None, rounds: int = 12, keep: bool = False,
              log: Callable[[str], None] | None = None) -> DrillResult:
    """Run the drill (see the module's docstring) and return its result."""
    from pyexchange.client import Exchange
    from pyexchange.server import EmbeddedServer

    say = log or (lambda _msg: None)
    started = time.monotonic()
    parent = workdir or Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="pyx-drill-", dir=parent))
    server = EmbeddedServer(base / "cluster")
    chown_to(base, server.run_as)
    restored: RestoredCluster | None = None
    try:
        say(f"scratch cluster in {base}")
        conninfo = server.start()
        repo = setup_embedded(server, log=say)
        t0 = time.monotonic()
        full = repo.backup("full")
        say(f"full backup {full.label} in {time.monotonic() - t0:.1f} s")
        ex = Exchange(conninfo, max_size=2)
        try:
            activity = _Activity(ex, conninfo)
            activity.setup()
            # the base of the restore: an incremental on top of the full one
            t0 = time.monotonic()
            backup = repo.backup("incr")
            backup_seconds = time.monotonic() - t0
            say(f"incremental backup {backup.label} in {backup_seconds:.1f} s")
            for r in range(rounds):
                activity.round(r)
            # pgBackRest picks a backup whose stop time (whole seconds) is before T
            time.sleep(max(0.2, backup.stopped.timestamp() + 1.5 - time.time()))
            target, at_target = _snapshot(conninfo)
            time.sleep(0.2)
            say(f"T = {target.isoformat()}: {sum(t.rows for t in at_target.values())} rows "
                f"in {len(at_target)} tables")
            for r in range(rounds, rounds + max(2, rounds // 2)):
                activity.round(r)
        finally:
            ex.close()
        _, at_end = _snapshot(conninfo)
        changed_after = compare(at_target, at_end)
        repo.check()  # the WAL written after T reaches the archive
        verified = repo.verify()
        if not verified.ok:
            raise BackupInvalid("the repository does not verify",
                                detail="\n".join(verified.lines))
        say("repository verified")
        restored = restore_copy(repo, base / "restored", to=target, bindir=server.bindir(),
                                superuser=server.superuser, dbname=server.database)
        say(f"restored to T in {restored.seconds:.1f} s: {restored.conninfo}")
        with psycopg.connect(restored.conninfo, autocommit=True) as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            copy = fingerprint(conn)
        differences = tuple(compare(at_target, copy))
        problems = restored.problems
        rows = sum(t.rows for t in at_target.values())
        total = time.monotonic() - started
        ok = not differences and not problems and bool(changed_after)
        if ok:
            verdict = (f"backup drill OK: restored to T={target.isoformat()}: "
                       f"{len(at_target)} tables identical ({rows} rows committed by T present, "
                       f"{len(changed_after)} tables changed after T back as they were), "
                       f"reconcile() empty, no book crossed; incremental backup {backup_seconds:.1f} s, "
                       f"restore {restored.seconds:.1f} s, drill {total:.1f} s")
        else:
            why = list(differences) + [f"{c}: {d}" for c, d in problems]
            if not changed_after:
                why.append("nothing changed after T: the drill proves nothing")
            verdict = (f"backup drill FAILED: restored to T={target.isoformat()}: "
                       f"{len(why)} difference(s): " + "; ".join(why[:5]))
        return DrillResult(ok, verdict, target, len(at_target), rows, len(changed_after),
                           differences, problems, backup_seconds, restored.seconds, total,
                           base)
    finally:
        bindir = None
        with contextlib.suppress(Exception):
            bindir = server.bindir()
        if bindir is not None:
            try:
                stop_cluster(bindir, base / "restored", server.run_as)
            except Exception:
                say(f"could not stop the restored copy in {base / 'restored'}")
        try:
            server.stop()
        except Exception:
            say(f"could not stop the scratch cluster in {server.data_dir}")
        if keep:
            say(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
