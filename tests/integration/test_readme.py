"""The README runs as written: its ```sh blocks (through bash) and its ```sql blocks (through
psql), in the order they appear, are one session on a fresh empty database.

The examples do not need the embedded server, so the session points at a new empty database
of the test server through ``PYEXCHANGE_DSN`` (its first command, ``pyexchange db migrate``,
creates the schema); ``PYEXCHANGE_HOME`` is a private temporary directory all the same, so
that nothing can reach a shared embedded server. ```text blocks are not run (they start
long-running servers, or make a server-wide role).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def readme_blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the README, in order."""
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(README.read_text("utf-8"))]


def session_script(blocks: list[tuple[str, str]]) -> str:
    """One bash script: each sh block as written, each sql block through psql."""
    parts = ["set -eo pipefail"]
    for i, (lang, code) in enumerate(blocks):
        if lang == "sh":
            parts.append(f"echo '>>> README block {i} (sh)' >&2\nset -x\n{code}set +x")
        elif lang == "sql":
            parts.append(f"echo '>>> README block {i} (sql)' >&2\n"
                         f"psql \"$PYEXCHANGE_DSN\" -X -q -v ON_ERROR_STOP=1 <<'README_SQL'\n"
                         f"{code}README_SQL")
    return "\n".join(parts) + "\n"


@pytest.fixture
def readme_env(empty_dsn: str) -> Iterator[dict[str, str]]:
    home = tempfile.mkdtemp(prefix="pyx-18-readme-")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYEXCHANGE_", "PG"))}
    env.update(PYEXCHANGE_DSN=empty_dsn, PYEXCHANGE_HOME=home,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    try:
        yield env
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_readme_blocks_are_complete() -> None:
    """Every fenced block says what it is, and the session has shell and SQL blocks."""
    blocks = readme_blocks()
    text = README.read_text("utf-8")
    assert text.count("```") == 2 * len(blocks), "a fenced block without a language"
    langs = {lang for lang, _ in blocks}
    assert {"sh", "sql"} <= langs and langs <= {"sh", "sql", "text"}, langs
    assert not re.search(r"^    (pyexchange|psql|make) ", text, re.MULTILINE), \
        "an indented command block: fence it (```sh to run it, ```text otherwise)"


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_readme_runs_top_to_bottom(readme_env: dict[str, str]) -> None:
    blocks = readme_blocks()
    script = session_script(blocks)
    done = subprocess.run(["bash", "-c", script], env=readme_env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (done.stderr[-4000:], done.stdout[-2000:])
    commands = sum(code.count("pyexchange ") for lang, code in blocks if lang == "sh")
    assert commands >= 30

    # what the session left behind: the walkthrough's users, trades and money
    with psycopg.connect(readme_env["PYEXCHANGE_DSN"]) as conn:
        users = dict(conn.execute("SELECT username, id FROM exchange.users").fetchall())
        assert users == {"root": 1, "alice": 2, "bob": 3}
        assert conn.execute("SELECT count(*) FROM exchange.trades").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM exchange.reconcile()").fetchone() == (0,)

    # `order list --format json` prints JSON with exact decimals as strings
    out = subprocess.run(["pyexchange", "order", "list", "--user", "bob", "--format", "json"],
                         env=readme_env, capture_output=True, text=True, timeout=60, check=True)
    orders = json.loads(out.stdout)
    first = next(o for o in orders if o["id"] == 1)
    assert first["amount"] == "0.5" and first["price"] == "60000"
