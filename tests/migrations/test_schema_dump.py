"""sql/ (the schema for DBAs, one file per sqitch change) must be what the migrations make:
regenerate it with `make schema-dump` after changing migrations/ or functions/."""

from __future__ import annotations

import difflib
from pathlib import Path

from tests.migrations.conftest import Ladder

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


def test_committed_sql_matches_the_migrations(ladder: Ladder) -> None:
    expected = ladder.files
    assert expected, "schema dump produced no file"
    committed = {p.name: p.read_text(encoding="utf-8") for p in sorted(SQL_DIR.glob("*.sql"))}
    problems: list[str] = []
    for name in sorted(expected.keys() - committed.keys()):
        problems.append(f"missing sql/{name}")
    for name in sorted(committed.keys() - expected.keys()):
        problems.append(f"stale sql/{name}")
    for name in sorted(expected.keys() & committed.keys()):
        if expected[name] != committed[name]:
            delta = difflib.unified_diff(committed[name].splitlines(), expected[name].splitlines(),
                                         f"sql/{name} (committed)", "from the migrations",
                                         lineterm="", n=1)
            problems.append("\n".join(list(delta)[:30]))
    assert not problems, "sql/ drifted from the migrations; run `make schema-dump`:\n" + \
        "\n".join(problems)
