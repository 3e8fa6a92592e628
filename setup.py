"""Ship what ``pyexchange db migrate`` needs inside the package.

``migrations/`` (the sqitch project) and ``functions/`` (the PL/pgSQL its scripts include with
``\\ir ../../functions/...``) stay at the top of the repository, where sqitch and the docs
expect them; building the wheel copies both, side by side so that the includes still resolve,
into ``pyexchange/_schema/``. ``pyexchange.migrate.migrations_dir`` uses that copy when the
package is installed without the repository around it. The sdist carries the two folders
through ``MANIFEST.in``. Everything else is configured in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SCHEMA_DIRS = ("migrations", "functions")


class build_py_with_schema(build_py):  # noqa: N801 - setuptools command naming
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the repository's own folders
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "pyexchange" / "_schema"
        for name in SCHEMA_DIRS:
            dest = target / name
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(root / name, dest,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": build_py_with_schema})
