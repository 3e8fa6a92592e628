"""``pyexchange partitions ensure | status | prune``."""

from __future__ import annotations

import sys

import click

from pyexchange.cli import AppContext, pass_app, print_table
from pyexchange.cli.confirm import confirm_destruction, yes_option
from pyexchange.cli.output import note, output_format


@click.group()
def partitions() -> None:
    """Monthly partitions of orders, trades, klines, notifications and audit_logs."""


@partitions.command("ensure")
@click.option("--months-ahead", default=3, show_default=True, type=click.IntRange(0, 120))
@output_format
@pass_app
def ensure(app: AppContext, months_ahead: int) -> None:
    """Create the partitions for this month and the next N months (idempotent)."""
    rows = app.exchange.create_monthly_partitions(months_ahead)
    print_table("partitions", ["table", "partition", "from", "to", "created"],
                [(r.table_name, r.partition_name, r.range_start, r.range_end,
                  "yes" if r.created else "") for r in rows])


def _size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


@partitions.command("status")
@click.option("--months-ahead", default=3, show_default=True, type=click.IntRange(0, 120),
              help="Report the months missing among this month and the next N.")
@click.option("--estimate", is_flag=True,
              help="Use the planner's row estimates instead of counting each partition.")
@output_format
@pass_app
def status(app: AppContext, months_ahead: int, estimate: bool) -> None:
    """Each partition's month, rows and size, and the months missing ahead. Exits 1 when a
    month among this one and the next N has no partition (for cron, CI, health checks)."""
    rows = app.exchange.partition_status(months_ahead, exact=not estimate)
    print_table("partitions", ["table", "partition", "month", "rows", "size", "state"],
                [(r.table_name, r.partition_name or "", r.month.strftime("%Y-%m") if r.month
                  else "", "" if r.row_count is None else r.row_count, _size(r.total_bytes),
                  "MISSING" if r.missing else "ok") for r in rows])
    missing = [r for r in rows if r.missing]
    if missing:
        note(f"[yellow]{len(missing)} partition(s) missing ahead:[/] run "
             f"`pyexchange partitions ensure --months-ahead {months_ahead}` or "
             "`pyexchange maintenance run`")
        sys.exit(1)


@partitions.command("prune")
@click.option("--keep-months", required=True, type=click.IntRange(0, 1200),
              help="Keep this month and the N months before it; drop older partitions.")
@click.option("--dry-run", is_flag=True, help="Only show what would be dropped.")
@yes_option
@output_format
@pass_app
def prune(app: AppContext, keep_months: int, dry_run: bool) -> None:
    """Detach and drop the partitions older than the kept months (refuses while a partition
    still holds an open order). Asks first (or --yes), except with --dry-run."""
    if not dry_run:
        confirm_destruction(f"partitions prune drops every partition older than "
                            f"{keep_months} month(s) with its rows")
    rows = app.exchange.drop_partitions_older_than(keep_months, dry_run=dry_run)
    title = "would drop" if dry_run else "dropped"
    print_table(title, ["table", "partition", "from", "to"],
                [(r.table_name, r.partition_name, r.range_start, r.range_end) for r in rows])
    note(f"{title} {len(rows)} partition(s)")


COMMANDS: list[click.Command] = [partitions]
