"""One ladder for the migration tests: a scratch database climbs the plan one change at a
time (``pyexchange.schema_dump.generate``, which writes ``sql/`` from it), and each rung is
cloned on the way, so the upgrade test starts from every earlier state without climbing
again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pyexchange.schema_dump import generate
from tests.conftest import Databases
from tests.migrations.catalog import snapshot


@dataclass
class Ladder:
    files: dict[str, str]  # sql/ as the migrations make it
    rungs: list[str] = field(default_factory=list)  # rungs[k]: migrated up to change k
    snapshots: list[dict[str, Any]] = field(default_factory=list)  # catalog of rungs[k]


@pytest.fixture(scope="session")
def ladder(databases: Databases) -> Iterator[Ladder]:
    rungs: list[str] = []
    snapshots: list[dict[str, Any]] = []

    def clone(index: int, dbname: str) -> None:
        assert index == len(rungs)
        rungs.append(databases.create("pyx_rung", template=dbname))
        snapshots.append(snapshot(databases.dsn(rungs[-1])))

    try:
        files = generate(databases.admin_dsn, on_rung=clone)
        yield Ladder(files, rungs, snapshots)
    finally:
        for name in rungs:
            databases.drop(name)
