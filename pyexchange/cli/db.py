"""``pyexchange db migrate | rollback | status | verify | dump | restore``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pyexchange.cli import AppContext, console, pass_app, print_table
from pyexchange.cli.confirm import confirm_destruction, yes_option
from pyexchange.cli.output import output_format
from pyexchange.config import resolve_dsn
from pyexchange.connectivity import check_reachable
from pyexchange.migrate import Migrator


def _migrator(app: AppContext) -> Migrator:
    dsn = resolve_dsn(app.dsn)
    check_reachable(dsn, require_schema=False)
    return Migrator(dsn)


@click.group()
def db() -> None:
    """Schema migrations (the sqitch project in migrations/, applied through yoyo)."""


@db.command()
@click.option("--to", "to", metavar="CHANGE", help="Stop after CHANGE (apply it and the "
              "pending changes before it).")
@pass_app
def migrate(app: AppContext, to: str | None) -> None:
    """Apply every pending change (or those up to --to CHANGE)."""
    done = _migrator(app).migrate(to=to)
    console.print(f"applied {len(done)} change(s): {', '.join(done) or '-'}")


@db.command()
@click.option("--all", "all_", is_flag=True, help="Revert every change.")
@click.option("--to", "to", metavar="CHANGE", help="Revert the changes after CHANGE.")
@yes_option
@pass_app
def rollback(app: AppContext, all_: bool, to: str | None) -> None:
    """Revert the last change (or --to CHANGE, or --all). Reverting drops what the changes
    created, with its data: asks first (or --yes)."""
    if all_ and to:
        raise click.UsageError("--all and --to exclude each other")
    scope = ("every change" if all_ else f"every change after {to}" if to
             else "the last change")
    confirm_destruction(f"db rollback reverts {scope}: the tables, functions and rows they "
                        f"created are dropped (users, balances, orders... with --all)")
    done = _migrator(app).rollback(to=to, all_=all_)
    console.print(f"reverted {len(done)} change(s): {', '.join(done) or '-'}")


@db.command()
@output_format
@pass_app
def status(app: AppContext) -> None:
    """Show each change of the plan and whether it is applied."""
    rows = _migrator(app).status()
    print_table("migrations", ["change", "applied", "note"],
                [(r.name, "yes" if r.applied else "no", r.note) for r in rows])


@db.command()
@output_format
@pass_app
def verify(app: AppContext) -> None:
    """Run the verify script of every applied change; exit 1 if any fails."""
    results = _migrator(app).verify()
    print_table("verify", ["change", "result"],
                [(name, "ok" if err is None else f"FAILED: {err}") for name, err in results])
    if any(err is not None for _, err in results):
        sys.exit(1)


@db.command("dump")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data-only", is_flag=True,
              help="Rows only (restores into a database migrated to the same changes).")
@pass_app
def dump_cmd(app: AppContext, file: Path, data_only: bool) -> None:
    """Write a logical backup: pg_dump's archive plus what a restore needs (roles,
    extensions, migration history) and each table's row count and digest."""
    from pyexchange.dump import dump

    result = dump(resolve_dsn(app.dsn), file, data_only=data_only)
    console.print(f"dumped {'the rows of ' if data_only else ''}{result.tables} tables "
                  f"({result.rows} rows, {result.roles} roles) to {result.path} "
                  f"in {result.seconds:.1f} s")


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def restore_cmd(app: AppContext, file: Path) -> None:
    """Restore a `db dump` file into an empty database (a data-only dump: into a freshly
    migrated one), then check every table against the dump and reconcile(). Needs a
    superuser."""
    from pyexchange.dump import restore

    result = restore(resolve_dsn(app.dsn), file)
    for role in result.roles_created:
        console.print(f"created role {role}")
    for note in result.notes:
        console.print(note)
    console.print(f"restored {'the rows of ' if result.data_only else ''}{result.tables} tables "
                  f"({result.rows} rows) in {result.seconds:.1f} s: every table as dumped, "
                  "reconcile() empty, no book crossed")


COMMANDS: list[click.Command] = [db]
