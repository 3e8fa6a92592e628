"""The root options for connection pooling, a read DSN and failover (issue 14).

Each option has an environment variable (``PYEXCHANGE_READ_DSN``, ``PYEXCHANGE_POOL_MIN``,
...); the option wins over the variable, the variable over the default of
:class:`pyexchange.config.PoolSettings`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from pyexchange.config import POOL_ENV, PoolSettings, pool_settings_from_env

F = Callable[..., Any]

_OPTIONS: list[Callable[[F], F]] = [
    click.option("--read-dsn", "read_dsn", envvar="PYEXCHANGE_READ_DSN", default=None,
                 help="DSN for market data reads (book, trades, K-lines, ticker), e.g. a "
                      "standby: host=a,b target_session_attrs=prefer-standby "
                      "(default: PYEXCHANGE_READ_DSN, else the main DSN)."),
    click.option("--pool-min", "pool_min", type=click.IntRange(min=0), default=None,
                 help=f"Connections kept open (default: {POOL_ENV['min_size']}, else 1)."),
    click.option("--pool-max", "pool_max", type=click.IntRange(min=1), default=None,
                 help=f"Connections at most (default: {POOL_ENV['max_size']}, else 4)."),
    click.option("--pool-timeout", "pool_timeout", type=click.FloatRange(min=0), default=None,
                 help="Seconds a call waits for a pooled connection "
                      f"(default: {POOL_ENV['timeout']}, else 30)."),
    click.option("--pool-max-idle", "pool_max_idle", type=click.FloatRange(min=0),
                 default=None,
                 help="Seconds an idle connection above --pool-min is kept "
                      f"(default: {POOL_ENV['max_idle']}, else 600)."),
    click.option("--connect-timeout", "connect_timeout", type=click.IntRange(min=1),
                 default=None,
                 help="libpq connect timeout per host, seconds "
                      f"(default: {POOL_ENV['connect_timeout']}, else the DSN's)."),
    click.option("--prepare-threshold", "prepare_threshold", default=None, metavar="N|off",
                 help="Server-side prepared statements after N runs; off behind pgbouncer "
                      f"in transaction pooling (default: {POOL_ENV['prepare_threshold']}, "
                      "else 5)."),
    click.option("--failover-timeout", "failover_timeout", type=click.FloatRange(min=0),
                 default=None,
                 help="Seconds a call safe to retry keeps retrying after a connection failure "
                      f"(default: {POOL_ENV['failover_timeout']}, else 60; 0: never)."),
]


def pool_options(f: F) -> F:
    """Add the pooling options to a click command."""
    for option in reversed(_OPTIONS):
        f = option(f)
    return f


def settings_from_options(options: dict[str, Any]) -> PoolSettings:
    """The environment's pool settings with the given options applied over them."""
    return pool_settings_from_env().replace(
        min_size=options.get("pool_min"), max_size=options.get("pool_max"),
        timeout=options.get("pool_timeout"), max_idle=options.get("pool_max_idle"),
        connect_timeout=options.get("connect_timeout"),
        prepare_threshold=options.get("prepare_threshold"),
        failover_timeout=options.get("failover_timeout"))
