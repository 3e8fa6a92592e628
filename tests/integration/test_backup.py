"""Physical backups with pgBackRest: the drill (backup, activity, restore to a time T on a
scratch cluster, every table compared) and the `pyexchange backup` commands on a private
embedded server (create, list, verify, restore to a time into a new directory, refusals, a
corrupted repository detected). The drill's base is an incremental backup on a full one."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from pyexchange.backup import TableRows, compare, stop_cluster
from pyexchange.cli import main as cli
from pyexchange.client import Exchange
from pyexchange.config import LIBPQ_ENV
from pyexchange.drill import run_drill
from pyexchange.errors import ConfigurationError
from pyexchange.server import EmbeddedServer, find_bindir

D = Decimal

try:
    find_bindir()
    HAVE_SERVER = True
except ConfigurationError:
    HAVE_SERVER = False
HAVE_PGBACKREST = shutil.which("pgbackrest") is not None
pytestmark = pytest.mark.skipif(not (HAVE_SERVER and HAVE_PGBACKREST),
                                reason="needs the PostgreSQL server binaries and pgbackrest")


@pytest.fixture
def workdir() -> Iterator[Path]:
    # under /tmp: as root the clusters run as postgres, which must reach the directory
    path = Path(tempfile.mkdtemp(prefix="pyx-backup-test-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_compare_reports_every_kind_of_difference() -> None:
    a = {"s.t": TableRows("s.t", 2, "10"), "s.u": TableRows("s.u", 1, "5")}
    assert compare(a, dict(a)) == []
    assert compare(a, {**a, "s.t": TableRows("s.t", 3, "10")}) == ["s.t: 3 rows, expected 2"]
    assert compare(a, {**a, "s.t": TableRows("s.t", 2, "11")}) == [
        "s.t: 2 rows as expected but their contents differ"]
    assert compare(a, {"s.t": a["s.t"]}) == ["s.u: missing (expected 1 rows)"]
    extra = {**a, "s.v": TableRows("s.v", 0, "0")}
    assert compare(a, extra) == ["s.v: not expected, has 0 rows"]
    assert compare(a, extra, allow_extra_empty=True) == []


def test_drill_restores_to_a_point_in_time(workdir: Path) -> None:
    result = run_drill(workdir=workdir, rounds=6)
    print(f"\n{result.verdict}")
    assert result.ok, result.verdict
    assert result.verdict.startswith("backup drill OK")
    assert result.differences == () and result.problems == ()
    assert result.rows_at_target > 0
    assert result.tables_changed_after > 0  # rows written after T existed, and are not back
    assert list(workdir.iterdir()) == []    # the scratch cluster is gone


def _balance(conninfo: str, user_id: int) -> Decimal:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(a.available_balance), 0) FROM exchange.accounts a "
            "JOIN exchange.assets s ON s.id = a.asset_id "
            "WHERE a.user_id = %s AND s.symbol = 'BKP'", (user_id,)).fetchone()
    assert row is not None
    return Decimal(row[0])


def test_backup_commands_on_the_embedded_server(workdir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    home = workdir / "home"
    for var in ("PYEXCHANGE_DSN", "PYEXCHANGE_PGBACKREST_CONFIG", *LIBPQ_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYEXCHANGE_HOME", str(home))
    server = EmbeddedServer(home)
    copy = workdir / "copy"
    runner = CliRunner()
    try:
        out = runner.invoke(cli, ["backup", "create", "--type", "full"])
        assert out.exit_code == 0, out.output
        conninfo = server.conninfo()
        with psycopg.connect(conninfo) as conn:  # WAL archiving was set up by pyexchange
            assert conn.execute("SHOW archive_mode").fetchone() == ("on",)
        with Exchange(conninfo, max_size=1) as ex, psycopg.connect(conninfo,
                                                                  autocommit=True) as conn:
            ex.create_asset("BKP", "Backup coin", "CRYPTO", 8)
            row = conn.execute("INSERT INTO exchange.users (username, email, password_hash, "
                               "status, kyc_level) VALUES ('bkp', 'bkp@example.org', 'x', "
                               "'ACTIVE', 2) RETURNING id").fetchone()
            assert row is not None
            uid = row[0]
            ex.deposit(uid, "BKP", D("5"), "bkp-1")
            time.sleep(1.5)  # T after the end of the full backup (whole seconds)
            target = datetime.now(UTC)
            time.sleep(0.3)
            ex.deposit(uid, "BKP", D("7"), "bkp-2")
        assert _balance(conninfo, uid) == D("12")

        out = runner.invoke(cli, ["backup", "list"])
        assert out.exit_code == 0, out.output
        assert "full" in out.output and "a restore reaches any time from" in out.output
        out = runner.invoke(cli, ["backup", "verify"])
        assert out.exit_code == 0, out.output

        # restore to T into a new directory: the deposit before T is there, the one after not
        started = time.monotonic()
        out = runner.invoke(cli, ["backup", "restore", "--to", target.isoformat(),
                                  "--target", str(copy)])
        print(f"\nbackup restore --to T (embedded server): {time.monotonic() - started:.1f} s")
        assert out.exit_code == 0, out.output
        assert "reconcile() empty" in out.output
        copy_conninfo = psycopg.conninfo.make_conninfo(conninfo, host=str(copy))
        assert _balance(copy_conninfo, uid) == D("5")
        with psycopg.connect(copy_conninfo) as conn:
            assert conn.execute("SHOW archive_mode").fetchone() == ("off",)
        assert _balance(conninfo, uid) == D("12")  # the running cluster was not touched

        # refusals: a non-empty target, no recovery target, --in-place without --yes
        listing = sorted(p.name for p in copy.iterdir())
        out = runner.invoke(cli, ["backup", "restore", "--latest", "--target", str(copy)])
        assert out.exit_code == 1 and "EX063" in out.output
        assert sorted(p.name for p in copy.iterdir()) == listing
        out = runner.invoke(cli, ["backup", "restore", "--target", str(workdir / "x")])
        assert out.exit_code == 2
        out = runner.invoke(cli, ["backup", "restore", "--latest", "--in-place"])
        assert out.exit_code == 2
        assert _balance(conninfo, uid) == D("12")

        # a damaged repository file fails verify (pgBackRest 2.45 itself exits 0)
        repo = home / "backup" / "repo" / "backup" / "pyexchange"
        victim = next(p for p in sorted(repo.glob("*F/pg_data/base/*/*")) if p.is_file())
        victim.write_bytes(victim.read_bytes() + b"damage")
        out = runner.invoke(cli, ["backup", "verify"])
        assert out.exit_code == 1 and "EX062" in out.output
    finally:
        stop_cluster(find_bindir(), copy, server.run_as)
        if server.is_initialised():
            server.stop()


def test_backup_config_prints_what_an_operator_applies() -> None:
    out = CliRunner().invoke(cli, ["--dsn", "host=/nonexistent dbname=x", "backup", "config",
                                   "--pg-path", "/srv/pg/main", "--pg-port", "5433",
                                   "--socket-path", "/run/pg", "--retention-full", "3"])
    assert out.exit_code == 0, out.output
    assert "pg1-path=/srv/pg/main" in out.output and "pg1-port=5433" in out.output
    assert "repo1-retention-full=3" in out.output
    assert "archive_mode = on" in out.output
    assert "archive_command = 'pgbackrest --stanza=pyexchange archive-push %p'" in out.output
