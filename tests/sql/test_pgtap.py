"""Run every pgTAP file in tests/sql/ as one test.

Each file wraps itself in ``BEGIN; SELECT plan(n); ... SELECT * FROM finish(); ROLLBACK;``
and uses no psql commands, so ``pg_prove`` can run it too. A file passes when it ran exactly
its plan and no assertion said ``not ok``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import _TAP_LINE, run_pgtap

FILES = sorted(Path(__file__).parent.glob("*.sql"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_pgtap_file(shared_dsn: str, path: Path) -> None:
    lines = run_pgtap(shared_dsn, path)
    planned = next((int(m.group(1)) for line in lines if (m := re.match(r"^1\.\.(\d+)$", line))),
                   None)
    results = [line for line in lines if _TAP_LINE.match(line)]
    failures = [line for line in lines if line.startswith("not ok")]
    diagnostics = [line for line in lines if line.startswith("#")]
    assert planned is not None and results, "no TAP plan or no assertions:\n" + "\n".join(lines)
    assert not failures and len(results) == planned, "\n".join(
        [*failures, *diagnostics, f"planned {planned}, ran {len(results)}"])
