"""The client through pgbouncer 1.18 in transaction pooling (issue 14): 50 client connections
share 8 server connections while they trade; prepared statements have to be off; the acting
user never leaks from one client's transaction to the next client on the same server
connection.

pgbouncer runs as the postgres user on 127.0.0.1:5556 with its files in /tmp/pyx-14b-*,
bounded in time and stopped by the fixture's finaliser.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pyexchange.bouncer import BouncerDatabase, LocalBouncer
from pyexchange.client import Exchange
from pyexchange.config import PoolSettings
from pyexchange.errors import DatabaseError, ExchangeError
from tests.integration._trading_support import check_invariants, setup_market

D = Decimal
PORT = 5556
CLIENTS = 50
SERVERS = 8
OPS = 10
EXPECTED = {"EX101", "EX214", "EX215", "EX216", "EX217"}

pytestmark = pytest.mark.skipif(shutil.which("pgbouncer") is None and
                                not Path("/usr/sbin/pgbouncer").exists(),
                                reason="pgbouncer is not installed (apt-get install pgbouncer)")


@pytest.fixture
def bouncer(clone_dsn: str) -> Iterator[LocalBouncer]:
    base = Path(tempfile.mkdtemp(prefix="pyx-14b-bouncer-", dir="/tmp"))
    server = conninfo_to_dict(clone_dsn)
    target = " ".join(f"{k}={server[k]}" for k in ("host", "port", "dbname", "user"))
    b = LocalBouncer(base, PORT, [BouncerDatabase("pyx", target, pool_size=SERVERS),
                                  BouncerDatabase("pyx1", target, pool_size=1)],
                     pool_size=SERVERS, max_client_conn=CLIENTS + 20, lifetime=300)
    try:
        b.start()
        yield b
    finally:
        b.stop()
        shutil.rmtree(base, ignore_errors=True)


def _pool_row(b: LocalBouncer, database: str) -> dict[str, Any]:
    rows = [r for r in b.show("POOLS") if r["database"] == database]
    assert len(rows) == 1, rows
    return dict(rows[0])


def _servers(row: dict[str, Any]) -> int:
    return sum(int(row[k]) for k in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"))


def test_trading_through_pgbouncer_50_clients_on_8_server_connections(
        bouncer: LocalBouncer, clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=tuple(f"pooled{i}" for i in range(10)),
                           funds={"BTC": "500", "USDT": "100000"})
    users = list(ids.values())
    settings = PoolSettings(min_size=1, max_size=1, timeout=60, prepare_threshold=None,
                            failover_timeout=0)
    clients = [Exchange(bouncer.dsn("pyx"), pool=settings) for _ in range(CLIENTS)]
    try:
        for c in clients:
            c.pool.wait(timeout=30)
        connected = _pool_row(bouncer, "pyx")
        assert int(connected["cl_active"]) + int(connected["cl_waiting"]) == CLIENTS, connected
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            backends = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()").fetchone()
        assert backends is not None and backends[0] <= SERVERS, backends

        outcomes: Counter[str] = Counter()
        errors: list[str] = []
        placed: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(CLIENTS)

        def trade(i: int, ex: Exchange) -> None:
            rnd = random.Random(i)
            mine: list[tuple[int, int]] = []
            start.wait(timeout=30)
            for n in range(OPS):
                user = rnd.choice(users)
                try:
                    if mine and rnd.random() < 0.2:
                        uid, oid = mine.pop()
                        ex.cancel_order(uid, oid)
                        what = "cancel"
                    elif rnd.random() < 0.1:
                        other = rnd.choice([u for u in users if u != user])
                        ex.transfer(user, other, "USDT", D(rnd.randint(1, 20)),
                                    f"pooled-{i}-{n}")
                        what = "transfer"
                    else:
                        price = D(100) + D(rnd.randint(-20, 20)) / 100
                        o = ex.place_order(user, "BTC-USDT", rnd.choice(("BUY", "SELL")),
                                           "LIMIT", D(rnd.randint(1, 300)) / 100, price,
                                           client_order_id=f"pooled-{i}-{n}")
                        with lock:
                            placed.append(o.id)
                        if str(o.status) in ("NEW", "PARTIALLY_FILLED"):
                            mine.append((user, o.id))
                        what = "order"
                except ExchangeError as exc:
                    what = f"refused {exc.sqlstate}"
                    if exc.sqlstate not in EXPECTED:
                        with lock:
                            errors.append(f"{type(exc).__name__} {exc.sqlstate}: {exc}")
                with lock:
                    outcomes[what] += 1

        threads = [threading.Thread(target=trade, args=(i, c)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        peak_servers, peak_waiting = 0, 0
        while any(t.is_alive() for t in threads):
            row = _pool_row(bouncer, "pyx")
            peak_servers = max(peak_servers, _servers(row))
            peak_waiting = max(peak_waiting, int(row["cl_waiting"]))
            threads[0].join(timeout=0.05)
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a client hung"
        assert errors == [], errors[:5]
        assert sum(outcomes.values()) == CLIENTS * OPS, outcomes
        assert outcomes["order"] > CLIENTS * OPS // 2, outcomes
        servers = [s for s in bouncer.show("SERVERS") if s["database"] == "pyx"]
        assert 1 <= len(servers) <= SERVERS, servers
        assert peak_servers <= SERVERS, peak_servers
    finally:
        for c in clients:
            c.close()
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        check_invariants(conn)
        n = conn.execute("SELECT count(*) FROM exchange.orders WHERE client_order_id LIKE "
                         "'pooled-%'").fetchone()
        assert n is not None and n[0] == len(placed), (n, len(placed))
    print(f"\npgbouncer: {CLIENTS} clients, peak {peak_servers} server connections, "
          f"peak {peak_waiting} clients waiting; {dict(outcomes)}")


def _alternate(a: Exchange, b: Exchange, uid: int, rounds: int = 8) -> None:
    for _ in range(rounds):
        a.balances(uid)
        b.balances(uid)


def test_prepared_statements_must_be_off_in_transaction_pooling(
        bouncer: LocalBouncer, clone_dsn: str) -> None:
    """Two clients on one server connection: psycopg's server-side prepared statements
    (threshold 5) collide there; with the threshold off both are served."""
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        uid = setup_market(conn, users=("prep",))["prep"]
    on = PoolSettings(min_size=1, max_size=1, prepare_threshold=5, failover_timeout=0)
    with Exchange(bouncer.dsn("pyx1"), pool=on) as a, Exchange(bouncer.dsn("pyx1"), pool=on) as b:
        with pytest.raises(DatabaseError) as refused:
            _alternate(a, b, uid)
        assert refused.value.sqlstate in ("42P05", "26000"), refused.value.sqlstate
    off = PoolSettings(min_size=1, max_size=1, prepare_threshold=None, failover_timeout=0)
    with Exchange(bouncer.dsn("pyx1"), pool=off) as a, \
            Exchange(bouncer.dsn("pyx1"), pool=off) as b:
        _alternate(a, b, uid)
        assert a.balances(uid) == b.balances(uid)


def test_acting_user_does_not_leak_through_a_pooled_server_connection(
        bouncer: LocalBouncer, clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=("leak", "leak2"))
    uid = ids["leak"]
    off = PoolSettings(min_size=1, max_size=1, prepare_threshold=None, failover_timeout=0)
    with Exchange(bouncer.dsn("pyx1"), pool=off, acting_user_id=uid) as acting, \
            psycopg.connect(bouncer.dsn("pyx1"), autocommit=True,
                            prepare_threshold=None) as other:
        assert acting.balances(uid)  # served, acting for itself
        # An order goes through the procedure submit_order (a CALL outside a transaction
        # block): the acting user travels in the CALL statement itself, transaction-local,
        # so it reaches the procedure (an order for another user is refused) and stays on no
        # server connection afterwards (checked below on the one server connection).
        assert acting.place_order(uid, "BTC-USDT", "BUY", "LIMIT", D("0.01"), D(100)).id
        with pytest.raises(ExchangeError) as refused:
            acting.place_order(ids["leak2"], "BTC-USDT", "BUY", "LIMIT", D("0.01"), D(100))
        assert refused.value.sqlstate == "EX322", refused.value  # only for oneself
        seen = other.execute("SELECT current_setting('exchange.acting_user_id', true)"
                             ).fetchone()
        assert seen is not None and seen[0] in (None, ""), f"acting user leaked: {seen[0]!r}"
        # Inside a transaction the setting is there; the same server connection serves the
        # next client afterwards (pool_size 1), and the setting is gone.
        with acting.connection() as conn:
            row = conn.execute("SELECT current_setting('exchange.acting_user_id', true), "
                               "pg_backend_pid()").fetchone()
            assert row is not None and row[0] == str(uid)
            backend = row[1]
        seen = other.execute("SELECT current_setting('exchange.acting_user_id', true), "
                             "pg_backend_pid()").fetchone()
        assert seen is not None and seen[1] == backend, "not the same server connection"
        assert seen[0] in (None, ""), f"acting user leaked: {seen[0]!r}"
