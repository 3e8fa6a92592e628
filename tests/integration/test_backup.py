"""Physical backups with pgBackRest: the drill (full and incremental backups, activity,
restore to a time T on a scratch cluster, every table compared) and, on the drill's cluster
as a private embedded server, the `pyexchange backup` commands (list, create diff, verify,
restore the latest state into a new directory, refusals, a damaged repository detected)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from pyexchange.backup import TableRows, compare, stop_cluster
from pyexchange.cli import main as cli
from pyexchange.client import Exchange
from pyexchange.config import LIBPQ_ENV
from pyexchange.drill import DrillResult, run_drill
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


@pytest.fixture(scope="module")
def drilled() -> Iterator[DrillResult]:
    """The drill's short form, its scratch directory kept for the command tests below (one
    cluster with backups for the whole module), removed at the end."""
    # under /tmp: as root the clusters run as postgres, which must reach the directory
    parent = Path(tempfile.mkdtemp(prefix="pyx-backup-test-", dir="/tmp"))
    parent.chmod(0o755)
    try:
        result = run_drill(workdir=parent, rounds=6, keep=True)
        yield result
    finally:
        for data in parent.glob("*/*/data"):
            stop_cluster(find_bindir(), data, EmbeddedServer(data.parent).run_as)
        for copy in parent.glob("*/copy"):
            stop_cluster(find_bindir(), copy, EmbeddedServer(copy.parent).run_as)
        shutil.rmtree(parent, ignore_errors=True)


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


def test_drill_restores_to_a_point_in_time(drilled: DrillResult) -> None:
    result = drilled
    print(f"\n{result.verdict}")
    assert result.ok, result.verdict
    assert result.verdict.startswith("backup drill OK")
    assert result.differences == () and result.problems == ()
    assert result.rows_at_target > 0
    assert result.tables_changed_after > 0  # rows written after T existed, and are not back
    # both clusters are stopped (the scratch directory is kept here: keep=True)
    assert not (result.scratch / "cluster" / "data" / "postmaster.pid").exists()
    assert not (result.scratch / "restored" / "postmaster.pid").exists()


def _counts(conninfo: str) -> tuple[int, int, int]:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT (SELECT count(*) FROM exchange.trades), "
                           "(SELECT count(*) FROM exchange.withdrawals), "
                           "(SELECT count(*) FROM exchange.journal)").fetchone()
    assert row is not None
    return row


def test_backup_commands_on_the_embedded_server(drilled: DrillResult,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The drill's scratch cluster as the embedded server of a private PYEXCHANGE_HOME."""
    home = drilled.scratch / "cluster"
    for var in ("PYEXCHANGE_DSN", "PYEXCHANGE_PGBACKREST_CONFIG", *LIBPQ_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYEXCHANGE_HOME", str(home))
    server = EmbeddedServer(home)
    copy = drilled.scratch / "copy"
    runner = CliRunner()
    out = runner.invoke(cli, ["backup", "list"])
    assert out.exit_code == 0, out.output
    assert "full" in out.output and "incr" in out.output
    assert "a restore reaches any time from" in out.output
    conninfo = server.conninfo()
    with psycopg.connect(conninfo) as conn:  # WAL archiving was set up by pyexchange
        assert conn.execute("SHOW archive_mode").fetchone() == ("on",)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT id FROM exchange.users WHERE username = 'drill_trader_0'"
                           ).fetchone()
    assert row is not None
    with Exchange(conninfo, max_size=1) as ex:  # something only the latest WAL holds
        ex.deposit(row[0], "USDT", D("1.5"), f"after-drill-{time.time()}")
    out = runner.invoke(cli, ["backup", "create", "--type", "diff"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["backup", "verify"])
    assert out.exit_code == 0, out.output
    assert "repository verified" in out.output

    # the latest state into a new directory; the running cluster is not touched
    before = _counts(conninfo)
    started = time.monotonic()
    out = runner.invoke(cli, ["backup", "restore", "--latest", "--target", str(copy)])
    print(f"\nbackup restore --latest (embedded server, CLI): {time.monotonic() - started:.1f} s")
    assert out.exit_code == 0, out.output
    assert "reconcile() empty" in out.output
    copy_conninfo = psycopg.conninfo.make_conninfo(conninfo, host=str(copy))
    assert _counts(copy_conninfo) == before
    with psycopg.connect(copy_conninfo) as conn:
        assert conn.execute("SHOW archive_mode").fetchone() == ("off",)
    assert _counts(conninfo) == before

    # refusals: a non-empty target, no recovery target, --in-place without --yes, a time
    # before the oldest backup
    listing = sorted(p.name for p in copy.iterdir())
    out = runner.invoke(cli, ["backup", "restore", "--latest", "--target", str(copy)])
    assert out.exit_code == 1 and "EX063" in out.output
    assert sorted(p.name for p in copy.iterdir()) == listing
    out = runner.invoke(cli, ["backup", "restore", "--target", str(drilled.scratch / "x")])
    assert out.exit_code == 2
    out = runner.invoke(cli, ["backup", "restore", "--latest", "--in-place"])
    assert out.exit_code == 2
    out = runner.invoke(cli, ["backup", "restore", "--to", "2020-01-01 00:00:00+00",
                              "--target", str(drilled.scratch / "x")])
    assert out.exit_code == 1 and "EX064" in out.output
    assert not (drilled.scratch / "x").exists()
    assert _counts(conninfo) == before

    # a damaged repository file fails verify (pgBackRest 2.45 itself exits 0)
    repo = home / "backup" / "repo" / "backup" / "pyexchange"
    victim = next(p for p in sorted(repo.glob("*F/pg_data/base/*/*")) if p.is_file())
    victim.write_bytes(victim.read_bytes() + b"damage")
    out = runner.invoke(cli, ["backup", "verify"])
    assert out.exit_code == 1 and "EX062" in out.output


def test_backup_config_prints_what_an_operator_applies() -> None:
    out = CliRunner().invoke(cli, ["--dsn", "host=/nonexistent dbname=x", "backup", "config",
                                   "--pg-path", "/srv/pg/main", "--pg-port", "5433",
                                   "--socket-path", "/run/pg", "--retention-full", "3"])
    assert out.exit_code == 0, out.output
    assert "pg1-path=/srv/pg/main" in out.output and "pg1-port=5433" in out.output
    assert "repo1-retention-full=3" in out.output
    assert "archive_mode = on" in out.output
    assert "archive_command = 'pgbackrest --stanza=pyexchange archive-push %p'" in out.output
