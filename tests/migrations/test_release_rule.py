"""The rule for functions, enforced once changes are released (pyexchange.release): a
released script never changes, and a function file changed after a release needs a later
change that includes it."""

from __future__ import annotations

import shutil
from pathlib import Path

from pyexchange import release
from pyexchange.migrate import migrations_dir


def test_the_repository_keeps_the_rule() -> None:
    assert release.check() == []


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(migrations_dir(), tmp_path / "migrations")
    shutil.copytree(migrations_dir().parent / "functions", tmp_path / "functions")
    return tmp_path / "migrations"


def _append(root: Path, line: str) -> None:
    with open(root / "sqitch.plan", "a", encoding="utf-8") as plan:
        plan.write(line + "\n")


def test_release_rule(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    assert release.check(root) == []  # nothing tagged, nothing released
    _append(root, "@v9.0 2026-11-28T03:00:00Z pyexchange <dev@pyexchange.local> # a release")
    assert release.released_count(root) > 0
    assert any("release.lock is missing" in p for p in release.check(root))
    release.write_lock(root)
    assert release.check(root) == []

    # a function of a released change is edited in place: refused ...
    source = tmp_path / "functions" / "partitions" / "partition_status.sql"
    source.write_text(source.read_text(encoding="utf-8") + "-- v2\n", encoding="utf-8")
    problems = release.check(root)
    assert len(problems) == 1 and "functions/partitions/partition_status.sql changed" in problems[0]

    # ... until a change after the tag includes it again
    (root / "deploy" / "partition_status_v2.sql").write_text(
        "BEGIN;\n\\ir ../../functions/partitions/partition_status.sql\nCOMMIT;\n", encoding="utf-8")
    _append(root, "partition_status_v2 2026-11-28T03:01:00Z pyexchange <dev@pyexchange.local> # v2")
    assert release.check(root) == []

    # a released script is edited: refused
    deploy = root / "deploy" / "views.sql"
    deploy.write_text(deploy.read_text(encoding="utf-8") + "-- edited\n", encoding="utf-8")
    problems = release.check(root)
    assert len(problems) == 1 and "released change views: deploy/views.sql" in problems[0]
