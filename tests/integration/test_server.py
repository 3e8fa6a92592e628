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


# --- TCP with TLS only (server start --listen) ----------------------------------------------

def _free_port_in(ports: range) -> int:
    import socket

    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {ports.start}..{ports.stop - 1}")


@pytest.fixture
def tls_server() -> Iterator[EmbeddedServer]:
    path = Path(tempfile.mkdtemp(prefix="pyx-13b-tls-", dir="/tmp"))
    srv = EmbeddedServer(path, migrate=False)
    try:
        yield srv
    finally:
        if srv.is_initialised():
            srv.stop()
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(not HAVE_BINARIES, reason="no PostgreSQL server binaries on this machine")
def test_listen_with_tls_only_verify_full(tls_server: EmbeddedServer,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner
    from psycopg.conninfo import conninfo_to_dict

    from pyexchange.cli import main as cli

    port = _free_port_in(range(5520, 5530))
    srv = tls_server
    srv.start(listen=f"127.0.0.1:{port}")
    assert (srv.tls_dir / "ca.crt").exists() and (srv.tls_dir / "server.key").stat().st_mode & 0o077 == 0
    with psycopg.connect(srv.conninfo(), autocommit=True) as conn:  # the socket still works
        assert conn.execute("SHOW ssl").fetchone() == ("on",)
        conn.execute("CREATE ROLE tls_login LOGIN PASSWORD 'a-long-tls-password'")
        # pgaudit, when installed, is preloaded and logs DDL
        preloaded = conn.execute("SHOW shared_preload_libraries").fetchone()
        conn.execute("CREATE TABLE public.audited_by_pgaudit (x int)")

    monkeypatch.setenv("PYEXCHANGE_HOME", str(srv.base_dir))
    printed = CliRunner().invoke(cli, ["server", "conninfo", "--user", "tls_login"])
    assert printed.exit_code == 0, printed.output
    params = conninfo_to_dict(printed.output.strip())
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == str(srv.tls_dir / "ca.crt")
    assert (params["host"], params["port"]) == ("127.0.0.1", str(port))

    with psycopg.connect(printed.output.strip(), password="a-long-tls-password",
                         connect_timeout=10) as conn:
        assert conn.info.pgconn.ssl_in_use
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
                            ).fetchone() == (True,)
        assert conn.execute("SELECT current_user").fetchone() == ("tls_login",)

    tcp = dict(host="127.0.0.1", port=port, user="tls_login", dbname="pyexchange",
               password="a-long-tls-password", connect_timeout=10)
    with pytest.raises(psycopg.OperationalError, match=r"no pg_hba\.conf entry|no encryption"):
        psycopg.connect(**tcp, sslmode="disable").close()  # without TLS: refused
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**{**tcp, "password": "wrong-password"}, sslmode="require").close()
    with pytest.raises(psycopg.OperationalError):  # a server this CA did not sign
        other = Path(tempfile.mkdtemp(prefix="pyx-13b-ca-", dir="/tmp"))
        try:
            from pyexchange import tls

            tls.ensure_ca_and_server_cert(other, ["localhost"])
            psycopg.connect(**tcp, sslmode="verify-full",
                            sslrootcert=str(other / "ca.crt")).close()
        finally:
            shutil.rmtree(other, ignore_errors=True)

    have_pgaudit = "pgaudit" in server_mod.available_preload_libraries(find_bindir())
    assert preloaded is not None and ("pgaudit" in preloaded[0]) == have_pgaudit
    if have_pgaudit:
        log = srv.log_file.read_text(errors="replace")
        assert "AUDIT: SESSION" in log and "audited_by_pgaudit" in log

    srv.start(listen="")  # back to the unix socket only: TCP is closed
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(**tcp, sslmode="require").close()
    with psycopg.connect(srv.conninfo(), autocommit=True) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
