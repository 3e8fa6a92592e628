"""The layout by domain (docs/development.md): functions live in domain folders, every one
is included by a migration from its folder, and the api mixins do not import the client."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_INCLUDE = re.compile(r"^\\ir\s+\.\./\.\./functions/(\S+)$", re.MULTILINE)


def test_no_function_file_outside_a_domain_folder() -> None:
    assert not list((ROOT / "functions").glob("*.sql"))
    folders = [p for p in (ROOT / "functions").iterdir() if p.is_dir()]
    assert len(folders) >= 5


def test_every_function_file_is_included_and_every_include_exists() -> None:
    included = set()
    for script in (ROOT / "migrations" / "deploy").glob("*.sql"):
        included |= set(_INCLUDE.findall(script.read_text(encoding="utf-8")))
    files = {p.relative_to(ROOT / "functions").as_posix()
             for p in (ROOT / "functions").glob("*/*.sql")}
    assert included == files


def test_api_mixins_do_not_import_the_client() -> None:
    for path in (ROOT / "pyexchange" / "api").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "pyexchange.client", path.name
            elif isinstance(node, ast.Import):
                assert all(a.name != "pyexchange.client" for a in node.names), path.name
