"""The migrations: reversible, equal to sqitch's own deploy, verifiable, and a fresh install
equals an upgrade from every earlier state.

The reference catalog is the session's migrated template database. The upgrade test climbs a
"ladder" database one change at a time and, at each rung, clones it and migrates the clone
the rest of the way, so the whole file costs about one migration per change plus one clone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict

from pyexchange.cli import main as cli
from pyexchange.errors import MigrationError
from pyexchange.migrate import Migrator, expand_script, migrations_dir, read_plan
from tests.conftest import Databases
from tests.migrations.catalog import diff, snapshot, without_partitions, without_privileges
from tests.migrations.conftest import Ladder

PLAN = read_plan()


@pytest.fixture(scope="module")
def fresh(template_dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """The catalog of a fresh install (the session's migrated template)."""
    snap = snapshot(template_dsn)
    assert snap["relations"], "the template has no exchange relations"
    return snap


def _verify_error(dsn: str, change_index: int) -> str | None:
    """Run one change's verify script alone, in a rolled-back transaction."""
    sql = expand_script(PLAN[change_index].script("verify", migrations_dir()))
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(sql.encode())
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0]
    return None


def test_cli_migrate_rollback_all_migrate(empty_dsn: str, fresh: dict[str, Any]) -> None:
    """``db migrate``, ``db rollback --all``, ``db migrate`` in a row: the catalog after the
    second migrate equals the first (and a fresh install), and rollback leaves nothing."""
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--dsn", empty_dsn, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert f"applied {len(PLAN)} change(s)" in run("db", "migrate")
    first = snapshot(empty_dsn)
    assert not diff(fresh, first), diff(fresh, first)
    run("db", "verify")

    # without --yes (and no terminal to ask at) rollback refuses and changes nothing
    refused = runner.invoke(cli, ["--dsn", empty_dsn, "db", "rollback", "--all"])
    assert refused.exit_code == 1 and "--yes" in refused.output, refused.output
    assert not diff(first, snapshot(empty_dsn))
    assert f"reverted {len(PLAN)} change(s)" in run("db", "rollback", "--all", "--yes")
    emptied = snapshot(empty_dsn)
    leftovers = {k: v for k, v in emptied.items() if v}
    assert not leftovers, f"rollback --all left objects behind: {leftovers}"
    assert all(not s.applied for s in Migrator(empty_dsn).status())

    run("db", "migrate")
    second = snapshot(empty_dsn)
    assert not diff(first, second), diff(first, second)
    assert "applied 0 change(s)" in run("db", "migrate")

    # and the --to forms
    assert "reverted 2 change(s)" in run("db", "rollback", "--to", PLAN[-3].name, "--yes")
    assert f"applied 1 change(s): {PLAN[-2].name}" in run("db", "migrate", "--to", PLAN[-2].name)
    assert f"applied 1 change(s): {PLAN[-1].name}" in run("db", "migrate")


@pytest.mark.skipif(shutil.which("sqitch") is None, reason="sqitch is not installed")
def test_sqitch_deploy_gives_the_same_catalog(empty_dsn: str, fresh: dict[str, Any]) -> None:
    """Debian's sqitch deploys the same folder (through psql, following the \\ir includes) to
    the same catalog as ``pyexchange db migrate``, and ``sqitch verify`` passes."""
    params = conninfo_to_dict(empty_dsn)
    target = (f"db:pg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
              f"{params.get('port', 5432)}/{params['dbname']}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "SQITCH"))}
    env.update(SQITCH_USER_NAME="pyexchange tests", SQITCH_USER_EMAIL="tests@pyexchange.local",
               SQITCH_CONFIG=os.devnull, SQITCH_USER_CONFIG=os.devnull)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    for command in ("deploy", "verify"):
        proc = subprocess.run(["sqitch", command, target], cwd=migrations_dir(), env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"sqitch {command}:\n{proc.stdout}\n{proc.stderr}"
    assert "Verify successful" in proc.stdout
    by_sqitch = snapshot(empty_dsn)
    assert not diff(fresh, by_sqitch), diff(fresh, by_sqitch)


def test_every_verify_script_fails_on_an_empty_database(empty_dsn: str) -> None:
    passing = [PLAN[i].name for i in range(len(PLAN)) if _verify_error(empty_dsn, i) is None]
    assert not passing, f"verify scripts that pass on an empty database: {passing}"


def test_every_verify_script_passes_after_migrate(template_dsn: str) -> None:
    results = Migrator(template_dsn).verify()
    assert [name for name, _ in results] == [c.name for c in PLAN]
    failed = [(name, err) for name, err in results if err is not None]
    assert not failed, failed


def test_upgrade_from_every_earlier_state_equals_fresh_install(
    databases: Databases, ladder: Ladder, empty_dsn: str, fresh: dict[str, Any]
) -> None:
    """For each change k: an empty database migrated up to k (a rung of the ladder, climbed
    with ``migrate(to=k)``) and then migrated the rest of the way has the catalog of a fresh
    install. Each change's verify script fails on the state just before the change and
    passes just after it."""
    assert len(ladder.rungs) == len(PLAN)
    rung_dsns = [databases.dsn(name) for name in ladder.rungs]
    problems: list[str] = []
    for k, change in enumerate(PLAN):
        before = empty_dsn if k == 0 else rung_dsns[k - 1]
        if _verify_error(before, k) is None:
            problems.append(f"verify/{change.name} passes before {change.name} is deployed")
        if (err := _verify_error(rung_dsns[k], k)) is not None:
            problems.append(f"verify/{change.name} fails after deploy: {err}")

    def upgrade(k: int) -> str | None:
        dsn = rung_dsns[k]
        try:
            rest = Migrator(dsn).migrate()
            if rest != [c.name for c in PLAN[k + 1:]]:
                return f"upgrade from {PLAN[k].name} applied {rest}"
            if d := diff(fresh, snapshot(dsn)):
                return f"upgrade from {PLAN[k].name} differs from a fresh install:\n{d}"
            return None
        finally:
            databases.drop(ladder.rungs[k])

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        problems += [p for p in pool.map(upgrade, range(len(PLAN))) if p]
    assert not problems, "\n".join(problems)


def test_every_revert_undoes_exactly_its_change(
    clone_dsn: str, ladder: Ladder, fresh: dict[str, Any]
) -> None:
    """From a complete install, revert one change at a time: after reverting change k the
    catalog equals the state just before k (the ladder's rung k-1). `rollback --all` alone
    would not show this, since reverting the first change drops the whole schema.
    Partitions are left out of the comparison (the partitions change's revert keeps the
    partitions it made: they go with their tables), and so are owners and grants: reverting
    `access` deliberately leaves everything owned by exchange_owner (docs/security.md)."""
    assert not diff(ladder.snapshots[-1], fresh), "the ladder's top differs from a fresh install"
    migrator = Migrator(clone_dsn)
    problems: list[str] = []
    for k in range(len(PLAN) - 1, 0, -1):
        assert migrator.rollback() == [PLAN[k].name]
        expected = without_privileges(without_partitions(ladder.snapshots[k - 1]))
        if d := diff(expected, without_privileges(without_partitions(snapshot(clone_dsn)))):
            problems.append(f"revert/{PLAN[k].name} does not restore the state before it:\n{d}")
            break  # later comparisons would repeat the same difference
    assert not problems, "\n".join(problems)


def test_migrate_to_and_rollback_to(empty_dsn: str) -> None:
    names = [c.name for c in PLAN]
    mid = names[len(names) // 2]
    m = Migrator(empty_dsn)
    assert m.migrate(to=mid) == names[: names.index(mid) + 1]
    assert [s.applied for s in m.status()] == [i <= names.index(mid) for i in range(len(names))]
    assert m.rollback(to=names[0]) == list(reversed(names[1: names.index(mid) + 1]))
    with pytest.raises(Exception, match="unknown change"):
        m.migrate(to="no_such_change")


def test_a_failing_change_is_named_and_rolled_back(empty_dsn: str, tmp_path: Path) -> None:
    shutil.copytree(migrations_dir(), tmp_path / "migrations")
    shutil.copytree(migrations_dir().parent / "functions", tmp_path / "functions")
    root = tmp_path / "migrations"
    for kind, body in {"deploy": "BEGIN;\nCREATE TABLE exchange.half_done (x int);\n"
                                 "SELECT * FROM exchange.no_such_table;\nCOMMIT;\n",
                       "revert": "BEGIN;\nDROP TABLE exchange.half_done;\nCOMMIT;\n",
                       "verify": "BEGIN;\nSELECT 'exchange.half_done'::regclass;\nROLLBACK;\n"
                       }.items():
        (root / kind / "broken.sql").write_text(body, encoding="utf-8")
    with open(root / "sqitch.plan", "a", encoding="utf-8") as plan:
        plan.write("broken 2026-11-28T03:00:00Z pyexchange <dev@pyexchange.local> # fails\n")
    with pytest.raises(MigrationError, match=r"deploy/broken\.sql failed") as info:
        Migrator(empty_dsn, root).migrate()
    assert info.value.detail and "42P01" in info.value.detail
    status = {s.name: s.applied for s in Migrator(empty_dsn, root).status()}
    assert status.pop("broken") is False
    assert all(status.values()), "the changes before the broken one stay applied"
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("SELECT to_regclass('exchange.half_done')").fetchone() == (None,)
