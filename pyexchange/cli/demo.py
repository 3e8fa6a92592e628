"""``pyexchange demo``: migrate the database (the configured one, else the embedded server)
and print its state. The market simulation will build on this; :func:`print_database_state`
is the reusable part."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from pyexchange.cli import AppContext, console, pass_app, print_table
from pyexchange.config import configured_dsn
from pyexchange.migrate import Migrator


def _where(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn) if dsn else {}
    host = params.get("host") or "(libpq default)"
    port = params.get("port") or ""
    return f"database {params.get('dbname') or '(libpq default)'} on {host}" + (
        f" port {port}" if port else "")


def print_database_state(exchange: Any, out: Console | None = None) -> None:
    """Print the tables with their row counts, the partitions (partition_status) and the
    migration status of ``exchange``'s database."""
    out = out or console
    out.print(f"[bold]{_where(exchange.dsn)}[/]")
    print_table("tables (schema exchange)", ["table", "rows", "partitioned"],
                [(t.table_name, t.row_count, "yes" if t.partitioned else "")
                 for t in exchange.table_row_counts()])
    parts = exchange.partition_status()
    print_table("partitions", ["table", "month", "partition", "rows", "state"],
                [(p.table_name, p.month.strftime("%Y-%m") if p.month else "",
                  p.partition_name or "", "" if p.row_count is None else p.row_count,
                  "MISSING" if p.missing else "ok") for p in parts])
    status = Migrator(exchange.dsn).status()
    applied = sum(1 for s in status if s.applied)
    print_table("migrations", ["change", "applied", "note"],
                [(s.name, "yes" if s.applied else "no", s.note) for s in status])
    out.print(f"{applied} of {len(status)} change(s) applied; "
              f"{sum(1 for p in parts if p.missing)} partition(s) missing ahead")


@click.command()
@pass_app
def demo(app: AppContext) -> None:
    """Migrate the database (the embedded server when no DSN is configured) and show its
    state: tables, partitions, migrations."""
    if configured_dsn(app.dsn) is None:
        console.print("no DSN configured: using the embedded server "
                      "(`pyexchange server status` shows where it lives)")
    from pyexchange.config import resolve_dsn

    done = Migrator(resolve_dsn(app.dsn)).migrate()
    console.print(f"migrated: {len(done)} change(s) applied" + (f" ({', '.join(done)})"
                                                                  if done else ""))
    print_database_state(app.exchange)


COMMANDS: list[click.Command] = [demo]
