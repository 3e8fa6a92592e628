"""No login without a credential (docs/security.md): on a private cluster whose pg_hba asks
for scram-sha-256 on the local socket and on TCP, no exchange_* role connects without its
password, and the risk loopback (which logs in as exchange_risk_writer) still keeps the risk
event of a refused call.

The cluster runs as the ``postgres`` OS user when the tests run as root (pg_ctl refuses
root), on a port of PYEXCHANGE_TEST_SCRAM_PORTS (default 5510-5519) and in a directory under
/tmp named with PYEXCHANGE_TEST_TMP_PREFIX; it is stopped and removed by the fixture's
finaliser, whatever the tests do, and every step has a timeout.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

from pyexchange.errors import ConfigurationError
from pyexchange.migrate import Migrator
from pyexchange.server import find_bindir
from tests.integration._trading_support import setup_market

TIMEOUT = 60


@dataclass
class Cluster:
    port: int
    socket_dir: str
    password: str

    def dsn(self, user: str = "postgres", password: str | None = None, *, tcp: bool = True,
            dbname: str = "pyx_scram") -> str:
        params = {"host": "127.0.0.1" if tcp else self.socket_dir, "port": str(self.port),
                  "user": user, "dbname": dbname, "connect_timeout": "5"}
        if password is not None:
            params["password"] = password
        return make_conninfo(**params)


def _free_port() -> int:
    low, high = (int(p) for p in os.environ.get("PYEXCHANGE_TEST_SCRAM_PORTS", "5510-5519").split("-"))
    for port in range(low, high + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {low}-{high}")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    try:
        bindir = find_bindir()
    except ConfigurationError:
        pytest.skip("no PostgreSQL server binaries")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("root without runuser: cannot run pg_ctl as postgres")
    runas = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix=os.environ.get("PYEXCHANGE_TEST_TMP_PREFIX", "pyx-scram-"),
                                 dir="/tmp"))
    data = base / "data"
    started = False
    try:
        password = secrets.token_urlsafe(24)
        (base / "pw").write_text(password + "\n")
        if as_root:
            shutil.chown(base, "postgres")
            shutil.chown(base / "pw", "postgres")
        subprocess.run([*runas, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=scram-sha-256", f"--pwfile={base / 'pw'}", "-E", "UTF8",
                        "--locale=C", "--no-sync"],
                       check=True, capture_output=True, timeout=TIMEOUT)
        (base / "pw").unlink()
        hba = (data / "pg_hba.conf").read_text()
        assert "trust" not in "\n".join(line for line in hba.splitlines()
                                        if line.strip() and not line.lstrip().startswith("#"))
        port = _free_port()
        opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=20 -c shared_buffers=16MB")
        subprocess.run([*runas, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"),
                        "-w", "-t", "30", "-o", opts, "start"],
                       check=True, capture_output=True, timeout=TIMEOUT)
        started = True
        c = Cluster(port, str(base), password)
        with psycopg.connect(c.dsn(password=password, dbname="postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE pyx_scram")
        Migrator(c.dsn(password=password)).migrate()
        with psycopg.connect(c.dsn(password=password), autocommit=True) as conn:
            conn.execute("UPDATE exchange.auth_settings SET bcrypt_cost = 4")
        yield c
    finally:
        if started:
            subprocess.run([*runas, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                            "-w", "-t", "30", "stop"], capture_output=True, timeout=TIMEOUT)
        shutil.rmtree(base, ignore_errors=True)


def test_no_exchange_role_connects_without_its_password(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn(password=cluster.password), autocommit=True) as conn:
        roles = [r[0] for r in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'exchange\\_%' ORDER BY 1").fetchall()]
        can_login = conn.execute(
            "SELECT rolname, rolpassword IS NOT NULL FROM pg_authid "
            "WHERE rolname LIKE 'exchange\\_%' AND rolcanlogin").fetchall()
        row = conn.execute("SELECT loopback_password FROM exchange.risk_settings").fetchone()
    assert row is not None and row[0]
    assert {"exchange_owner", "exchange_app", "exchange_custody", "exchange_worker",
            "exchange_readonly", "exchange_auditor", "exchange_risk_writer"} <= set(roles)
    assert can_login == [("exchange_risk_writer", True)]
    for role in roles:
        for tcp in (True, False):
            for password in (None, "wrong-password"):
                with pytest.raises(psycopg.OperationalError):
                    psycopg.connect(cluster.dsn(role, password, tcp=tcp)).close()
    # ... while the loopback's own credential works
    with psycopg.connect(cluster.dsn("exchange_risk_writer", row[0])) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("exchange_risk_writer",)


def test_a_refused_call_keeps_its_risk_event_through_the_password_loopback(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn(password=cluster.password), autocommit=True) as conn:
        ids = setup_market(conn, users=("scram_alice",))
        conn.execute("SELECT * FROM exchange.create_risk_rule('notional 1000', 'MAX_ORDER_NOTIONAL', "
                     "%s, %s, 'HIGH')",
                     (Jsonb({"max_notional": 1000}), Jsonb({"action": "REJECT"})))
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SELECT * FROM exchange.place_order(%s, 'BTC-USDT', 'BUY', 'LIMIT', %s, %s)",
                         (ids["scram_alice"], Decimal("1"), Decimal("2000")))
        assert (err.value.sqlstate or "").startswith("EX4")
        assert "recorded" in (err.value.diag.message_detail or "")
        assert "NOT recorded" not in (err.value.diag.message_detail or "")
        assert conn.execute("SELECT count(*), min(action) FROM exchange.risk_events "
                            "WHERE user_id = %s", (ids["scram_alice"],)).fetchone() == (1, "REJECT")
        assert conn.execute("SELECT count(*) FROM exchange.orders").fetchone() == (0,)
