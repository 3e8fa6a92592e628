"""The admin doors: partition methods of Exchange, `pyexchange partitions status|prune`, and
the database state printer of `pyexchange demo`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from pyexchange.cli import main as cli
from pyexchange.cli.demo import print_database_state
from pyexchange.client import Exchange
from pyexchange.errors import InvalidArgument


def test_partition_methods(clone_dsn: str) -> None:
    with Exchange(clone_dsn) as ex:
        status = ex.partition_status()
        tables = {p.table_name for p in status}
        assert tables == {"orders", "trades", "klines", "notifications", "audit_logs"}
        this_month = datetime.now(UTC).date().replace(day=1)
        assert all(not p.missing for p in status)
        assert {p.month for p in status if p.table_name == "orders"} >= {this_month}
        assert {p.month for p in ex.partition_status(months_ahead=5) if p.missing}
        old = date(this_month.year - 1, this_month.month, 1)
        made = ex.create_monthly_partitions(0, from_date=old)
        assert sum(r.created for r in made) == 5
        would = ex.drop_partitions_older_than(2, dry_run=True)
        assert sorted(r.table_name for r in would) == sorted(tables)
        dropped = ex.drop_partitions_older_than(2)
        assert [r.partition_name for r in dropped] == [r.partition_name for r in would]
        assert ex.drop_partitions_older_than(2) == []
        with pytest.raises(InvalidArgument):
            ex.drop_partitions_older_than(-1)


def test_partitions_cli(clone_dsn: str) -> None:
    runner = CliRunner()

    def run(*args: str, exit_code: int = 0) -> str:
        result = runner.invoke(cli, ["--dsn", clone_dsn, *args], catch_exceptions=False)
        assert result.exit_code == exit_code, result.output
        return result.output

    assert "orders" in run("partitions", "status")
    # a horizon shorter than asked is a failed check (exit 1), for cron and health checks
    assert "MISSING" in run("partitions", "status", "--months-ahead", "6", "--estimate",
                            exit_code=1)
    assert "would drop 0 partition(s)" in run("partitions", "prune", "--keep-months", "3",
                                              "--dry-run")


def test_print_database_state(clone_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The state printer that `pyexchange demo --show-state` uses."""
    with Exchange(clone_dsn) as ex:
        print_database_state(ex)
    out = capsys.readouterr().out
    for section in ("tables (schema exchange)", "partitions", "migrations", "change(s) applied",
                    "orders"):
        assert section in out
