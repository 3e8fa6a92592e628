"""The README runs as written: its ```sh blocks (through bash) and its ```sql blocks (through
psql), in the order they appear, are one session on a fresh empty database.

The examples do not need the embedded server, so the session points at a new empty database
of the test server through ``PYEXCHANGE_DSN`` (its first command, ``pyexchange db migrate``,
creates the schema); ``PYEXCHANGE_HOME`` is a private temporary directory all the same, so
that nothing can reach a shared embedded server. ```text blocks are not run (they start
long-running servers, or make a server-wide role).

bash runs every line itself (quoting, ``export``, ``$(date ...)``, ``&&``); only the
``pyexchange`` command is a bash function that hands its arguments and bash's environment to
this test process, which runs them through the very click command the console script runs
(:data:`pyexchange.cli.main`) and hands back the output and exit status. That saves a Python
start-up per command (about 40 of them), which would cost most of this test's time.
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
from click.testing import CliRunner

from pyexchange.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def readme_blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block of the README, in order."""
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(README.read_text("utf-8"))]


_SHIM = r"""
pyexchange() {
    { printf '%s\0' "$@"; printf '%s\0' '--readme-env--'; env -0; } > "$README_REQ"
    local status
    read -r status < "$README_ACK"
    cat "$README_OUT"
    return "$status"
}
trap 'printf "%s\0" --readme-end-- > "$README_REQ"' EXIT
"""


def session_script(blocks: list[tuple[str, str]]) -> str:
    """One bash script: each sh block as written, each sql block through psql."""
    parts = [_SHIM, "set -eo pipefail"]
    for i, (lang, code) in enumerate(blocks):
        if lang == "sh":
            parts.append(f"echo '>>> README block {i} (sh)' >&2\nset -x\n{code}set +x")
        elif lang == "sql":
            parts.append(f"echo '>>> README block {i} (sql)' >&2\n"
                         f"psql \"$PYEXCHANGE_DSN\" -X -q -v ON_ERROR_STOP=1 <<'README_SQL'\n"
                         f"{code}README_SQL")
    return "\n".join(parts) + "\n"


def run_session(script: str, env: dict[str, str], workdir: Path) -> tuple[int, str, int]:
    """Run ``script`` in bash, serving its ``pyexchange`` calls in this process; return
    bash's exit status, the end of its output and the number of pyexchange calls served."""
    req, ack, out = workdir / "req", workdir / "ack", workdir / "out"
    os.mkfifo(req)
    os.mkfifo(ack)
    env = {**env, "README_REQ": str(req), "README_ACK": str(ack), "README_OUT": str(out)}
    served = 0
    # bash's output goes to files, not pipes: a full pipe would block bash while this
    # process waits for its next request
    with open(workdir / "stdout", "w") as stdout, open(workdir / "stderr", "w") as stderr, \
            subprocess.Popen(["bash", "-c", script], env=env, stdout=stdout,
                             stderr=stderr) as bash:
        while True:
            with open(req, "rb") as f:
                fields = f.read().split(b"\0")[:-1]
            if fields == [b"--readme-end--"]:
                break
            cut = fields.index(b"--readme-env--")
            args = [a.decode() for a in fields[:cut]]
            call_env: dict[str, str | None] = {k: None for k in os.environ}
            call_env.update(dict(kv.decode().split("=", 1) for kv in fields[cut + 1:]
                                 if b"=" in kv))
            result = CliRunner().invoke(main, args, env=call_env)
            out.write_text(result.output)
            with open(ack, "w") as f:
                f.write(f"{result.exit_code}\n")
            served += 1
        bash.wait(timeout=60)
    log = (workdir / "stderr").read_text()[-4000:] + (workdir / "stdout").read_text()[-4000:]
    return bash.returncode, log, served


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
    status, log, served = run_session(session_script(blocks), readme_env,
                                      Path(readme_env["PYEXCHANGE_HOME"]))
    assert status == 0, log
    commands = sum(line.lstrip().startswith("pyexchange ")
                   for lang, code in blocks if lang == "sh" for line in code.splitlines())
    assert served == commands >= 30, (served, commands)

    # what the session left behind: the walkthrough's users, trades and money
    with psycopg.connect(readme_env["PYEXCHANGE_DSN"]) as conn:
        users = dict(conn.execute("SELECT username, id FROM exchange.users").fetchall())
        assert users == {"root": 1, "alice": 2, "bob": 3}
        assert conn.execute("SELECT count(*) FROM exchange.trades").fetchone() == (3,)
        assert conn.execute("SELECT count(*) FROM exchange.reconcile()").fetchone() == (0,)

    # the console script itself, in its own process: `order list --format json` prints JSON
    # with exact decimals as strings
    out = subprocess.run(["pyexchange", "order", "list", "--user", "bob", "--format", "json"],
                         env=readme_env, capture_output=True, text=True, timeout=60, check=True)
    orders = json.loads(out.stdout)
    first = next(o for o in orders if o["id"] == 1)
    assert first["amount"] == "0.5" and first["price"] == "60000"
