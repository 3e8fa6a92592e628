"""The errors mechanism: docs/errors.md, pyexchange.errors.CODES and the codes raised in SQL
agree; translate() maps a database error to its typed exception and keeps the cause."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from pyexchange import errors
from pyexchange.errors import CODES, DatabaseError, ExchangeError, translate, translating

ROOT = Path(__file__).resolve().parents[2]
_TABLE_ROW = re.compile(r"^\|\s*(EX[0-9A-Z]{3})\s*\|\s*`(\w+)`\s*\|", re.MULTILINE)
_RAISED = re.compile(r"(?:ERRCODE\s*(?:=|:=)\s*|SQLSTATE\s+)'(EX[0-9A-Z]{3})'", re.IGNORECASE)


def _table() -> dict[str, str]:
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    rows = _TABLE_ROW.findall(text)
    codes = [code for code, _ in rows]
    assert len(codes) == len(set(codes)), "a code is listed twice in docs/errors.md"
    return dict(rows)


def _raised_in_sql() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in [*sorted((ROOT / "functions").glob("*/*.sql")),
                 *sorted((ROOT / "migrations" / "deploy").glob("*.sql"))]:
        for code in _RAISED.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code.upper(), set()).add(str(path.relative_to(ROOT)))
    return found


def test_docs_table_and_codes_dict_agree() -> None:
    table = _table()
    assert table, "no codes found in docs/errors.md"
    assert set(table) == set(CODES), (
        f"only in docs/errors.md: {sorted(set(table) - set(CODES))}; "
        f"only in pyexchange.errors.CODES: {sorted(set(CODES) - set(table))}")
    wrong = {code: (name, CODES[code].__name__) for code, name in table.items()
             if CODES[code].__name__ != name}
    assert not wrong, f"docs/errors.md names another class than CODES: {wrong}"


def test_every_code_raised_in_sql_is_documented() -> None:
    raised = _raised_in_sql()
    assert "EX001" in raised, "the scan found no RAISE ... ERRCODE in functions/"
    missing = {code: sorted(files) for code, files in raised.items() if code not in _table()}
    assert not missing, f"codes raised in SQL but missing from docs/errors.md: {missing}"


def test_codes_are_in_one_class_and_none_ends_in_000() -> None:
    for code, cls in CODES.items():
        assert re.fullmatch(r"EX[0-9A-Z]{3}", code), code
        assert not code.endswith("000"), f"{code} ends in 000 (psycopg maps those itself)"
        assert issubclass(cls, ExchangeError) and cls.sqlstate == code
    assert len({cls for cls in CODES.values()}) == len(CODES), "one class per code"


def test_translate_maps_a_project_sqlstate_and_keeps_the_cause(shared_dsn: str) -> None:
    with psycopg.connect(shared_dsn, autocommit=True) as conn:
        with pytest.raises(errors.InvalidArgument) as info, translating():
            conn.execute("""
                DO $$ BEGIN
                    RAISE EXCEPTION USING ERRCODE = 'EX001', MESSAGE = 'bad thing',
                          DETAIL = 'the detail', HINT = 'the hint';
                END $$""")
        exc = info.value
        assert exc.sqlstate == "EX001"
        assert (exc.message, exc.detail, exc.hint) == ("bad thing", "the detail", "the hint")
        assert isinstance(exc.__cause__, psycopg.Error)
        assert exc.__cause__.sqlstate == "EX001"

        # every documented code comes back as its own class
        for code, cls in CODES.items():
            try:
                conn.execute(f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}', "
                             "MESSAGE = 'x'; END $$")
            except psycopg.Error as raw:
                assert type(translate(raw)) is cls, code
            else:
                pytest.fail(f"{code} was not raised")

        # an error that is not ours stays generic, with its SQLSTATE
        with pytest.raises(DatabaseError) as other, translating():
            conn.execute("SELECT 1/0")
        assert other.value.sqlstate == "22012"
        assert isinstance(other.value.__cause__, psycopg.errors.DivisionByZero)


def test_a_row_without_partition_becomes_partition_missing(shared_dsn: str) -> None:
    with psycopg.connect(shared_dsn) as conn:
        try:
            with pytest.raises(errors.PartitionMissing) as info, translating():
                conn.execute("""
                    INSERT INTO exchange.audit_logs (table_name, operation, created_at)
                    VALUES ('t', 'INSERT', '1999-01-01')""")
            assert info.value.sqlstate == "EX002"
            assert isinstance(info.value.__cause__, psycopg.errors.CheckViolation)
        finally:
            conn.rollback()
