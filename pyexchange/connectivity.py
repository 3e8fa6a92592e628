"""A quick look at the database before the command line opens its pool: is it reachable, and
is it migrated? Each failure is one :class:`ConfigurationError` line that names the host, the
port and the database and says what to check, within :data:`CONNECT_TIMEOUT` seconds, instead
of the pool's retries (a 30 s wait and a warning line per attempt).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from pyexchange.errors import ConfigurationError

#: Seconds the check waits for a server to answer (libpq ``connect_timeout``).
CONNECT_TIMEOUT = 4

MIGRATE_HINT = "run `pyexchange db migrate` (with the same --dsn) to create the schema"


@dataclass(frozen=True)
class Target:
    """Where a DSN points, as libpq will resolve it (the DSN, then the PG* environment,
    then libpq's defaults)."""

    host: str
    port: str
    dbname: str
    user: str

    def __str__(self) -> str:
        where = (f"unix socket in {self.host}" if self.host.startswith("/")
                 else f"host {self.host}")
        return f"database {self.dbname} on {where} port {self.port} as user {self.user}"


def target(dsn: str) -> Target:
    params = {k: v for k, v in conninfo_to_dict(dsn).items() if v is not None}
    env = os.environ
    user = str(params.get("user") or env.get("PGUSER") or _os_user())
    host = str(params.get("host") or params.get("hostaddr") or env.get("PGHOST")
               or env.get("PGHOSTADDR") or "localhost (libpq default)")
    return Target(host=host, port=str(params.get("port") or env.get("PGPORT") or "5432"),
                  dbname=str(params.get("dbname") or env.get("PGDATABASE") or user), user=user)


def _os_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # pragma: no cover - no user name at all
        return "(current user)"


def _what_to_check(exc: psycopg.Error) -> str:
    text = str(exc).lower()
    if "password" in text or "authentication" in text or "role" in text:
        return ("check the user and password (the DSN, PGPASSWORD or ~/.pgpass) and the "
                "server's pg_hba.conf")
    if "database" in text and "does not exist" in text:
        return "check the database name, or create it (createdb) and run `pyexchange db migrate`"
    if "timeout" in text or "timed out" in text:
        return ("check that the host and port are right and reachable (firewall, VPN) "
                "and that the server is up")
    return ("check that the server runs and listens there (host, port, listen_addresses), "
            "and the DSN (--dsn, PYEXCHANGE_DSN or the PG* environment)")


def check_reachable(dsn: str, *, require_schema: bool = True) -> None:
    """Connect once (at most :data:`CONNECT_TIMEOUT` s per address); raise a one-line
    :class:`ConfigurationError` when the server cannot be reached or refuses the login, and,
    with ``require_schema``, when the database has no ``exchange`` schema yet."""
    where = target(dsn)
    try:
        conn = psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True)
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if len(reason) > 200:
            reason = reason[:200] + "..."
        raise ConfigurationError(
            f"cannot connect to {where}: {reason}; {_what_to_check(exc)}") from exc
    with conn:
        if require_schema:
            row = conn.execute("SELECT to_regnamespace('exchange') IS NOT NULL").fetchone()
            if not (row and row[0]):
                raise ConfigurationError(
                    f"{where} has no exchange schema (not migrated): {MIGRATE_HINT}")
