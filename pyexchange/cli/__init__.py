"""The ``pyexchange`` command line: a thin door on :class:`pyexchange.Exchange`.

Each domain registers its click group from its own module; this module holds the root group,
the shared options and the helpers that print tables.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.console import Console

from pyexchange.cli.pooling import pool_options
from pyexchange.errors import ExchangeError

console = Console()
err_console = Console(stderr=True)


class AppContext:
    """Lazily opened client shared by the commands of one invocation."""

    def __init__(self, dsn: str | None, acting_user_id: int | None = None,
                 pool_options: dict[str, Any] | None = None) -> None:
        self.dsn = dsn
        self.acting_user_id = acting_user_id
        self.pool_options = pool_options or {}
        self._exchange: Any = None

    @property
    def exchange(self) -> Any:
        if self._exchange is None:
            from pyexchange.cli.pooling import settings_from_options
            from pyexchange.client import Exchange
            from pyexchange.config import resolve_dsn
            from pyexchange.connectivity import check_reachable

            dsn = resolve_dsn(self.dsn)
            check_reachable(dsn)  # one clear line within seconds, not the pool's retries
            self._exchange = Exchange(dsn, acting_user_id=self.acting_user_id,
                                      read_dsn=self.pool_options.get("read_dsn"),
                                      pool=settings_from_options(self.pool_options))
        return self._exchange

    def close(self) -> None:
        if self._exchange is not None:
            self._exchange.close()


pass_app = click.make_pass_decorator(AppContext)


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Rows as a table, JSON or CSV, by the command's ``--format`` (pyexchange.cli.output)."""
    from pyexchange.cli.output import print_rows

    print_rows(title, columns, rows)


class ExchangeGroup(click.Group):
    """Prints typed errors as one clear line (with SQLSTATE) and exits 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ExchangeError as exc:
            from pyexchange.cli.errors import cli_message

            code = f" [{exc.sqlstate}]" if exc.sqlstate else ""
            err_console.print(f"[bold red]error{code}:[/] {cli_message(exc)}", soft_wrap=True,
                              markup=True, highlight=False)
            sys.exit(1)


@click.group(cls=ExchangeGroup)
@click.option("--dsn", envvar="PYEXCHANGE_DSN", default=None,
              help="libpq connection string or URL (default: PYEXCHANGE_DSN, the libpq "
                   "environment, else the embedded server).")
@click.option("--as", "acting_user_id", envvar="PYEXCHANGE_ACTING_USER", type=int, default=None,
              metavar="USER_ID",
              help="The application user the commands act for (sets exchange.acting_user_id; "
                   "default: PYEXCHANGE_ACTING_USER). Administrative commands need one.")
@pool_options
@click.pass_context
def main(ctx: click.Context, /, dsn: str | None, acting_user_id: int | None,
         **pooling: Any) -> None:
    """pyexchange: a PostgreSQL-native spot exchange core."""
    app = AppContext(dsn, acting_user_id, pooling)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from pyexchange.cli import backup as backup_cli
    from pyexchange.cli import db, demo, identity, ledger, partitions, relay, server, trading
    from pyexchange.cli import ha as ha_cli
    from pyexchange.cli import keys as keys_cli
    from pyexchange.cli import notifications as notifications_cli
    from pyexchange.cli import operations as operations_cli
    from pyexchange.cli import risk as risk_cli
    from pyexchange.cli import watch as watch_cli

    for module in (db, server, partitions, demo, ledger, trading, identity, relay,
                   notifications_cli, watch_cli, risk_cli, operations_cli,
                   backup_cli, keys_cli, ha_cli):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
