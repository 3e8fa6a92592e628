"""A local pg_auto_failover formation: a monitor, a primary and a synchronous secondary.

``pyexchange ha up`` builds it for development and drills, with Debian's
``postgresql-15-auto-failover`` (``pg_autoctl``); ``ha status``, ``ha switchover`` and
``ha down`` manage it; ``ha drill`` (:mod:`pyexchange.ha_drill`) kills the primary under load.
A production formation is the same three ``pg_autoctl`` commands run on three hosts
(docs/operations.md).

Layout under the base directory (``--dir``, ``PYEXCHANGE_HA_DIR``, else
``<PYEXCHANGE_HOME>/ha``): ``monitor/``, ``node1/``, ``node2/`` (the data directories),
``<name>.log`` (each ``pg_autoctl run``), ``<name>.pid`` (its process group), ``config/``,
``share/`` and ``run/`` (pg_autoctl's XDG directories, so nothing lands in a home directory),
``formation.json`` (the ports). Ports: the monitor on ``port``, the nodes on ``port + 1`` and
``port + 2``; every server listens on 127.0.0.1 only and trusts local connections (a
development formation: never expose it).

As root, everything runs as the ``postgres`` system user (``runuser``); otherwise as the
current user. ``lifetime`` bounds each ``pg_autoctl run`` (``timeout``): drills and tests
set it so that nothing outlives them even when the caller dies.

The dev formation shortens pg_auto_failover's failure detection (monitor health checks every
second, a node unhealthy after 2 s, the old primary demoting itself after 3 s of isolation,
the monitor waiting 5 s for that). Production keeps the defaults (20 s and 30 s, so about
50 s from a crash to a writable primary) or shortens them the same way, keeping
``primary_demote_timeout`` above ``network_partition_timeout``.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import class_row

from pyexchange.errors import ConfigurationError
from pyexchange.server import ROOT_RUN_AS, default_base_dir, find_bindir

DATABASE = "pyexchange"
FORMATION = "default"
NODES = ("node1", "node2")
DEFAULT_PORT = 5540
HOST = "127.0.0.1"
INSTALL_HINT = ("Install pg_auto_failover (Debian/Ubuntu: sudo apt-get install "
                "postgresql-15-auto-failover).")

#: Monitor settings of the dev formation (milliseconds); see the module docstring.
FAST_MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 2000,
    "pgautofailover.primary_demote_timeout": 5000,
}
#: Keeper setting of the dev formation (seconds): below primary_demote_timeout.
FAST_NETWORK_PARTITION_TIMEOUT = 3


def default_ha_dir() -> Path:
    env = os.environ.get("PYEXCHANGE_HA_DIR")
    return Path(env) if env else default_base_dir() / "ha"


@dataclass(frozen=True)
class NodeState:
    """One node as the monitor sees it."""

    name: str
    host: str
    port: int
    reported_state: str
    assigned_state: str
    health: int
    reported_lsn: str

    @property
    def healthy(self) -> bool:
        return self.health == 1


def _run_as_user() -> str | None:
    if os.geteuid() != 0:
        return None
    return ROOT_RUN_AS


def as_user(argv: Sequence[str], run_as: str | None) -> list[str]:
    """``argv`` run as ``run_as`` (through runuser; root only), or as is."""
    if run_as is None:
        return list(argv)
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", run_as, "--", *argv]


def spawn_detached(argv: Sequence[str], *, cwd: Path, env: dict[str, str], log: Path,
                   run_as: str | None, lifetime: float | None = None) -> int:
    """Start ``argv`` in a new session (as ``run_as``), output appended to ``log``; bounded
    by ``lifetime`` seconds when given. Returns its pid, which is its process group."""
    run = list(argv)
    if lifetime is not None:
        run = ["timeout", "-k", "5", f"{lifetime:.0f}", *run]
    script = 'setsid "$@" >>"$LOG" 2>&1 </dev/null & echo $!'
    proc = subprocess.run(as_user(["sh", "-c", script, "sh", *run], run_as), cwd=cwd,
                          env={**env, "LOG": str(log)}, text=True, capture_output=True,
                          timeout=30, check=True)
    return int(proc.stdout.strip())


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie left for an init that does not reap does not)."""
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (ProcessLookupError, FileNotFoundError):
        return False
    except (OSError, IndexError):
        return True
    return state != "Z"


class Formation:
    """A local formation under ``base_dir`` on ports ``port`` .. ``port + 2``."""

    def __init__(self, base_dir: Path | str | None = None, port: int | None = None, *,
                 lifetime: float | None = None, fast: bool = True) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else default_ha_dir()
        saved = self._saved()
        self.port = port or int(saved.get("port", DEFAULT_PORT))
        self.lifetime = lifetime
        self.fast = bool(saved.get("fast", fast))
        self.run_as = _run_as_user()

    # --- layout -------------------------------------------------------------------------
    def _saved(self) -> dict[str, Any]:
        path = self.base_dir / "formation.json"
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text())
            return data
        return {}

    def data_dir(self, name: str) -> Path:
        return self.base_dir / name

    def node_port(self, name: str) -> int:
        return self.port if name == "monitor" else self.port + 1 + NODES.index(name)

    def log_file(self, name: str) -> Path:
        return self.base_dir / f"{name}.log"

    @property
    def monitor_uri(self) -> str:
        return (f"postgres://autoctl_node@{HOST}:{self.port}/pg_auto_failover"
                "?sslmode=disable")

    def monitor_dsn(self) -> str:
        return make_conninfo(host=HOST, port=str(self.port), dbname="pg_auto_failover",
                             user="postgres", connect_timeout="2")

    def node_dsn(self, name: str, dbname: str = DATABASE) -> str:
        return make_conninfo(host=HOST, port=str(self.node_port(name)), dbname=dbname,
                             user="postgres", connect_timeout="2")

    def dsn(self, *, read: bool = False) -> str:
        """The multi-host DSN: the writable node, or (``read``) a standby if there is one."""
        return make_conninfo(
            host=",".join(HOST for _ in NODES),
            port=",".join(str(self.node_port(n)) for n in NODES),
            dbname=DATABASE, user="postgres", connect_timeout="2",
            target_session_attrs="prefer-standby" if read else "read-write")

    # --- commands -----------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        bindir = find_bindir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "XDG_"))}
        env.update({
            "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.base_dir),
            "XDG_CONFIG_HOME": str(self.base_dir / "config"),
            "XDG_DATA_HOME": str(self.base_dir / "share"),
            "XDG_RUNTIME_DIR": str(self.base_dir / "run"),
            "LC_ALL": "C.UTF-8",  # initdb: UTF8 (C gives SQL_ASCII)
        })
        return env

    def _argv(self, argv: Sequence[str]) -> list[str]:
        return as_user(argv, self.run_as)

    def _pg_autoctl(self, *args: str, timeout: float = 60) -> str:
        exe = shutil.which("pg_autoctl")
        if exe is None:
            raise ConfigurationError("pg_autoctl is not installed", hint=INSTALL_HINT)
        try:
            proc = subprocess.run(self._argv([exe, *args]), cwd=self.base_dir, env=self._env(),
                                  text=True, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ConfigurationError(f"pg_autoctl {args[0]} {args[1] if len(args) > 1 else ''}"
                                     f" did not finish in {timeout:.0f} s") from exc
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-12:])
            raise ConfigurationError(f"pg_autoctl {' '.join(args[:2])} failed "
                                     f"(exit {proc.returncode})", detail=tail)
        return proc.stdout

    def _prepare_dirs(self) -> None:
        for sub in ("", "config", "share", "run"):
            path = self.base_dir / sub
            path.mkdir(parents=True, exist_ok=True)
            if self.run_as is not None:
                pw = pwd.getpwnam(self.run_as)
                os.chown(path, pw.pw_uid, pw.pw_gid)
        (self.base_dir / "run").chmod(0o700)
        if self.run_as is not None and subprocess.run(
                as_user(["test", "-w", str(self.base_dir), "-a", "-x", str(self.base_dir)],
                        self.run_as), check=False).returncode != 0:
            raise ConfigurationError(
                f"the {self.run_as} user cannot reach {self.base_dir}",
                hint="Choose a directory whose parents it may enter (--dir, e.g. under /tmp "
                     "or /var/lib/postgresql).")
        (self.base_dir / "formation.json").write_text(
            json.dumps({"port": self.port, "fast": self.fast}))

    def _start(self, name: str) -> int:
        """``pg_autoctl run`` for one node, detached in its own session; returns its pid
        (which is also its process group)."""
        exe = shutil.which("pg_autoctl")
        assert exe is not None
        run = [exe, "run", "--pgdata", str(self.data_dir(name))]
        pid = spawn_detached(run, cwd=self.base_dir, env=self._env(), log=self.log_file(name),
                             run_as=self.run_as, lifetime=self.lifetime)
        (self.base_dir / f"{name}.pid").write_text(str(pid))
        return pid

    def process_group(self, name: str) -> int | None:
        path = self.base_dir / f"{name}.pid"
        if not path.exists():
            return None
        pid = int(path.read_text().strip())
        if not alive(pid):
            return None
        # a pid file outlives a crash; make sure the pid is still this node's keeper
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        return pid if str(self.data_dir(name)).encode() in cmdline else None

    def postmaster_pid(self, name: str) -> int | None:
        """The running postmaster of a node (checked against /proc: a stale pid file after
        a crash may name a pid that another process now has)."""
        path = self.data_dir(name) / "postmaster.pid"
        try:
            pid = int(path.read_text().splitlines()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        return pid if str(self.data_dir(name)).encode() in cmdline else None

    # --- state --------------------------------------------------------------------------
    def status(self) -> list[NodeState]:
        """The nodes as the monitor records them (ConfigurationError when it is down)."""
        try:
            with psycopg.connect(self.monitor_dsn(), autocommit=True) as conn, \
                    conn.cursor(row_factory=class_row(NodeState)) as cur:
                cur.execute(
                    "SELECT nodename AS name, nodehost AS host, nodeport AS port, "
                    "reportedstate::text AS reported_state, goalstate::text AS assigned_state, "
                    "health, reportedlsn::text AS reported_lsn "
                    "FROM pgautofailover.node WHERE formationid = %s ORDER BY nodeid",
                    (FORMATION,))
                return cur.fetchall()
        except psycopg.OperationalError as exc:
            raise ConfigurationError(f"the monitor on port {self.port} is not reachable",
                                     detail=str(exc).strip(),
                                     hint="Start the formation: pyexchange ha up") from exc

    def primary(self) -> NodeState | None:
        return next((n for n in self.status()
                     if n.reported_state == n.assigned_state == "primary"), None)

    def writable_node(self) -> NodeState | None:
        """The node taking writes: a primary, or a promoted one still without a standby."""
        return next((n for n in self.status()
                     if n.reported_state in ("primary", "wait_primary")
                     and n.assigned_state in ("primary", "wait_primary")), None)

    def is_settled(self) -> bool:
        """One primary and one secondary, each in the state the monitor assigned."""
        states = sorted((n.reported_state, n.assigned_state) for n in self.status())
        return states == [("primary", "primary"), ("secondary", "secondary")]

    def wait_until(self, what: str, predicate: Callable[[], bool], timeout: float,
                   interval: float = 0.2) -> float:
        """Poll ``predicate`` until true; the seconds it took, or ConfigurationError."""
        start = time.monotonic()
        last: Exception | None = None
        while time.monotonic() - start < timeout:
            try:
                if predicate():
                    return time.monotonic() - start
            except (ConfigurationError, psycopg.Error) as exc:
                last = exc
            time.sleep(interval)
        raise ConfigurationError(f"timed out after {timeout:.0f} s waiting for {what}",
                                 detail=str(last) if last else self._state_text())

    def _state_text(self) -> str:
        try:
            return "; ".join(f"{n.name} {n.reported_state}/{n.assigned_state}"
                             for n in self.status())
        except ConfigurationError as exc:
            return str(exc)

    # --- lifecycle ----------------------------------------------------------------------
    def up(self, *, timeout: float = 120, migrate: bool = True,
           progress: Callable[[str], None] | None = None) -> str:
        """Create (first use) and start the monitor and both nodes, migrate the database;
        return the multi-host DSN."""
        say = progress or (lambda _msg: None)
        deadline = time.monotonic() + timeout
        find_bindir()
        if shutil.which("pg_autoctl") is None:
            raise ConfigurationError("pg_autoctl is not installed", hint=INSTALL_HINT)
        self._prepare_dirs()
        if not self.data_dir("monitor").exists():
            say(f"creating the monitor on port {self.port}")
            self._pg_autoctl("create", "monitor", "--pgdata", str(self.data_dir("monitor")),
                             "--pgport", str(self.port), "--hostname", HOST, "--auth", "trust",
                             "--no-ssl")
            self._pg_autoctl("config", "set", "--pgdata", str(self.data_dir("monitor")),
                             "postgresql.listen_addresses", HOST)
        if self.process_group("monitor") is None:
            self._start("monitor")
        self.wait_until("the monitor", lambda: self.status() is not None,
                        deadline - time.monotonic())
        if self.fast:
            self._tune_monitor()
        first, second = NODES
        if not self.data_dir(first).exists():
            say(f"creating {first} on port {self.node_port(first)}")
            self._create_node(first)
        if self.process_group(first) is None:
            self._start(first)
        self.wait_until(f"{first} to run", lambda: self._accepts(first),
                        max(1.0, deadline - time.monotonic()))
        if not self.data_dir(second).exists():
            if migrate:
                say("migrating the database on the primary")
                self._migrate(deadline)
                migrate = False
            # pg_basebackup asks for a spread checkpoint; one done now leaves it no work
            with psycopg.connect(self.node_dsn(first, "postgres"), autocommit=True) as conn:
                conn.execute("CHECKPOINT")
            say(f"creating {second} on port {self.node_port(second)} (a base backup)")
            self._create_node(second)
        if self.process_group(second) is None:
            self._start(second)
        if migrate:
            say("migrating the database on the primary")
            self._migrate(deadline)
        say("waiting for the synchronous secondary")
        self.wait_until("a primary and a secondary", self.is_settled,
                        max(1.0, deadline - time.monotonic()))
        return self.dsn()

    def _accepts(self, name: str) -> bool:
        with psycopg.connect(self.node_dsn(name, "postgres"), autocommit=True):
            return True

    def _tune_monitor(self) -> None:
        with psycopg.connect(self.monitor_dsn(), autocommit=True) as conn:
            for key, value in FAST_MONITOR_SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {key} = {int(value)}")
            conn.execute("SELECT pg_reload_conf()")

    def _node_args(self, name: str) -> list[str]:
        return ["create", "postgres", "--pgdata", str(self.data_dir(name)),
                "--pgport", str(self.node_port(name)), "--hostname", HOST, "--listen", HOST,
                "--name", name, "--auth", "trust", "--no-ssl", "--monitor", self.monitor_uri,
                "--dbname", DATABASE]

    def _configure_node(self, name: str) -> None:
        if self.fast:
            self._pg_autoctl("config", "set", "--pgdata", str(self.data_dir(name)),
                             "timeout.network_partition_timeout",
                             str(FAST_NETWORK_PARTITION_TIMEOUT))

    def _create_node(self, name: str) -> None:
        self._pg_autoctl(*self._node_args(name), timeout=90)
        self._configure_node(name)

    def _migrate(self, deadline: float) -> None:
        from pyexchange.migrate import Migrator

        dsn = self.dsn()  # whichever node is the primary now
        self.wait_until("a writable primary", lambda: self._accepts_db(dsn),
                        max(1.0, deadline - time.monotonic()))
        Migrator(dsn).migrate()

    @staticmethod
    def _accepts_db(dsn: str) -> bool:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()
            return bool(row and row[0])

    def start_node(self, name: str) -> None:
        """Start a stopped (or killed) node's ``pg_autoctl run`` again."""
        if self.process_group(name) is None:
            self._start(name)

    def kill_node(self, name: str) -> int | None:
        """``kill -9`` the node's postmaster and its pg_autoctl (a host crash: the keeper
        would otherwise restart PostgreSQL before the monitor noticed). Returns the
        postmaster's pid."""
        postmaster = self.postmaster_pid(name)
        group = self.process_group(name)
        if group is not None:
            os.killpg(group, signal.SIGKILL)
        if postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGKILL)
        return postmaster

    def switchover(self, *, timeout: float = 60) -> tuple[str, str, float]:
        """Promote the secondary and demote the primary, both healthy; returns (old primary,
        new primary, seconds until the formation settled)."""
        before = self.primary()
        if before is None or not self.is_settled():
            raise ConfigurationError("switchover needs a settled formation (a primary and a "
                                     "secondary)", detail=self._state_text())
        start = time.monotonic()
        with psycopg.connect(self.monitor_dsn(), autocommit=True) as conn:
            conn.execute("SELECT pgautofailover.perform_failover(%s, 0)", (FORMATION,))

        def moved() -> bool:
            now = self.primary()
            return now is not None and now.name != before.name and self.is_settled()

        self.wait_until("the switchover", moved, timeout)
        after = self.primary()
        assert after is not None
        return before.name, after.name, time.monotonic() - start

    def down(self, *, remove: bool = True, timeout: float = 30) -> list[str]:
        """Stop every node (SIGINT: a fast shutdown; SIGKILL after ``timeout``), then the
        monitor; remove the base directory unless ``remove`` is false. Returns what was
        stopped."""
        stopped: list[str] = []
        for name in (*NODES, "monitor"):
            group = self.process_group(name)
            if group is None:
                continue
            try:
                os.killpg(group, signal.SIGINT)
            except ProcessLookupError:
                continue
            stopped.append(name)
        end = time.monotonic() + timeout
        for name in stopped:
            group = self.process_group(name)
            while group is not None and time.monotonic() < end:
                time.sleep(0.1)
                group = self.process_group(name)
            if group is not None:
                os.killpg(group, signal.SIGKILL)
        for name in (*NODES, "monitor"):  # a postmaster left by a killed keeper
            pid = self.postmaster_pid(name)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if remove and (self.base_dir / "formation.json").exists():
            shutil.rmtree(self.base_dir, ignore_errors=True)
        return stopped
