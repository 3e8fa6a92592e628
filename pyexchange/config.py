"""Where pyexchange finds its database.

Order: an explicit DSN (``--dsn``), else ``PYEXCHANGE_DSN``, else the libpq environment
(``PGHOST``, ``PGDATABASE``, ``PGSERVICE``, ... when any is set: the DSN is then empty and
libpq reads them), else the embedded default server (see :mod:`pyexchange.server`), started
on demand.
"""

from __future__ import annotations

import os

LIBPQ_ENV = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


def configured_dsn(dsn: str | None = None) -> str | None:
    """The DSN given by the user or the environment, or None when nothing is configured."""
    if dsn:
        return dsn
    env = os.environ.get("PYEXCHANGE_DSN")
    if env:
        return env
    if any(os.environ.get(k) for k in LIBPQ_ENV):
        return ""
    return None


def resolve_dsn(dsn: str | None = None) -> str:
    """The DSN to connect with; starts the embedded server when nothing is configured."""
    found = configured_dsn(dsn)
    if found is not None:
        return found
    from pyexchange.server import EmbeddedServer

    return EmbeddedServer.default().ensure_running()
