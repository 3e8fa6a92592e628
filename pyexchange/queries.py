"""The SQL the client sends, by name.

Every statement lives in ``pyexchange/sql/*.sql`` under a ``-- name: <name>`` header (the
procrastinate habit), so no SQL is assembled in Python and a DBA can read all of it in one
place. Names are unique across the files.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


@cache
def all_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in sorted((Path(__file__).parent / "sql").glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        parts = _HEADER.split(text)
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in queries:
                raise RuntimeError(f"query {name!r} defined twice ({path.name})")
            queries[name] = body.strip().rstrip(";")
    return queries


def query(name: str) -> str:
    try:
        return all_queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in pyexchange/sql/") from None
