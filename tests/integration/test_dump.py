"""Logical backups (`pyexchange db dump | restore`): a database with trades, transfers and
withdrawals restores into an empty database on this server and on another server (a private
cluster without the exchange_* roles), and its rows restore into a freshly migrated database;
afterwards every table holds the same rows and reconcile() is empty. Refusals change
nothing."""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from pyexchange.backup import fingerprint
from pyexchange.cli import main as cli
from pyexchange.dump import dump, read_manifest, restore
from pyexchange.errors import (
    DumpIncompatible,
    RestoreMismatch,
    RestoreNeedsSuperuser,
    RestoreTargetNotEmpty,
)
from pyexchange.migrate import Migrator
from pyexchange.server import EmbeddedServer
from tests.conftest import Databases
from tests.integration._trading_support import check_invariants, place, setup_market

D = Decimal


def _trade(dsn: str) -> None:
    """Trades (fills, resting orders, a cancel), transfers, withdrawals, a login role."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        ids = setup_market(conn)
        a, b, c = ids["alice"], ids["bob"], ids["carol"]
        for i in range(4):
            place(conn, a, "SELL", "LIMIT", "0.5", 30000 + i)
            place(conn, b, "BUY", "LIMIT", "0.3", 30000 + i)
        resting = place(conn, c, "BUY", "LIMIT", "0.2", 29000)
        conn.execute("SELECT exchange.cancel_order(%s, %s)", (c, resting["id"]))
        place(conn, c, "BUY", "LIMIT", "0.1", 28000)
        conn.execute("SELECT exchange.transfer(%s, %s, 'USDT', 125.5, 'dump-t1')", (a, c))
        wid = conn.execute("SELECT exchange.withdraw(%s, 'USDT', 10, 'dump-w1')", (b,)).fetchone()
        assert wid is not None
        conn.execute("SELECT * FROM exchange.complete_withdrawal(%s, 'tx-1')", (wid[0],))
        conn.execute("SELECT exchange.withdraw(%s, 'BTC', 0.01, 'dump-w2')", (c,))
        check_invariants(conn)


def _rows(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
        return {k: (v.rows, v.digest) for k, v in fingerprint(conn, ("exchange", "public")).items()}


def _count(rows: dict[str, Any], prefix: str) -> int:
    """The rows of a partitioned table: the sum over its partitions."""
    return sum(n for k, (n, _digest) in rows.items() if k.startswith(prefix))


def _reconcile(dsn: str) -> list[Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT * FROM exchange.reconcile()").fetchall()
        check_invariants(conn)
    return rows


@pytest.fixture(scope="module")
def source(databases: Databases, template_name: str) -> Iterator[str]:
    """One database with trades for the module (the tests only read it)."""
    name = databases.create("pyx_dump_src", template=template_name)
    try:
        _trade(databases.dsn(name))
        yield databases.dsn(name)
    finally:
        databases.drop(name)


@pytest.fixture(scope="module")
def dump_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="pyx-dump-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def data_dump(source: str, dump_dir: Path) -> Path:
    path = dump_dir / "data.pyxdump"
    result = dump(source, path, data_only=True)
    assert result.data_only and result.rows > 0
    return path


@pytest.fixture(scope="module")
def full_dump(source: str, dump_dir: Path) -> Path:
    path = dump_dir / "full.pyxdump"
    out = CliRunner().invoke(cli, ["--dsn", source, "db", "dump", str(path)])
    assert out.exit_code == 0, out.output
    return path


@pytest.fixture
def other_server() -> Iterator[EmbeddedServer]:
    """Another server: a private cluster on a unix socket, with none of the exchange roles."""
    base = Path(tempfile.mkdtemp(prefix="pyx-dump-other-", dir="/tmp"))
    srv = EmbeddedServer(base, database="target", migrate=False)
    try:
        srv.start()
        yield srv
    finally:
        if srv.is_initialised():
            srv.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_full_dump_restores_here_and_on_another_server(
        source: str, empty_dsn: str, other_server: EmbeddedServer, full_dump: Path) -> None:
    path = full_dump
    runner = CliRunner()
    manifest = read_manifest(path)
    assert {"exchange_owner", "exchange_app"} <= {r["name"] for r in manifest["roles"]}
    assert {"dblink", "pgcrypto"} <= {e["name"] for e in manifest["extensions"]}
    assert "access" in manifest["migrations"]
    want = _rows(source)
    assert _count(want, "exchange.trades_") > 0 and want["exchange.withdrawals"][0] == 2

    started = time.monotonic()
    out = runner.invoke(cli, ["--dsn", empty_dsn, "db", "restore", str(path)])
    assert out.exit_code == 0, out.output
    print(f"\nrestore of a full dump on the same server: {time.monotonic() - started:.1f} s")
    assert _rows(empty_dsn) == want
    assert _reconcile(empty_dsn) == []
    assert Migrator(empty_dsn).status()[-1].applied  # the migration history came along

    # another server: the roles are created, the superuser-only dblink installed
    target = other_server.conninfo()
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE 'exchange%'"
                            ).fetchone() == (0,)
    result = restore(target, path)
    assert {"exchange_owner", "exchange_app", "exchange_risk_writer"} <= set(result.roles_created)
    got = _rows(target)
    changed = {k for k in want if want[k] != got.get(k)}
    # the risk loopback follows the server (its socket directory), nothing else differs
    assert changed <= {"exchange.risk_settings"}
    assert _reconcile(target) == []
    with psycopg.connect(target) as conn:
        owner = conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                             "WHERE nspname = 'exchange'").fetchone()
        assert owner == ("exchange_owner",)
        host = conn.execute("SELECT loopback_host FROM exchange.risk_settings").fetchone()
        assert host == (str(other_server.socket_dir),)
        # the application role reaches the API on the new server as it did on the old one
        conn.execute("SET ROLE exchange_app")
        assert conn.execute("SELECT count(*) FROM exchange.get_order_book('BTC-USDT', 5)"
                            ).fetchone() is not None


def test_data_only_dump_restores_into_a_freshly_migrated_database(
        source: str, databases: Databases, data_dump: Path) -> None:
    path = data_dump
    want = _rows(source)
    name = databases.create("pyx_dump_fresh")
    try:
        fresh = databases.dsn(name)
        Migrator(fresh).migrate()
        with psycopg.connect(fresh, autocommit=True) as conn:
            # the seeds a data-only load used to collide with are there
            seeded = conn.execute("SELECT count(*) FROM exchange.permissions").fetchone()
            assert seeded is not None and seeded[0] > 0
        started = time.monotonic()
        restored = restore(fresh, path)
        print(f"\nrestore of a data-only dump: {time.monotonic() - started:.1f} s")
        assert restored.data_only
        assert _rows(fresh) == want
        assert _reconcile(fresh) == []
    finally:
        databases.drop(name)


def test_refusals_change_nothing(source: str, databases: Databases, dump_dir: Path,
                                full_dump: Path, data_dump: Path) -> None:
    full, data = full_dump, data_dump
    before = _rows(source)

    # a full dump into a database that is not empty
    with pytest.raises(RestoreTargetNotEmpty):
        restore(source, full)
    assert _rows(source) == before

    # a data-only dump into a database migrated to other changes
    name = databases.create("pyx_dump_behind")
    try:
        behind = databases.dsn(name)
        Migrator(behind).migrate(to="ledger")
        with pytest.raises(DumpIncompatible):
            restore(behind, data)
        with psycopg.connect(behind) as conn:
            assert conn.execute("SELECT count(*) FROM exchange.accounts").fetchone() == (0,)
    finally:
        databases.drop(name)

    # not a dump file
    junk = dump_dir / "junk.pyxdump"
    junk.write_bytes(b"not a tar archive")
    with pytest.raises(DumpIncompatible):
        restore(source, junk)

    # a restored table that differs from the dump is reported (the check can fail)
    tampered = dump_dir / "tampered.pyxdump"
    manifest = read_manifest(full)
    manifest["tables"]["exchange.withdrawals"]["rows"] += 1
    with tarfile.open(full) as src, tarfile.open(tampered, "w") as dst:
        member = src.getmember("database.dump")
        dst.addfile(member, src.extractfile(member))
        raw = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(raw)
        dst.addfile(info, io.BytesIO(raw))
    empty = databases.create("pyx_dump_tampered")
    try:
        with pytest.raises(RestoreMismatch):
            restore(databases.dsn(empty), tampered)
    finally:
        databases.drop(empty)

    # a login that is not a superuser may not restore (roles, dblink)
    # (checked first: here on the source itself, which stays as it was)
    role = f"pyx_dump_nosu_{os.getpid()}"
    try:
        with psycopg.connect(databases.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        with pytest.raises(RestoreNeedsSuperuser):
            restore(psycopg.conninfo.make_conninfo(source, user=role), data)
        assert _rows(source) == before
    finally:
        with psycopg.connect(databases.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
