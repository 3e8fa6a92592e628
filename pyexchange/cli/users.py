"""``USER`` wherever the command line takes a user: an id (``42``) or a username or email
(``alice``), looked up with ``exchange.find_user`` (so the same access rule applies: the
acting user is that user or holds user:read; no acting user is the trusted application)."""

from __future__ import annotations

from typing import Any

import click


class UserParam(click.ParamType[int]):
    name = "user"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        if not text:
            self.fail("a user id or username is required", param, ctx)
        from pyexchange.cli import AppContext

        app = ctx.find_object(AppContext) if ctx is not None else None
        if app is None:  # pragma: no cover - every command runs under the root group
            self.fail(f"{text!r} is not a user id", param, ctx)
        user_id: int = app.exchange.find_user(text).id
        return user_id


#: A user id, username or email.
USER = UserParam()
