"""The embedded default server: created on first use in its base directory, reachable only
through its private unix socket, stopped and restarted on the same data; a clear error when
no server binaries exist; used by resolve_dsn when nothing is configured."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from pyexchange import server as server_mod
from pyexchange.config import LIBPQ_ENV, resolve_dsn
from pyexchange.errors import ConfigurationError
from pyexchange.server import EmbeddedServer, find_bindir

try:
    find_bindir()
    HAVE_BINARIES = True
except ConfigurationError:
    HAVE_BINARIES = False


@pytest.fixture(scope="module")
def base_dir() -> Iterator[Path]:
    # Directly under /tmp: as root the cluster runs as postgres, which must reach the
    # directory (pytest's tmp_path lives under a root-only 0700 directory), and the socket
    # path must stay short.
    path = Path(tempfile.mkdtemp(prefix="pyxsrv_", dir="/tmp"))
    try:
        yield path
    finally:
        srv = EmbeddedServer(path)
        if srv.is_initialised():
            srv.stop()
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(not HAVE_BINARIES, reason="no PostgreSQL server binaries on this machine")
def test_start_connect_stop_restart(base_dir: Path) -> None:
    srv = EmbeddedServer(base_dir)
    assert not srv.status().initialised
    conninfo = srv.ensure_running()
    st = srv.status()
    assert st.initialised and st.running and st.pid
    assert psycopg.conninfo.conninfo_to_dict(conninfo)["host"] == str(srv.socket_dir)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # created and migrated on first use, on a unix socket only
        assert conn.execute("SELECT current_database()").fetchone() == ("pyexchange",)
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        assert conn.execute("SELECT to_regclass('exchange.orders') IS NOT NULL").fetchone() == (True,)
        conn.execute("CREATE TABLE public.survives_restart (x int)")
        conn.execute("INSERT INTO public.survives_restart VALUES (42)")
    assert srv.ensure_running() == conninfo  # already running: same database, no new cluster

    assert srv.stop() is True
    assert srv.status().running is False
    assert srv.stop() is False
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(conninfo, connect_timeout=3).close()

    version_file = srv.data_dir / "PG_VERSION"
    mtime = version_file.stat().st_mtime_ns
    assert EmbeddedServer(base_dir).start() == conninfo  # restart reuses the data directory
    assert version_file.stat().st_mtime_ns == mtime
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT x FROM public.survives_restart").fetchone() == (42,)

    assert srv.reset() == conninfo  # a new, migrated database in the same cluster
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT to_regclass('public.survives_restart')").fetchone() == (None,)
        assert conn.execute("SELECT to_regclass('exchange.orders') IS NOT NULL").fetchone() == (True,)


@pytest.mark.skipif(not HAVE_BINARIES, reason="no PostgreSQL server binaries on this machine")
def test_resolve_dsn_uses_embedded_server_when_nothing_is_configured(
    base_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("PYEXCHANGE_DSN", *LIBPQ_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYEXCHANGE_HOME", str(base_dir))
    dsn = resolve_dsn()
    assert dsn == EmbeddedServer(base_dir).conninfo()
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert resolve_dsn("dbname=explicit") == "dbname=explicit"
    monkeypatch.setenv("PGDATABASE", "x")
    assert resolve_dsn() == ""  # the libpq environment is used as it is


def test_missing_binaries_raise_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PYEXCHANGE_PG_BINDIR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config, initdb or pg_ctl
    monkeypatch.setattr(server_mod, "DEBIAN_BINDIRS", str(tmp_path / "none" / "*" / "bin"))
    with pytest.raises(ConfigurationError) as exc:
        EmbeddedServer(tmp_path / "base").start()
    assert "apt-get install postgresql" in str(exc.value)
    assert "PYEXCHANGE_DSN" in str(exc.value)
    assert not (tmp_path / "base" / "data").exists()


def test_bad_bindir_raises_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no PostgreSQL server binaries"):
        EmbeddedServer(tmp_path / "base", bindir=tmp_path).ensure_running()


def test_default_base_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYEXCHANGE_HOME", "/srv/pyx")
    assert server_mod.default_base_dir() == Path("/srv/pyx")
    monkeypatch.delenv("PYEXCHANGE_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", "/xdg")
    expected = Path("/var/lib/pyexchange") if os.geteuid() == 0 else Path("/xdg/pyexchange")
    assert server_mod.default_base_dir() == expected


def test_server_cli_status_and_conninfo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pyexchange.cli import main as cli

    monkeypatch.setenv("PYEXCHANGE_HOME", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["server", "status"])
    assert result.exit_code == 3, result.output  # not initialised, not running
    assert "initialised" in result.output
    result = runner.invoke(cli, ["server", "conninfo"])
    assert result.exit_code == 0
    assert result.output.strip() == EmbeddedServer(tmp_path).conninfo()
    assert runner.invoke(cli, ["server", "stop"]).output.strip() == "not running"
