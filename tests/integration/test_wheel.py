"""An installed package can migrate: build the wheel (and the sdist), install the wheel in a
fresh virtual environment, and run ``pyexchange db migrate`` from it on an empty database.

Offline and quick: the build is ``pip wheel`` from a copy of the sources (so the checkout gets
no build/ folder), with this environment's setuptools and wheel (the dev extra; without
them pip makes a build environment from its configured index as usual); the
fresh environment gets the wheel with ``--no-deps --no-index`` and reaches the dependencies
(psycopg, yoyo, click, ...) through a ``.pth`` line naming this environment's site-packages.
A ``.pth`` line only extends ``sys.path``: the editable install's finder there is not
loaded, so ``import pyexchange`` can only find the installed wheel, and the test checks it.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "pyexchange",
           "migrations", "functions")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and the sdist, built from a copy of the sources."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    # with setuptools and wheel at hand (the dev extra) no build environment is needed
    local = all(importlib.util.find_spec(m) for m in ("setuptools", "wheel"))
    isolation = ["--no-build-isolation"] if local else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *isolation,
                    "-w", str(out), str(src)],
                   check=True, capture_output=True, text=True, timeout=240)
    subprocess.run([sys.executable, "setup.py", "-q", "sdist", "-d", str(out)], cwd=src,
                   check=True, capture_output=True, text=True, timeout=120)
    return out


def test_wheel_and_sdist_carry_the_schema(dist: Path) -> None:
    plan_lines = (ROOT / "migrations" / "sqitch.plan").read_text().splitlines()
    changes = [line.split()[0] for line in plan_lines
               if line and not line.startswith(("%", "#", "@"))]
    wheel = next(dist.glob("pyexchange-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for change in changes:
        for kind in ("deploy", "revert", "verify"):
            assert f"pyexchange/_schema/migrations/{kind}/{change}.sql" in names
    functions = {p.relative_to(ROOT).as_posix() for p in (ROOT / "functions").rglob("*.sql")}
    assert functions and {f"pyexchange/_schema/{f}" for f in functions} <= names
    assert "pyexchange/sql/trading.sql" in names
    sdist = next(dist.glob("pyexchange-*.tar.gz"))
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert "migrations/sqitch.plan" in members and functions <= members


def test_installed_wheel_migrates_an_empty_database(dist: Path, tmp_path: Path,
                                                    empty_dsn: str) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "pyexchange-test-deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(dist.glob("pyexchange-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=240)

    where = subprocess.run(
        [str(python), "-c", "import pyexchange.migrate as m; print(m.__file__); "
                            "print(m.migrations_dir())"],
        cwd=tmp_path, check=True, capture_output=True, text=True).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where

    done = subprocess.run([str(venv / "bin" / "pyexchange"), "--dsn", empty_dsn, "db",
                           "migrate"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(empty_dsn) as conn:
        applied = conn.execute("SELECT count(*) FROM _yoyo_migration").fetchone()
        assert applied is not None and applied[0] >= 20
        assert conn.execute("SELECT to_regprocedure('exchange.place_order(bigint, text, "
                            "text, text, numeric, numeric, text, text, numeric, numeric, "
                            "text)') IS NOT NULL").fetchone() == (True,)
