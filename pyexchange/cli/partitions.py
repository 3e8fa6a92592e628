"""``pyexchange partitions ensure | status | prune``."""

from __future__ import annotations

import click

from pyexchange.cli import AppContext, pass_app, print_table


@click.group()
def partitions() -> None:
    """Monthly partitions of orders, trades, klines, notifications and audit_logs."""


@partitions.command("ensure")
@click.option("--months-ahead", default=3, show_default=True, type=click.IntRange(0, 120))
@pass_app
def ensure(app: AppContext, months_ahead: int) -> None:
    """Create the partitions for this month and the next N months (idempotent)."""
    rows = app.exchange.create_monthly_partitions(months_ahead)
    print_table("partitions", ["table", "partition", "from", "to", "created"],
                [(r.table_name, r.partition_name, r.range_start, r.range_end,
                  "yes" if r.created else "") for r in rows])


COMMANDS: list[click.Command] = [partitions]
