"""The embedded default database: a private PostgreSQL cluster that pyexchange runs itself.

When no DSN is configured (no ``--dsn``, no ``PYEXCHANGE_DSN``, no libpq environment),
:func:`pyexchange.config.resolve_dsn` calls :meth:`EmbeddedServer.ensure_running`, which

* finds the local server binaries (``initdb``, ``pg_ctl``): ``$PYEXCHANGE_PG_BINDIR``, else
  ``pg_config --bindir``, else ``PATH``, else Debian's ``/usr/lib/postgresql/<version>/bin``
  (newest first); with none, it raises :class:`~pyexchange.errors.ConfigurationError` saying
  how to install PostgreSQL or set a DSN;
* on first use, creates the cluster in ``<base>/data`` (``initdb``, UTF8, locale C), then
  starts it, creates the database ``pyexchange`` and migrates it (every later upgrade is
  ``pyexchange db migrate``); after that it only starts the server when it is not running;
* listens on a unix socket in ``<base>/run`` only (``listen_addresses = ''``), so it never
  collides with another server's TCP port (5432 or any); the socket directory is private
  (mode 0700) and local connections use trust authentication: only the cluster's owner (and
  root) can reach it;
* preloads the libraries of :data:`PRELOAD_LIBRARIES` that are installed (pgaudit, which logs
  DDL and role changes to ``server.log``: :func:`pgaudit_settings`).

``start(listen="HOST:PORT")`` (``pyexchange server start --listen HOST:PORT``) also makes it
listen on TCP, with TLS only: a CA and a server certificate are made in ``<base>/tls``
(:mod:`cryptography`), ``ssl = on``, and ``pg_hba.conf`` accepts TCP only as ``hostssl`` with
``scram-sha-256`` (a login role with a password: ``pyexchange db create-login``); the unix
socket keeps working. :meth:`EmbeddedServer.tls_conninfo` (``pyexchange server conninfo``) is
then a conninfo with ``sslmode=verify-full`` and ``sslrootcert``. The choice is remembered in
``<base>/listen`` until ``start(listen="")`` (``--no-listen``).

Before each start it (re)writes ``data/pyexchange-monitoring.conf``: the libraries of
:data:`PRELOAD_LIBRARIES` the server has (pg_stat_statements, auto_explain, pg_cron), the
slow-statement log at ``$PYEXCHANGE_SLOW_QUERY_MS`` (100 ms) and pg_cron pointed at the
database (docs/operations.md).

The base directory is ``$PYEXCHANGE_HOME``, else, as root, ``/var/lib/pyexchange`` (root's home
is private and PostgreSQL refuses to run as root: the cluster is run by the ``postgres``
system user through ``runuser``, and must live where that user can reach), else
``$XDG_DATA_HOME/pyexchange``, else ``~/.local/share/pyexchange``.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pyexchange.errors import ConfigurationError

DATABASE = "pyexchange"
#: Port number in the socket's name (``.s.PGSQL.<port>``); no TCP port is opened unless the
#: server listens on TCP (``--listen``), whose port then names the socket too.
PORT = 5432
#: Where Debian and Ubuntu install the server binaries (not on PATH).
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"
#: The system user that runs the cluster when pyexchange runs as root.
ROOT_RUN_AS = "postgres"

#: Libraries the embedded server preloads when the server has them (a missing one is skipped:
#: preloading it would stop the server from starting). pg_stat_statements feeds the slow
#: statements of the monitoring functions, auto_explain logs slow plans, pg_cron runs the
#: scheduled maintenance (docs/operations.md), pgaudit logs DDL and role changes
#: (:func:`pgaudit_settings`). Append to it to preload another library.
PRELOAD_LIBRARIES: list[str] = ["pg_stat_statements", "auto_explain", "pg_cron", "pgaudit"]
#: The embedded server logs statements (and the plans) that take at least this many ms;
#: ``PYEXCHANGE_SLOW_QUERY_MS`` overrides it (-1 turns the log off).
DEFAULT_SLOW_QUERY_MS = 100
#: The include file, rewritten at every start, that holds the settings above.
MONITORING_CONF = "pyexchange-monitoring.conf"

INSTALL_HINT = (
    "Install the PostgreSQL server (Debian/Ubuntu: sudo apt-get install postgresql; "
    "or set PYEXCHANGE_PG_BINDIR to the directory holding initdb and pg_ctl), "
    "or point pyexchange at an existing database with --dsn or PYEXCHANGE_DSN "
    "(e.g. PYEXCHANGE_DSN='postgresql://user@host:5432/pyexchange')."
)


def default_base_dir() -> Path:
    """``$PYEXCHANGE_HOME``, ``/var/lib/pyexchange`` as root, else the XDG data dir."""
    env = os.environ.get("PYEXCHANGE_HOME")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/pyexchange")
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "pyexchange"


def _current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a passwd entry (some containers)
        return os.environ.get("USER") or str(os.geteuid())


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", path)) or (0,)


def find_bindir(bindir: str | os.PathLike[str] | None = None) -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``, or ConfigurationError."""

    def has_tools(d: Path) -> bool:
        return all(os.access(d / tool, os.X_OK) for tool in ("initdb", "pg_ctl"))

    if bindir is not None:
        if has_tools(Path(bindir)):
            return Path(bindir)
        raise ConfigurationError(
            f"no PostgreSQL server binaries (initdb, pg_ctl) in {bindir}", hint=INSTALL_HINT)
    env = os.environ.get("PYEXCHANGE_PG_BINDIR")
    if env:
        return find_bindir(env)
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 check=True, timeout=10).stdout.strip()
            if out:
                candidates.append(Path(out))
    for tool in ("initdb", "pg_ctl"):
        found = shutil.which(tool)
        if found:
            candidates.append(Path(found).parent)
    candidates.extend(Path(p) for p in sorted(glob.glob(DEBIAN_BINDIRS), key=_version_key,
                                              reverse=True))
    for cand in candidates:
        if has_tools(cand):
            return cand
    raise ConfigurationError(
        "no PostgreSQL server binaries found (initdb and pg_ctl: looked at pg_config --bindir, "
        f"PATH and {DEBIAN_BINDIRS}), and no database is configured", hint=INSTALL_HINT)


def slow_query_ms() -> int:
    """``$PYEXCHANGE_SLOW_QUERY_MS``, else :data:`DEFAULT_SLOW_QUERY_MS`."""
    env = os.environ.get("PYEXCHANGE_SLOW_QUERY_MS")
    if env is None or env.strip() == "":
        return DEFAULT_SLOW_QUERY_MS
    try:
        value = int(env)
    except ValueError:
        raise ConfigurationError(f"PYEXCHANGE_SLOW_QUERY_MS must be an integer, not {env!r}") from None
    if value < -1:
        raise ConfigurationError("PYEXCHANGE_SLOW_QUERY_MS must be -1 (off), 0 or more")
    return value


def _pkglibdir(bindir: Path) -> Path:
    """Where the server's loadable libraries live (``pg_config --pkglibdir`` of the same
    installation when it has one; Debian: ``/usr/lib/postgresql/<v>/lib``)."""
    pg_config = bindir / "pg_config"
    if os.access(pg_config, os.X_OK):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([str(pg_config), "--pkglibdir"], capture_output=True,
                                 text=True, check=True, timeout=10).stdout.strip()
            if out:
                return Path(out)
    return bindir.parent / "lib"


def available_preload_libraries(bindir: Path) -> list[str]:
    """The :data:`PRELOAD_LIBRARIES` this server installation has."""
    libdir = _pkglibdir(bindir)
    return [lib for lib in PRELOAD_LIBRARIES if (libdir / f"{lib}.so").exists()]


def monitoring_settings(libraries: Sequence[str], *, database: str, slow_ms: int,
                        server_major: int) -> list[str]:
    """postgresql.conf lines: the preloaded libraries, the slow-statement log (no parameter
    values: they may carry passwords) and auto_explain's plans of slow statements, and
    pg_cron pointed at the exchange database (docs/operations.md)."""
    lines = [f"shared_preload_libraries = '{','.join(libraries)}'",
             f"log_min_duration_statement = {slow_ms}",
             "log_parameter_max_length = 0"]
    # Top-level statements only (an API call is one statement): timing every statement inside
    # the PL/pgSQL functions would tax the hot path. A DBA diagnosing a slow call turns on
    # auto_explain.log_nested_statements in their session (docs/operations.md).
    if "pg_stat_statements" in libraries:
        lines += ["pg_stat_statements.track = top"]
    if "auto_explain" in libraries:
        lines += [f"auto_explain.log_min_duration = {slow_ms}",
                  "auto_explain.log_analyze = off",
                  "auto_explain.log_nested_statements = off"]
        if server_major >= 16:
            lines.append("auto_explain.log_parameter_max_length = 0")
    if "pg_cron" in libraries:
        lines += [f"cron.database_name = '{database}'",
                  # no TCP in the embedded server: jobs run in background workers
                  "cron.use_background_workers = on",
                  "cron.max_running_jobs = 4"]
    return lines


def pgaudit_settings() -> list[str]:
    """pgaudit on the embedded server: every DDL statement and every role or privilege change
    (CREATE/ALTER/DROP ROLE, GRANT, REVOKE) is written to the server log with its text, once
    per statement, without bind parameters (they could hold a password), on lines that name
    the login role, database and client. The same lines suit an external server
    (docs/security.md). The first build of the embedded database (its migration from the
    versioned scripts) is not logged by pgaudit: each of its hundreds of DDL statements would
    repeat the whole script."""
    return [
        "pgaudit.log = 'ddl, role'",
        "pgaudit.log_catalog = off",
        "pgaudit.log_parameter = off",
        "pgaudit.log_relation = off",
        "pgaudit.log_statement_once = on",
        # who did it: the login role, database and client on every line
        "log_line_prefix = '%m [%p] %q%u@%d %h '",
    ]


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for an IPv6 address) as (host, port)."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", listen.strip())
    if not m:
        raise ConfigurationError(f"--listen takes HOST:PORT, not {listen!r}")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 1 <= port <= 65535:
        raise ConfigurationError(f"--listen: port {port} is outside 1..65535")
    return host, port


@dataclass(frozen=True)
class ServerStatus:
    base_dir: Path
    data_dir: Path
    socket_dir: Path
    initialised: bool
    running: bool
    pid: int | None
    conninfo: str


class EmbeddedServer:
    """A private cluster in ``base_dir`` (``data/``, ``run/`` for the socket, ``server.log``)."""

    def __init__(
        self,
        base_dir: str | os.PathLike[str] | None = None,
        *,
        bindir: str | os.PathLike[str] | None = None,
        run_as: str | None = None,
        database: str = DATABASE,
        migrate: bool = True,
    ) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else default_base_dir()
        self._bindir = bindir
        if run_as is None and os.geteuid() == 0:
            run_as = ROOT_RUN_AS
        self.run_as = run_as
        self.database = database
        self.migrate_on_create = migrate

    @classmethod
    def default(cls) -> EmbeddedServer:
        return cls()

    # --- layout ---------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def superuser(self) -> str:
        """The cluster's bootstrap superuser: the system user that runs it."""
        return self.run_as or _current_user()

    @property
    def listen_file(self) -> Path:
        return self.base_dir / "listen"

    @property
    def tls_dir(self) -> Path:
        return self.base_dir / "tls"

    def listen_address(self) -> tuple[str, int] | None:
        """The TCP address the server listens on (with TLS), or None (unix socket only)."""
        try:
            text = self.listen_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return parse_listen(text) if text else None

    @property
    def port(self) -> int:
        """The server's port: the TCP port when it listens, else :data:`PORT` (the socket's
        name only)."""
        address = self.listen_address()
        return address[1] if address else PORT

    def conninfo(self, dbname: str | None = None) -> str:
        return make_conninfo(host=str(self.socket_dir), port=str(self.port), user=self.superuser,
                             dbname=dbname or self.database)

    def tls_conninfo(self, user: str | None = None, dbname: str | None = None) -> str:
        """The TCP conninfo when the server listens (``sslmode=verify-full`` against the CA in
        ``<base>/tls``); a password is needed (scram-sha-256), not included."""
        address = self.listen_address()
        if address is None:
            raise ConfigurationError("the embedded server does not listen on TCP",
                                     hint="pyexchange server start --listen HOST:PORT")
        host = address[0]
        if host in ("0.0.0.0", "*"):
            host = "localhost"
        elif host == "::":
            host = "::1"
        return make_conninfo(host=host, port=str(address[1]), user=user or self.superuser,
                             dbname=dbname or self.database, sslmode="verify-full",
                             sslrootcert=str(self.tls_dir / "ca.crt"))

    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    # --- running commands -----------------------------------------------------------------
    def bindir(self) -> Path:
        return find_bindir(self._bindir)

    def _command(self, argv: Sequence[str]) -> list[str]:
        if self.run_as is None or self.run_as == _current_user():
            return list(argv)
        if os.geteuid() != 0:
            raise ConfigurationError(f"only root can run the embedded server as {self.run_as}")
        runuser = shutil.which("runuser") or next(
            (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.access(p, os.X_OK)), None)
        if runuser:
            return [runuser, "-u", self.run_as, "--", *argv]
        return ["su", "-s", "/bin/sh", self.run_as, "-c", shlex.join(argv)]

    def _run(self, argv: Sequence[str], *, check: bool = True,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        try:
            proc = subprocess.run(self._command(argv), cwd=self.base_dir, env=env, text=True,
                                  stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except OSError as exc:
            raise ConfigurationError(f"cannot run {argv[0]}: {exc}", hint=INSTALL_HINT) from exc
        except subprocess.TimeoutExpired as exc:
            raise ConfigurationError(f"{Path(argv[0]).name} did not finish in {timeout:.0f} s",
                                     detail=f"see {self.log_file}") from exc
        if check and proc.returncode != 0:
            log = ""
            if self.log_file.exists():
                log = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
            raise ConfigurationError(
                f"{Path(argv[0]).name} failed (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()}",
                detail=f"log {self.log_file}:\n{log}" if log else None)
        return proc

    def _prepare_dirs(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        self.socket_dir.chmod(0o700)
        if self.run_as is not None and os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(self.run_as)
            except KeyError:
                raise ConfigurationError(
                    f"running as root, the embedded server needs the system user "
                    f"{self.run_as!r} (created by the postgresql package)",
                    hint=INSTALL_HINT) from None
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            if self.log_file.exists():
                os.chown(self.log_file, pw.pw_uid, pw.pw_gid)
        if len(str(self.socket_dir / f".s.PGSQL.{self.port}")) > 100:
            raise ConfigurationError(
                f"the embedded server's socket path under {self.socket_dir} is too long for a "
                "unix socket; set PYEXCHANGE_HOME to a shorter directory")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time initialises or starts the cluster."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        with open(self.base_dir / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- lifecycle ------------------------------------------------------------------------
    def _initdb(self, bindir: Path) -> None:
        self._run([str(bindir / "initdb"), "-D", str(self.data_dir), "-U", self.superuser,
                   "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-instructions"])
        with open(self.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# pyexchange embedded server: unix socket only, in a private directory\n"
                "listen_addresses = ''\n"
                f"port = {PORT}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "unix_socket_permissions = 0700\n"
            )
            # shared_preload_libraries is written by _write_monitoring_conf at every start
            if "pgaudit" in available_preload_libraries(bindir):
                conf.write("# pgaudit: DDL and role changes to the server log\n")
                conf.write("".join(line + "\n" for line in pgaudit_settings()))

    def _write_monitoring_conf(self, bindir: Path) -> None:
        """(Re)write :data:`MONITORING_CONF` before each start (the libraries installed and
        the slow-statement threshold may have changed) and include it once from
        postgresql.conf."""
        try:
            major = int((self.data_dir / "PG_VERSION").read_text().strip().split(".")[0])
        except (OSError, ValueError):
            major = 0
        lines = monitoring_settings(available_preload_libraries(bindir), database=self.database,
                                    slow_ms=slow_query_ms(), server_major=major)
        conf = self.data_dir / MONITORING_CONF
        conf.write_text("# written by pyexchange at every start: see pyexchange/server.py\n"
                        + "\n".join(lines) + "\n", encoding="utf-8")
        main_conf = self.data_dir / "postgresql.conf"
        include = f"include_if_exists = '{MONITORING_CONF}'"
        if include not in main_conf.read_text(encoding="utf-8"):
            with open(main_conf, "a", encoding="utf-8") as fh:
                fh.write(f"\n# pyexchange: preloaded libraries, slow-statement log, pg_cron\n"
                         f"{include}\n")
        if self.run_as is not None and os.geteuid() == 0:
            pw = pwd.getpwnam(self.run_as)
            os.chown(conf, pw.pw_uid, pw.pw_gid)

    def status(self) -> ServerStatus:
        running, pid = False, None
        if self.is_initialised():
            pidfile = self.data_dir / "postmaster.pid"
            proc = self._run([str(self.bindir() / "pg_ctl"), "status", "-D", str(self.data_dir)],
                             check=False)
            running = proc.returncode == 0
            if running and pidfile.exists():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    pid = int(pidfile.read_text().splitlines()[0])
        return ServerStatus(self.base_dir, self.data_dir, self.socket_dir,
                            self.is_initialised(), running, pid, self.conninfo())

    def start(self, listen: str | None = None) -> str:
        """Initialise (first use), start if stopped, create and migrate the database (first
        use); return the database's conninfo (the unix socket's).

        ``listen="HOST:PORT"`` also listens on TCP with TLS only (remembered; ``""`` goes back
        to the unix socket only; None keeps what was chosen before). A running server whose
        network settings change is restarted."""
        bindir = self.bindir()
        with self._locked():
            if listen is not None:
                if listen:
                    parse_listen(listen)
                self.base_dir.mkdir(parents=True, exist_ok=True)
                self.listen_file.write_text(listen.strip() + "\n" if listen else "",
                                            encoding="utf-8")
            self._prepare_dirs()
            if not self.is_initialised():
                self._initdb(bindir)
            changed = self._write_network_settings()
            running = self.status().running
            if running and changed:
                self._write_monitoring_conf(bindir)
                self._run([str(bindir / "pg_ctl"), "restart", "-D", str(self.data_dir),
                           "-l", str(self.log_file), "-m", "fast", "-w", "-t", "60", "-s"])
            elif not running:
                self._write_monitoring_conf(bindir)
                self._run([str(bindir / "pg_ctl"), "start", "-D", str(self.data_dir),
                           "-l", str(self.log_file), "-w", "-t", "60", "-s"])
            self._ensure_database()
        return self.conninfo()

    # --- TCP with TLS only (--listen) -----------------------------------------------------
    NETWORK_CONF = "pyexchange_network.conf"

    def _write_network_settings(self) -> bool:
        """Write the listen/TLS settings (``data/pyexchange_network.conf``, included from
        postgresql.conf) and ``pg_hba.conf`` for the current choice; True when either
        changed. Socket only: ``local`` trust and nothing else. Listening: the same, plus
        ``hostssl`` with scram-sha-256 from anywhere, and no plain ``host`` line, so a
        connection without TLS finds no entry and is refused."""
        address = self.listen_address()
        lines = ["# written by pyexchange (server start --listen); do not edit"]
        hba = ["# written by pyexchange: unix socket (private directory) trusted;",
               "# TCP only with TLS and a SCRAM password",
               "local all all trust", "local replication all trust"]
        if address is None:
            lines += ["listen_addresses = ''", f"port = {PORT}", "ssl = off"]
        else:
            host, port = address
            self._ensure_certificates(host)
            lines += [f"listen_addresses = '{host}'", f"port = {port}", "ssl = on",
                      f"ssl_cert_file = '{self.tls_dir / 'server.crt'}'",
                      f"ssl_key_file = '{self.tls_dir / 'server.key'}'",
                      "ssl_min_protocol_version = 'TLSv1.2'",
                      "password_encryption = 'scram-sha-256'"]
            hba += ["hostssl all all 0.0.0.0/0 scram-sha-256",
                    "hostssl all all ::/0 scram-sha-256"]
        changed = False
        for path, text in ((self.data_dir / self.NETWORK_CONF, "\n".join(lines) + "\n"),
                           (self.data_dir / "pg_hba.conf", "\n".join(hba) + "\n")):
            try:
                old = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                old = None
            if old != text:
                path.write_text(text, encoding="utf-8")
                self._give_to_server_user(path, 0o600)
                changed = True
        conf = self.data_dir / "postgresql.conf"
        include = f"include_if_exists = '{self.NETWORK_CONF}'"
        if include not in conf.read_text(encoding="utf-8"):
            with open(conf, "a", encoding="utf-8") as fh:
                fh.write(f"\n# pyexchange: listen/TLS settings (server start --listen)\n{include}\n")
            changed = True
        return changed

    def _give_to_server_user(self, path: Path, mode: int) -> None:
        path.chmod(mode)
        if self.run_as is not None and os.geteuid() == 0:
            pw = pwd.getpwnam(self.run_as)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _ensure_certificates(self, host: str) -> None:
        """A CA (made once, kept) and a server certificate for ``host`` (and localhost,
        127.0.0.1, ::1 and this machine's name), signed by it, in ``<base>/tls``; the server
        certificate is made again when the names it must carry change."""
        from pyexchange import tls

        self.tls_dir.mkdir(exist_ok=True)
        self.tls_dir.chmod(0o700)
        if self.run_as is not None and os.geteuid() == 0:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.tls_dir, pw.pw_uid, pw.pw_gid)
        names = tls.server_names(host)
        written = tls.ensure_ca_and_server_cert(self.tls_dir, names)
        for name in written:
            self._give_to_server_user(self.tls_dir / name,
                                      0o600 if name.endswith(".key") else 0o644)

    def ensure_running(self) -> str:
        """The conninfo of the embedded database, starting (and creating) it when needed."""
        if self.is_initialised() and (self.data_dir / "postmaster.pid").exists():
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=5):
                    return self.conninfo()
            except psycopg.Error:
                pass
        return self.start()

    def stop(self) -> bool:
        """Stop the server (fast shutdown); False when it was not running."""
        if not self.is_initialised():
            return False
        with self._locked():
            if not self.status().running:
                return False
            self._run([str(self.bindir() / "pg_ctl"), "stop", "-D", str(self.data_dir),
                       "-m", "fast", "-w", "-t", "60", "-s"])
        return True

    def reset(self) -> str:
        """Drop the embedded database and create it again, migrated (its data is lost; the
        cluster stays). For development, when the migrations were edited in place."""
        self.start()
        with self._locked():
            with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)))
            self._ensure_database()
        return self.conninfo()

    def _ensure_database(self) -> None:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (self.database,)).fetchone()
            if exists:
                return
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        if self.migrate_on_create:
            from pyexchange.migrate import Migrator

            try:
                # pgaudit would log the whole script once per DDL statement (megabytes); this
                # build from the versioned scripts is not an event to audit
                Migrator(make_conninfo(self.conninfo(), options="-c pgaudit.log=none")).migrate()
            except BaseException:
                # leave no half-made database behind: the next use starts over
                with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(self.database)))
                raise
