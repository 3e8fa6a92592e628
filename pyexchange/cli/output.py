"""The CLI's one output helper: every command that prints rows prints them through here, as
a table (the default), JSON or CSV (``--format table|json|csv``).

- table: a rich table. Nothing is ever cut to an ellipsis: on a terminal a long value wraps
  inside its cell, and when stdout is not a terminal (a pipe, a file) the table is as wide as
  its content.
- json: one JSON value on stdout. A command that prints one table prints an array of objects
  (keys are the column names in snake_case); a command that prints a record with sections
  (``order show``, ``clearing report``) prints one object. Amounts and prices are strings
  holding the exact decimal (``"0.00010000"`` stays exact, never a float); ids and counts are
  numbers; times are ISO 8601; a missing value is ``null``.
- csv: a header line then one line per row; a command with several tables prints them one
  after the other, separated by an empty line.

Messages that are not rows (notes, warnings) go to stderr when the format is not ``table``,
so that stdout stays machine-readable.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

import click
from rich.console import Console
from rich.table import Table

FORMATS = ("table", "json", "csv")
_META_KEY = "pyexchange.output_format"
F = TypeVar("F", bound=Callable[..., Any])


def _store_format(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.meta[_META_KEY] = value.lower()
    return value


def output_format(f: F) -> F:
    """Decorator: give a command ``--format table|json|csv`` (read by :func:`print_rows`)."""
    return click.option(
        "--format", "output_format_", type=click.Choice(FORMATS, case_sensitive=False),
        default="table", show_default=True, expose_value=False, is_eager=True,
        callback=_store_format,
        help="table for people; json (decimals as exact strings) or csv for scripts.")(f)


def current_format() -> str:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return "table"
    return str(ctx.meta.get(_META_KEY, "table"))


def key(column: str) -> str:
    """A column title as a JSON key: ``"min amount"`` -> ``"min_amount"``."""
    return re.sub(r"[^0-9a-z]+", "_", column.strip().lower()).strip("_") or "value"


def plain(value: Any) -> Any:
    """A value as JSON keeps it exactly: Decimal -> its decimal string, times -> ISO 8601,
    enums -> their value, UUID -> str; containers recursively."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


def cell(value: Any) -> str:
    """A value as a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Mapping | list):
        return json.dumps(plain(value), sort_keys=True)
    return str(value)


def _stdout_console() -> Console:
    """The console for tables: a terminal's width there, unbounded width elsewhere."""
    from pyexchange.cli import console

    if console.is_terminal:
        return console
    return Console(width=100_000, no_color=True, highlight=False, soft_wrap=True)


def _table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*[cell(v) for v in row])
    return table


@dataclass(frozen=True)
class Section:
    """One table of a record printed by :func:`print_record`."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


def _objects(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    keys = [key(c) for c in columns]
    return [dict(zip(keys, (plain(v) for v in row), strict=True)) for row in rows]


def _write_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2) + "\n")
    sys.stdout.flush()


def _write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    ctx = click.get_current_context(silent=True)
    blocks = ctx.meta.get("pyexchange.csv_blocks", 0) if ctx is not None else 0
    if blocks:
        sys.stdout.write("\n")
    if ctx is not None:
        ctx.meta["pyexchange.csv_blocks"] = blocks + 1
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([key(c) for c in columns])
    writer.writerows([cell(v) for v in row] for row in rows)
    sys.stdout.flush()


def print_rows(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows in the command's format: a table, a JSON array of objects, or CSV."""
    fmt = current_format()
    if fmt == "json":
        _write_json(_objects(columns, rows))
    elif fmt == "csv":
        _write_csv(columns, rows)
    else:
        _stdout_console().print(_table(title, columns, rows))


def print_record(title: str, fields: Sequence[tuple[str, Any]],
                 sections: Sequence[Section] = ()) -> None:
    """One record (field, value pairs) and its sections (e.g. an order and its fills): a
    field/value table and one table per section; JSON: one object, each section a key holding
    an array; CSV: the record as one row, then each section's rows."""
    fmt = current_format()
    if fmt == "json":
        obj: dict[str, Any] = {key(k): plain(v) for k, v in fields}
        for s in sections:
            obj[key(s.title)] = _objects(s.columns, s.rows)
        _write_json(obj)
    elif fmt == "csv":
        _write_csv([k for k, _ in fields], [[v for _, v in fields]])
        for s in sections:
            _write_csv(s.columns, s.rows)
    else:
        out = _stdout_console()
        out.print(_table(title, ["field", "value"], fields))
        for s in sections:
            out.print(_table(s.title, s.columns, s.rows))


def note(message: str, *, markup: bool = True) -> None:
    """A message that is not data: stdout for tables, stderr for json and csv. ``markup=False``
    prints text from elsewhere (a tool's report) as it is."""
    from pyexchange.cli import console, err_console

    if current_format() == "table":
        console.print(message, soft_wrap=True, markup=markup)
    else:
        err_console.print(message, soft_wrap=True, markup=markup)
