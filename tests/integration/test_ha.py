"""Failover with pg_auto_failover (issue 14): the short form of ``pyexchange ha drill``.

A real formation (monitor, primary, synchronous secondary) runs as the postgres user on
ports 5545-5547 with its directories under /tmp/pyx-14b-ha-*; the primary's postmaster and
keeper are killed with SIGKILL under a recorded load, the secondary is promoted, the
clients reconnect through the multi-host DSN, and every acknowledged write must be found;
the old primary must rejoin as the standby. Every process is bounded (``lifetime``) and the
finaliser stops and removes the formation even when the test fails.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyexchange.ha import Formation
from pyexchange.ha_drill import run_drill

PORT = 5545

pytestmark = pytest.mark.skipif(shutil.which("pg_autoctl") is None,
                                reason="pg_auto_failover is not installed "
                                       "(apt-get install postgresql-15-auto-failover)")


@pytest.fixture
def ha_dir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="pyx-14b-ha-", dir="/tmp"))
    base.chmod(0o755)  # the postgres user works below it
    try:
        yield base / "formation"
    finally:
        Formation(base / "formation", PORT).down()
        shutil.rmtree(base, ignore_errors=True)


def test_ha_drill_kill_9_of_the_primary_loses_no_acknowledged_write(ha_dir: Path) -> None:
    lines: list[str] = []
    report = run_drill(ha_dir, PORT, load_before=2, load_after=2, workers=3, lifetime=150,
                       progress=lines.append)
    print("\n" + "\n".join([*lines, *report.details, report.verdict]))
    assert report.ok, "\n".join([report.verdict, *report.details])
    assert report.lost == []
    assert report.failover_seconds is not None and report.rejoin_seconds is not None
    # the load was running when the primary died: pooled connections broke and were retried
    assert report.retries > 0, report.details
    assert report.acknowledged > 50, report.acknowledged


def test_ha_status_without_a_formation_says_so(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pyexchange.cli import main

    result = CliRunner().invoke(main, ["ha", "status", "--dir", str(tmp_path), "--port", "5558"])
    assert result.exit_code == 1, result.output
