"""``pyexchange ha drill``: kill the primary under load and prove nothing acknowledged is lost.

On a scratch formation (:class:`pyexchange.ha.Formation`, created and removed here, every
process bounded by ``lifetime``):

1. up: monitor, primary, synchronous secondary; the schema migrated; a market and funded
   users;
2. load: ``workers`` threads, each with its own :class:`pyexchange.Exchange` on the
   multi-host DSN, make deposits and transfers (idempotency keys), limit orders (client
   order ids) and cancels; every acknowledged call is recorded with what it returned;
3. ``kill -9`` of the primary's postmaster and its keeper (a host crash) after
   ``load_before`` seconds; a probe connects until a writable primary answers (the failover
   time); the workers' calls ride through (:mod:`pyexchange.failover`);
4. the old primary's keeper is started again and must rejoin as the secondary; the load
   goes on for ``load_after`` seconds;
5. checks, on the new primary: every acknowledged deposit and transfer has its key with the
   same journal id, every acknowledged order exists under its client order id with the
   same id, every acknowledged cancel left its order CANCELLED, ``reconcile()`` is empty, no
   book is crossed; the rejoined standby holds the same row counts;
6. down, even on failure.

One verdict line; ``ok`` is false on any loss, any unexpected error, or a step that does
not finish in time.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from pyexchange.config import PoolSettings
from pyexchange.errors import DatabaseUnavailable, ExchangeError, OutcomeUnknown
from pyexchange.ha import Formation
from pyexchange.queries import query

D = Decimal
SYMBOL = "BTC-USDT"
USERS = 6


@dataclass
class DrillReport:
    ok: bool = False
    verdict: str = ""
    failover_seconds: float | None = None
    rejoin_seconds: float | None = None
    acknowledged: int = 0
    retries: int = 0
    lost: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)


@dataclass
class _Ledger:
    """What the workers were told (acknowledged calls), under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    keys: dict[str, int] = field(default_factory=dict)          # key -> journal id
    orders: dict[str, int] = field(default_factory=dict)        # client order id -> id
    cancels: set[int] = field(default_factory=set)              # order ids
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    slowest: float = 0.0


def _exchange(dsn: str, max_size: int, read_dsn: str | None = None) -> Any:
    from pyexchange.client import Exchange

    return Exchange(dsn, read_dsn=read_dsn,
                    pool=PoolSettings(min_size=1, max_size=max_size, timeout=5,
                                      connect_timeout=2, failover_timeout=60))


def _check_reads_on_standby(ex: Any, report: DrillReport) -> None:
    """Market data reads go to the read DSN, here the standby, and are served there."""
    book = ex.get_order_book(SYMBOL)
    ex.get_recent_trades(SYMBOL)
    ex.get_klines(SYMBOL)
    ex.get_ticker_24hr(SYMBOL)
    with ex.read_pool.connection() as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    if not (row and row[0]):
        report.errors.append("the read DSN did not lead to a standby")
    report.details.append(f"market data read on the standby (book sequence "
                          f"{book.sequence})")


def _setup(ex: Any, acked: _Ledger) -> list[int]:
    ex.create_asset("BTC", "Bitcoin", "CRYPTO", 8)
    ex.create_asset("USDT", "Tether", "CRYPTO", 8)
    ex.create_trading_pair(SYMBOL, "BTC", "USDT", price_precision=2, amount_precision=4)
    users = []
    for i in range(USERS):
        uid = ex._scalar("ha_drill_user", {"username": f"drill{i}",
                                           "email": f"drill{i}@example.org"})
        users.append(int(uid))
        for asset, amount in (("USDT", D(1_000_000)), ("BTC", D(1000))):
            key = f"drill-fund-{i}-{asset}"
            acked.keys[key] = ex.deposit(uid, asset, amount, key).journal_id
    return users


def _worker(ex: Any, wid: int, users: list[int], stop: Callable[[], bool],
            acked: _Ledger) -> None:
    rnd = random.Random(wid)
    mine: list[tuple[int, int]] = []
    i = 0
    while not stop():
        i += 1
        started = time.monotonic()
        kind = rnd.choices(("deposit", "transfer", "order", "cancel"), (15, 20, 55, 10))[0]
        try:
            if kind == "deposit":
                key = f"drill-dep-{wid}-{i}"
                r = ex.deposit(rnd.choice(users), "USDT", D(rnd.randint(1, 500)), key)
                with acked.lock:
                    acked.keys[key] = r.journal_id
            elif kind == "transfer":
                a, b = rnd.sample(users, 2)
                key = f"drill-tr-{wid}-{i}"
                r = ex.transfer(a, b, "USDT", D(rnd.randint(1, 50)), key)
                with acked.lock:
                    acked.keys[key] = r.journal_id
            elif kind == "order" or not mine:
                coid = f"drill-{wid}-{i}"
                user = rnd.choice(users)
                price = D(100) + D(rnd.randint(-30, 30)) / 100
                o = ex.place_order(user, SYMBOL, rnd.choice(("BUY", "SELL")), "LIMIT",
                                   D(rnd.randint(1, 200)) / 100, price, client_order_id=coid)
                with acked.lock:
                    acked.orders[coid] = o.id
                if str(o.status) in ("NEW", "PARTIALLY_FILLED"):
                    mine.append((user, o.id))
            else:
                user, oid = mine.pop(rnd.randrange(len(mine)))
                c = ex.cancel_order(user, oid)
                if str(c.status) == "CANCELLED":
                    with acked.lock:
                        acked.cancels.add(oid)
            outcome = f"{kind} ok"
        except OutcomeUnknown:
            outcome = f"{kind} outcome unknown (EX070)"
        except DatabaseUnavailable:
            outcome = f"{kind} not applied (EX071)"
        except ExchangeError as exc:
            if exc.sqlstate and exc.sqlstate.startswith(("EX1", "EX2")):
                outcome = f"{kind} refused {exc.sqlstate}"
            else:
                outcome = f"{kind} error"
                with acked.lock:
                    acked.errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
        took = time.monotonic() - started
        with acked.lock:
            acked.outcomes[outcome] += 1
            acked.slowest = max(acked.slowest, took)


def _writable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=1) as conn:
            conn.execute("SELECT 1")
            return True
    except psycopg.Error:
        return False


def _check(ex: Any, formation: Formation, acked: _Ledger, report: DrillReport) -> None:
    keys = {r["key"]: r["result_id"] for r in ex._dicts("ha_drill_keys", {"prefix": "drill-%"})}
    orders = {r["client_order_id"]: (r["order_id"], r["status"])
              for r in ex._dicts("ha_drill_orders", {"prefix": "drill-%"})}
    for key, journal_id in acked.keys.items():
        if keys.get(key) != journal_id:
            report.lost.append(f"{key}: acknowledged journal {journal_id}, found "
                               f"{keys.get(key)}")
    by_id = {oid: status for oid, status in orders.values()}
    for coid, oid in acked.orders.items():
        if orders.get(coid, (None,))[0] != oid:
            report.lost.append(f"order {coid}: acknowledged id {oid}, found "
                               f"{orders.get(coid)}")
    for oid in acked.cancels:
        if by_id.get(oid) != "CANCELLED":
            report.lost.append(f"cancel of order {oid}: status now {by_id.get(oid)}")
    problems = ex.reconcile()
    if problems:
        report.errors.append(f"reconcile(): {problems[:3]}")
    crossed = ex._dicts("ha_drill_crossed_books")
    if crossed:
        report.errors.append(f"crossed book: {crossed}")
    # The rejoined standby replays the same rows (synchronous: at most a moment behind).
    primary = formation.primary()
    standby = next((n.name for n in formation.status() if primary and n.name != primary.name),
                   None)
    if primary is None or standby is None:
        report.errors.append("no primary/standby pair after the rejoin")
        return
    counts: dict[str, Any] = {}

    def same() -> bool:
        for name in (primary.name, standby):
            with psycopg.connect(formation.node_dsn(name), autocommit=True) as conn:
                counts[name] = conn.execute(query("ha_drill_counts")).fetchone()
        return bool(counts[primary.name] == counts[standby])

    try:
        formation.wait_until("the standby to replay the primary's rows", same, 15)
    except ExchangeError:
        report.errors.append(f"standby differs from the primary: {counts}")


def run_drill(base_dir: Path, port: int, *, load_before: float = 5, load_after: float = 5,
              workers: int = 4, lifetime: float = 170,
              progress: Callable[[str], None] | None = None) -> DrillReport:
    """Run the drill on a scratch formation in ``base_dir`` (ports ``port`` .. ``port + 2``);
    the formation is removed afterwards, also on failure."""
    say = progress or (lambda _m: None)
    report = DrillReport()
    started = time.monotonic()
    formation = Formation(base_dir, port, lifetime=lifetime)
    if formation.process_group("monitor") is not None or (base_dir / "monitor").exists():
        report.verdict = f"ha drill: FAIL: {base_dir} already holds a formation (ha down first)"
        return report
    acked = _Ledger()
    exchanges: list[Any] = []
    threads: list[threading.Thread] = []
    stop_at = [float("inf")]
    try:
        say(f"formation up in {base_dir} (ports {port}-{port + 2})")
        dsn = formation.up(timeout=90, progress=say)
        report.details.append(f"formation up in {time.monotonic() - started:.1f} s")
        setup = _exchange(dsn, 2, read_dsn=formation.dsn(read=True))
        exchanges.append(setup)
        users = _setup(setup, acked)
        _check_reads_on_standby(setup, report)
        say(f"load: {workers} workers, kill -9 of the primary after {load_before:.0f} s")
        for w in range(workers):
            ex = _exchange(dsn, 2)
            exchanges.append(ex)
            threads.append(threading.Thread(
                target=_worker, args=(ex, w, users, lambda: time.monotonic() >= stop_at[0],
                                      acked), daemon=True))
        for t in threads:
            t.start()
        time.sleep(load_before)
        victim = formation.primary()
        if victim is None or not formation.is_settled():
            raise ExchangeError("the formation is not settled before the kill")
        killed_at = time.monotonic()
        postmaster = formation.kill_node(victim.name)
        say(f"killed {victim.name} (postmaster {postmaster}) with SIGKILL")
        while not _writable(dsn):
            if time.monotonic() - killed_at > 60:
                raise ExchangeError("no writable primary 60 s after the kill")
            time.sleep(0.1)
        report.failover_seconds = time.monotonic() - killed_at
        new = formation.writable_node()
        say(f"writable again after {report.failover_seconds:.1f} s on "
            f"{new.name if new else '?'}; restarting {victim.name}")
        stop_at[0] = time.monotonic() + load_after
        rejoin_start = time.monotonic()
        formation.start_node(victim.name)
        report.rejoin_seconds = rejoin_start + formation.wait_until(
            f"{victim.name} to rejoin as secondary",
            lambda: formation.is_settled() and formation.primary() is not None
            and formation.primary().name != victim.name,  # type: ignore[union-attr]
            60) - rejoin_start
        say(f"{victim.name} rejoined as secondary after {report.rejoin_seconds:.1f} s")
        for t in threads:
            t.join(timeout=max(5.0, stop_at[0] - time.monotonic() + 70))
        if any(t.is_alive() for t in threads):
            report.errors.append("a worker did not finish")
        say("checking every acknowledged call")
        _check(setup, formation, acked, report)
    except ExchangeError as exc:
        report.errors.append(f"{type(exc).__name__}: {exc}"[:500])
    finally:
        stop_at[0] = 0.0
        for t in threads:
            t.join(timeout=10)
        for ex in exchanges:
            ex.close()
        formation.down()
    report.errors.extend(acked.errors[:10])
    report.outcomes = acked.outcomes
    report.acknowledged = len(acked.keys) + len(acked.orders) + len(acked.cancels)
    report.retries = sum(ex.failover_retries for ex in exchanges)
    total = time.monotonic() - started
    report.details.append("calls: " + ", ".join(f"{k} {v}" for k, v in
                                                sorted(acked.outcomes.items())))
    report.details.append(f"slowest call {acked.slowest:.1f} s; {report.retries} call(s) "
                          "retried after a connection failure")
    report.ok = not report.lost and not report.errors and report.failover_seconds is not None
    failover = ("-" if report.failover_seconds is None
                else f"{report.failover_seconds:.1f} s")
    rejoin = "-" if report.rejoin_seconds is None else f"{report.rejoin_seconds:.1f} s"
    if report.ok:
        report.verdict = (f"ha drill: PASS: failover {failover} (kill -9 to first write), "
                          f"{report.acknowledged} acknowledged writes, 0 lost, reconcile() "
                          f"empty, no crossed book, old primary rejoined in {rejoin}; "
                          f"{total:.0f} s in all")
    else:
        report.details.extend(f"LOST {x}" for x in report.lost[:20])
        report.details.extend(f"ERROR {x}" for x in report.errors[:20])
        report.verdict = (f"ha drill: FAIL: {len(report.lost)} acknowledged write(s) lost, "
                          f"{len(report.errors)} error(s); failover {failover}; "
                          f"{total:.0f} s in all")
    return report
