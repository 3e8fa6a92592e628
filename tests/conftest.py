"""The test harness.

Server: as root (or with PYEXCHANGE_TEST_NOPROC=1) the tests use the running server through
pytest-postgresql's noproc mode (PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432 as postgres);
as a normal user they start a private cluster with pytest-postgresql's proc mode.

Databases: one migrated template database is built per test session (``template_dsn``);
``clone_dsn`` gives a test its own copy (for tests that commit or use several connections)
and drops it afterwards; ``tx`` gives a connection inside a transaction that is rolled back,
on one shared copy. Every database made here has a unique name and is dropped at the end.

pgTAP files under ``tests/sql/*.sql`` run as one test each (``tests/sql/test_pgtap.py``).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from pytest_postgresql import factories

from pyexchange import crypto
from pyexchange.migrate import Migrator


def _pg_bindir() -> str:
    """The server binaries for proc mode: found as the embedded server finds them
    (PYEXCHANGE_PG_BINDIR, pg_config --bindir, PATH, /usr/lib/postgresql/*/bin)."""
    from pyexchange.errors import ConfigurationError
    from pyexchange.server import find_bindir

    try:
        return str(find_bindir())
    except ConfigurationError:
        return "/usr/lib/postgresql/15/bin"  # noproc mode does not need them


# Application-level encryption (pyexchange.crypto): the tests' clients encrypt phones, KYC
# documents and webhook secrets with a master key made for this session.
os.environ.setdefault("PYEXCHANGE_MASTER_KEY", crypto.new_key_line())

USE_NOPROC = os.geteuid() == 0 or os.environ.get("PYEXCHANGE_TEST_NOPROC") == "1"

pg_noproc = factories.postgresql_noproc(
    host=os.environ.get("PGHOST", "127.0.0.1"),
    port=int(os.environ.get("PGPORT", "5432")),
    user=os.environ.get("PGUSER", "postgres"),
    password=os.environ.get("PGPASSWORD"),
    # pytest-postgresql makes a "<dbname>_tmpl" database: unique per run, so that test runs
    # sharing one server do not collide on it.
    dbname=f"pyx_noproc_{os.getpid()}",
)
pg_proc = factories.postgresql_proc(executable=str(Path(_pg_bindir()) / "pg_ctl"), port=None)


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Any:
    """The server executor (noproc as root, a private cluster otherwise)."""
    return request.getfixturevalue("pg_noproc" if USE_NOPROC else "pg_proc")


def _dsn(server: Any, dbname: str) -> str:
    parts = {"host": server.host, "port": server.port, "user": server.user, "dbname": dbname}
    if getattr(server, "password", None):
        parts["password"] = server.password
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in parts.items()})


class Databases:
    """Create and drop uniquely named databases on the test server."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.admin_dsn = _dsn(server, "postgres")

    def create(self, prefix: str, template: str | None = None) -> str:
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template))
            conn.execute(stmt)
        return name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def dsn(self, name: str) -> str:
        return _dsn(self.server, name)


@pytest.fixture(scope="session")
def databases(pg_server: Any) -> Databases:
    return Databases(pg_server)


@pytest.fixture
def empty_dsn(databases: Databases) -> Iterator[str]:
    """A new empty database."""
    name = databases.create("pyx_empty")
    try:
        yield databases.dsn(name)
    finally:
        databases.drop(name)


@pytest.fixture(scope="session")
def template_name(databases: Databases) -> Iterator[str]:
    """A migrated database (with pgTAP and plpgsql_check installed), built once."""
    name = databases.create("pyx_tmpl")
    try:
        dsn = databases.dsn(name)
        Migrator(dsn).migrate()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
            conn.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check")
            # bcrypt at cost 4 instead of 10: tests create many users (see docs/security.md).
            conn.execute("UPDATE exchange.auth_settings SET bcrypt_cost = 4")
        yield name
    finally:
        databases.drop(name)


@pytest.fixture(scope="session")
def template_dsn(databases: Databases, template_name: str) -> str:
    return databases.dsn(template_name)


@pytest.fixture
def clone_dsn(databases: Databases, template_name: str) -> Iterator[str]:
    """A private copy of the migrated template, dropped after the test."""
    name = databases.create("pyx_test", template=template_name)
    try:
        yield databases.dsn(name)
    finally:
        databases.drop(name)


@pytest.fixture(scope="session")
def shared_dsn(databases: Databases, template_name: str) -> Iterator[str]:
    """One copy of the template shared by the rolled-back tests of the session."""
    name = databases.create("pyx_shared", template=template_name)
    try:
        yield databases.dsn(name)
    finally:
        databases.drop(name)


@pytest.fixture
def tx(shared_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection inside a transaction that is rolled back after the test."""
    with psycopg.connect(shared_dsn) as conn:
        try:
            yield conn
        finally:
            conn.rollback()


# --- pgTAP files as test items -------------------------------------------------------------

_TAP_LINE = re.compile(r"^(not ok|ok)\s+(\d+)(?:\s+-\s+(.*))?$")


def run_pgtap(dsn: str, path: Path) -> list[str]:
    """Run one pgTAP file and return its TAP output lines."""
    lines: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(path.read_text(encoding="utf-8").encode())
        while True:
            if cur.description is not None:
                for row in cur.fetchall():
                    for value in row:
                        if isinstance(value, str):
                            lines.extend(value.splitlines())
            if not cur.nextset():
                break
    return lines


@pytest.fixture
def app_login_dsn(clone_dsn: str) -> Iterator[str]:
    """A DSN for a new login role in exchange_app (made by exchange.create_login) on the
    clone: the application's credential, as an attacker holding it would connect."""
    name = f"pyx_app_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("SELECT exchange._apply_ownership_and_grants()")
        conn.execute("SELECT exchange.create_login(%s, 'app', NULL)", (name,))
    params = psycopg.conninfo.conninfo_to_dict(clone_dsn)
    params["user"] = name
    params.pop("password", None)
    try:
        yield psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()
                                               if v is not None})
    finally:
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE usename = %s", (name,))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
