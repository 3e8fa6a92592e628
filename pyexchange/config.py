"""Where pyexchange finds its database.

Order: an explicit DSN (``--dsn``), else ``PYEXCHANGE_DSN``, else the libpq environment
(``PGHOST``, ``PGDATABASE``, ``PGSERVICE``, ... when any is set: the DSN is then empty and
libpq reads them), else the embedded default server (see :mod:`pyexchange.server`), started
on demand.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


# --- pool settings and the read DSN (issue 14: failover and pooling) ----------------------

#: Environment variables of the pool settings, by field of :class:`PoolSettings`.
POOL_ENV = {
    "min_size": "PYEXCHANGE_POOL_MIN",
    "max_size": "PYEXCHANGE_POOL_MAX",
    "timeout": "PYEXCHANGE_POOL_TIMEOUT",
    "max_idle": "PYEXCHANGE_POOL_MAX_IDLE",
    "connect_timeout": "PYEXCHANGE_CONNECT_TIMEOUT",
    "prepare_threshold": "PYEXCHANGE_PREPARE_THRESHOLD",
    "failover_timeout": "PYEXCHANGE_FAILOVER_TIMEOUT",
}


@dataclass(frozen=True)
class PoolSettings:
    """How the client pools its connections and rides through a failover.

    ``min_size``/``max_size``: connections kept open / at most; ``timeout``: seconds a call
    waits for a pooled connection; ``max_idle``: seconds an idle connection is kept above
    ``min_size``; ``connect_timeout``: libpq's per-host connect timeout (None: the DSN's or
    libpq's own); ``prepare_threshold``: psycopg's server-side prepare threshold, None turns
    prepared statements off (needed behind pgbouncer 1.18 in transaction pooling);
    ``failover_timeout``: how long a call that is safe to retry keeps retrying after a
    connection failure (0: never retry).
    """

    min_size: int = 1
    max_size: int = 4
    timeout: float = 30.0
    max_idle: float = 600.0
    connect_timeout: int | None = None
    prepare_threshold: int | None = 5
    failover_timeout: float = 60.0

    def __post_init__(self) -> None:
        from pyexchange.errors import ConfigurationError

        if self.min_size < 0 or self.max_size < 1 or self.min_size > self.max_size:
            raise ConfigurationError(
                f"pool sizes min={self.min_size} max={self.max_size} are not 0 <= min <= max, "
                "max >= 1")
        for name in ("timeout", "max_idle", "failover_timeout"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"pool setting {name} must not be negative")
        if self.connect_timeout is not None and self.connect_timeout < 1:
            raise ConfigurationError("connect_timeout must be at least 1 second")

    def replace(self, **changes: Any) -> PoolSettings:
        """A copy with the given fields changed; ``None`` values leave a field as it is,
        except ``prepare_threshold``, which the string ``off`` turns off."""
        kept = {k: v for k, v in changes.items() if v is not None}
        if kept.get("prepare_threshold") is not None:
            kept["prepare_threshold"] = parse_prepare_threshold(kept["prepare_threshold"])
        return dataclasses.replace(self, **kept)


def parse_prepare_threshold(value: object) -> int | None:
    """``off``/``none`` -> None (no prepared statements), else a non-negative integer."""
    from pyexchange.errors import ConfigurationError

    if value is None or isinstance(value, int):
        return value
    text = str(value).strip().lower()
    if text in ("off", "none", ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigurationError(f"prepare threshold {value!r} is neither a number nor off",
                                 hint="Use off behind pgbouncer in transaction pooling.") from None


def pool_settings_from_env(environ: Mapping[str, str] | None = None) -> PoolSettings:
    """The pool settings from ``PYEXCHANGE_POOL_*`` and friends (see :data:`POOL_ENV`)."""
    from pyexchange.errors import ConfigurationError

    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in dataclasses.fields(PoolSettings)}
    for field, var in POOL_ENV.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        if field == "prepare_threshold":
            values[field] = parse_prepare_threshold(raw)
            continue
        try:
            values[field] = int(raw) if "int" in str(types[field]) else float(raw)
        except ValueError:
            raise ConfigurationError(f"{var}={raw!r} is not a number") from None
    return PoolSettings(**values)


def configured_read_dsn(read_dsn: str | None = None) -> str | None:
    """The DSN for market data reads (``--read-dsn``, else ``PYEXCHANGE_READ_DSN``), or None:
    then those reads use the main DSN."""
    return read_dsn or os.environ.get("PYEXCHANGE_READ_DSN") or None
