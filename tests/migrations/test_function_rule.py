"""The rule of docs/migrations.md, exercised: a function is changed by editing its file in
functions/ and adding a change that includes it again. A database deployed before the edit
and then upgraded ends up equal to a fresh install of the edited tree; without the new change
it would silently keep the old body (which is why the rule asks for one)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pyexchange.migrate import Migrator
from tests.conftest import Databases
from tests.migrations.catalog import diff, snapshot

REPO = Path(__file__).resolve().parents[2]
FUNCTION = "partitions/partition_status.sql"


def test_changing_a_function_through_a_new_change(databases: Databases, tmp_path: Path) -> None:
    shutil.copytree(REPO / "migrations", tmp_path / "migrations")
    shutil.copytree(REPO / "functions", tmp_path / "functions")
    root = tmp_path / "migrations"
    names = [databases.create("pyx_rule")]
    try:
        deployed_before = databases.dsn(names[0])
        Migrator(deployed_before, root).migrate()
        names.append(databases.create("pyx_rule", template=names[0]))
        names.append(databases.create("pyx_rule"))
        stale, fresh = databases.dsn(names[1]), databases.dsn(names[2])

        # A new version of the function: its file is edited in place ...
        source = tmp_path / "functions" / FUNCTION
        text = source.read_text(encoding="utf-8")
        assert "    v_row record;" in text
        source.write_text(text.replace("    v_row record;",
                                       "    v_row record;  -- version 2", 1), encoding="utf-8")
        # ... and nothing else: the stale database has nothing to apply and keeps version 1.
        assert Migrator(stale, root).migrate() == []

        # ... plus a new change that includes the file again.
        for kind, body in {
            "deploy": "BEGIN;\n\\ir ../../functions/" + FUNCTION + "\nCOMMIT;\n",
            "revert": "BEGIN;\nSELECT 1; -- the previous body would be restored here\nCOMMIT;\n",
            "verify": "BEGIN;\nSELECT 1 / (prosrc LIKE '%version 2%')::int FROM pg_proc\n"
                      " WHERE oid = 'exchange.partition_status(integer, boolean)'::regprocedure;\n"
                      "ROLLBACK;\n",
        }.items():
            (root / kind / "partition_status_v2.sql").write_text(body, encoding="utf-8")
        with open(root / "sqitch.plan", "a", encoding="utf-8") as plan:
            plan.write("partition_status_v2 [partition_maintenance] 2026-11-28T03:00:00Z "
                       "pyexchange <dev@pyexchange.local> # partition_status, version 2\n")

        assert Migrator(deployed_before, root).migrate() == ["partition_status_v2"]
        Migrator(fresh, root).migrate()
        upgraded, installed = snapshot(deployed_before), snapshot(fresh)
        assert not diff(installed, upgraded), diff(installed, upgraded)
        assert all(err is None for _, err in Migrator(deployed_before, root).verify())
        # and the rule's reason: without the new change, the old body would have stayed
        assert diff(installed, snapshot(stale)), "the stale database should differ"
        assert "version 2" not in str(snapshot(stale)["functions"])
    finally:
        for n in names:
            databases.drop(n)
