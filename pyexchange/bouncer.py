"""pgbouncer in front of pyexchange: its configuration, and a local instance for tests and
development.

The client works through pgbouncer in **transaction pooling** (Debian's pgbouncer 1.18):

* prepared statements are off (``prepare_threshold=None``: ``--prepare-threshold off``,
  ``PYEXCHANGE_PREPARE_THRESHOLD=off``): 1.18 does not track them, so a statement prepared
  on one server connection is unknown (or already known) on the next;
* every call is one transaction and the acting user and correlation id are set with
  ``set_config(..., true)``, local to it: a server connection handed to the next client
  carries nothing over;
* ``LISTEN`` (``pyexchange watch``, the relay, the notifier) needs a session: point those at
  the database directly (or at a session-pooling entry).

:func:`render_config` writes a ``pgbouncer.ini``; :class:`LocalBouncer` runs one as the
``postgres`` user (root) or the current user, on 127.0.0.1 and a private socket directory,
bounded in time.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.errors import ConfigurationError
from pyexchange.ha import _run_as_user, alive, spawn_detached

INSTALL_HINT = "Install pgbouncer (Debian/Ubuntu: sudo apt-get install pgbouncer)."


@dataclass(frozen=True)
class BouncerDatabase:
    """One ``[databases]`` entry: the name clients use and where it leads."""

    name: str
    dsn: str
    pool_size: int | None = None

    def line(self) -> str:
        parts = conninfo_to_dict(self.dsn)
        keep = {k: str(v) for k, v in parts.items()
                if k in ("host", "port", "dbname", "user", "password") and v is not None}
        if self.pool_size is not None:
            keep["pool_size"] = str(self.pool_size)
        return f"{self.name} = " + " ".join(f"{k}={v}" for k, v in keep.items())


def render_config(databases: list[BouncerDatabase], *, listen_port: int = 6432,
                  listen_addr: str = "127.0.0.1", socket_dir: str = "/var/run/postgresql",
                  pool_size: int = 8, max_client_conn: int = 200,
                  server_connect_timeout: int = 5, server_idle_timeout: int = 600,
                  client_idle_timeout: int = 0, query_wait_timeout: int = 30,
                  auth_type: str = "scram-sha-256", auth_file: str = "/etc/pgbouncer/userlist.txt",
                  admin_users: str = "postgres", logfile: str | None = None,
                  pidfile: str | None = None) -> str:
    """A ``pgbouncer.ini`` for pyexchange: transaction pooling, ``pool_size`` server
    connections per database and user, at most ``max_client_conn`` clients."""
    lines = ["[databases]", *(d.line() for d in databases), "", "[pgbouncer]",
             f"listen_addr = {listen_addr}", f"listen_port = {listen_port}",
             f"unix_socket_dir = {socket_dir}", "pool_mode = transaction",
             f"default_pool_size = {pool_size}", "min_pool_size = 0", "reserve_pool_size = 0",
             f"max_client_conn = {max_client_conn}",
             f"server_connect_timeout = {server_connect_timeout}",
             f"server_idle_timeout = {server_idle_timeout}",
             f"client_idle_timeout = {client_idle_timeout}",
             f"query_wait_timeout = {query_wait_timeout}",
             # psycopg sends none of these, other clients do; pgbouncer refuses unknown ones
             "ignore_startup_parameters = extra_float_digits,options",
             "server_reset_query = DISCARD ALL", "server_reset_query_always = 0",
             f"auth_type = {auth_type}", f"auth_file = {auth_file}",
             f"admin_users = {admin_users}"]
    if logfile:
        lines.append(f"logfile = {logfile}")
    if pidfile:
        lines.append(f"pidfile = {pidfile}")
    return "\n".join(lines) + "\n"


@dataclass
class LocalBouncer:
    """A pgbouncer on ``127.0.0.1:port`` with its files in ``base_dir`` (trust
    authentication: for tests and development only)."""

    base_dir: Path
    port: int
    databases: list[BouncerDatabase]
    pool_size: int = 8
    max_client_conn: int = 100
    lifetime: float | None = 600
    pid: int | None = field(default=None, init=False)

    def dsn(self, database: str, **extra: str) -> str:
        return make_conninfo(host="127.0.0.1", port=str(self.port), dbname=database,
                             user="postgres", **extra)

    def admin_dsn(self) -> str:
        return self.dsn("pgbouncer")

    def start(self, timeout: float = 15) -> None:
        exe = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not os.access(exe, os.X_OK):
            raise ConfigurationError("pgbouncer is not installed", hint=INSTALL_HINT)
        run_as = _run_as_user()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        ini = self.base_dir / "pgbouncer.ini"
        users = self.base_dir / "userlist.txt"
        users.write_text('"postgres" ""\n')
        ini.write_text(render_config(
            self.databases, listen_port=self.port, socket_dir=str(self.base_dir),
            pool_size=self.pool_size, max_client_conn=self.max_client_conn,
            auth_type="trust", auth_file=str(users)))
        if run_as is not None:
            pw = pwd.getpwnam(run_as)
            for path in (self.base_dir, ini, users):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        self.pid = spawn_detached([exe, str(ini)], cwd=self.base_dir, env=env,
                                  log=self.base_dir / "pgbouncer.log", run_as=run_as,
                                  lifetime=self.lifetime)
        end = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.admin_dsn(), autocommit=True,
                                     prepare_threshold=None):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > end or not alive(self.pid):
                    log = (self.base_dir / "pgbouncer.log").read_text(errors="replace")
                    self.stop()
                    raise ConfigurationError("pgbouncer did not start",
                                             detail=f"{exc}\n{log[-1500:]}") from exc
                time.sleep(0.1)

    def show(self, what: str) -> list[Mapping[str, object]]:
        """``SHOW POOLS`` / ``SERVERS`` / ``CLIENTS`` / ``STATS`` on the admin console."""
        if what not in ("POOLS", "SERVERS", "CLIENTS", "STATS", "DATABASES"):
            raise ValueError(what)
        with psycopg.connect(self.admin_dsn(), autocommit=True, prepare_threshold=None) as c, \
                c.cursor() as cur:
            cur.execute(f"SHOW {what}")
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def stop(self, timeout: float = 10) -> None:
        """Immediate shutdown (SIGTERM), SIGKILL after ``timeout``."""
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
            end = time.monotonic() + timeout
            while alive(self.pid) and time.monotonic() < end:
                time.sleep(0.05)
            if alive(self.pid):
                os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid = None
