"""One ladder for the migration tests: a scratch database climbs the plan one change at a
time (``pyexchange.schema_dump.generate``, which writes ``sql/`` from it), and each rung is
cloned on the way, so the upgrade test starts from every earlier state without climbing
again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pyexchange.schema_dump import generate
from tests.conftest import Databases


@dataclass
class Ladder:
    files: dict[str, str]  # sql/ as the migrations make it
    rungs: list[str] = field(default_factory=list)  # rungs[k]: migrated up to change k


@pytest.fixture(scope="session")
def ladder(databases: Databases) -> Iterator[Ladder]:
    rungs: list[str] = []

    def clone(index: int, dbname: str) -> None:
        assert index == len(rungs)
        rungs.append(databases.create("pyx_rung", template=dbname))

    try:
        files = generate(databases.admin_dsn, on_rung=clone)
        yield Ladder(files, rungs)
    finally:
        for name in rungs:
            databases.drop(name)
