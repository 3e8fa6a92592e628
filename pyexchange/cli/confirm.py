"""Commands that destroy data ask first: ``--yes``, or a yes typed at a terminal. Without
either (a script, a pipe, a cron job) they refuse before touching anything."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_YES = "pyexchange.confirmed"


def _store_yes(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[_YES] = bool(value)
    return value


def yes_option(f: F) -> F:
    """Decorator: ``--yes`` (``-y``), read by :func:`confirm_destruction`."""
    return click.option("--yes", "-y", "yes_", is_flag=True, expose_value=False,
                        callback=_store_yes,
                        help="Confirm that data may be destroyed (needed when not asked at a "
                             "terminal).")(f)


def confirm_destruction(what: str) -> None:
    """Go on only when ``--yes`` was given or the user answers yes at a terminal; otherwise
    stop with exit status 1 and change nothing. ``what`` says what will be lost."""
    ctx = click.get_current_context()
    if ctx.meta.get(_YES):
        return
    if sys.stdin.isatty() and sys.stdout.isatty():
        if click.confirm(f"{what}. Continue?", default=False):
            return
        raise click.ClickException("not confirmed: nothing was changed")
    raise click.ClickException(
        f"refused: {what}. Pass --yes to confirm (nothing was changed)")
