"""Physical backups and point-in-time recovery through pgBackRest (Debian's ``pgbackrest``).

pyexchange does not copy files itself: pgBackRest takes the backups (full, differential,
incremental; checksummed, compressed), archives the WAL (``archive_command``), expires old
backups (retention), verifies the repository and restores. This module drives it:

* :class:`Repository` names one pgBackRest stanza: its configuration file (``None``: the
  tool's default, ``/etc/pgbackrest/pgbackrest.conf`` or Debian's ``/etc/pgbackrest.conf``),
  its name and the system user that
  owns the cluster (pgBackRest must run as that user).
* :func:`setup_embedded` configures the embedded server (:mod:`pyexchange.server`) on first
  use: a repository under its home (``<home>/backup``), ``archive_mode`` and
  ``archive_command`` (``ALTER SYSTEM`` on that private cluster, restarting it when
  ``archive_mode`` was off) and the stanza.
* :func:`render_config` prints what an operator applies to an external server.
* :func:`restore_copy` restores into a NEW data directory and starts it on its own unix socket
  (``archive_mode = off``, so the copy never writes into the repository), waits for the end
  of recovery and checks it (``exchange.reconcile()`` and the trading invariants).
  :func:`restore_in_place` is the real disaster recovery and is only reached explicitly.
* :func:`fingerprint` (row count and an order-independent hash of every row, per table)
  compares two databases; the drill (:mod:`pyexchange.drill`) and the logical restore
  (:mod:`pyexchange.dump`) use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from pyexchange.errors import (
    BackupFailed,
    BackupNotConfigured,
    RestoreFailed,
    RestoreTargetNotEmpty,
)
from pyexchange.queries import query
from pyexchange.server import _current_user

STANZA = "pyexchange"
BACKUP_TYPES = ("full", "diff", "incr")
#: Port number in the restored copy's socket name (``.s.PGSQL.<port>``); no TCP port opens.
RESTORE_PORT = 5432
PGBACKREST_HINT = ("install pgBackRest (Debian/Ubuntu: sudo apt-get install pgbackrest) and, "
                   "for an external server, apply `pyexchange backup config` (docs/operations.md)")


def as_user(argv: Sequence[str], run_as: str | None) -> list[str]:
    """``argv`` run as ``run_as`` (through runuser when root), or as is."""
    if run_as is None or run_as == _current_user():
        return list(argv)
    if os.geteuid() != 0:
        raise BackupNotConfigured(f"only root can run {Path(argv[0]).name} as {run_as}",
                                  hint="run pyexchange as the cluster's owner, or as root")
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if os.access(runuser, os.X_OK):
        return [runuser, "-u", run_as, "--", *argv]
    return ["su", "-s", "/bin/sh", run_as, "-c", shlex.join(argv)]


def chown_to(path: Path, run_as: str | None) -> None:
    """Give ``path`` to ``run_as`` (when root), so that the cluster's owner can use it."""
    if run_as is None or os.geteuid() != 0:
        return
    pw = pwd.getpwnam(run_as)
    os.chown(path, pw.pw_uid, pw.pw_gid)


def run_command(argv: Sequence[str], run_as: str | None, *, timeout: float,
                cwd: str | os.PathLike[str] = "/") -> subprocess.CompletedProcess[str]:
    """Run a tool as the cluster's owner, without the caller's libpq environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    try:
        return subprocess.run(as_user(argv, run_as), cwd=cwd, env=env, text=True,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except FileNotFoundError as exc:
        raise BackupNotConfigured(f"cannot run {argv[0]}: {exc}", hint=PGBACKREST_HINT) from exc
    except subprocess.TimeoutExpired as exc:
        raise BackupFailed(f"{Path(argv[0]).name} {' '.join(argv[1:3])} did not finish in "
                           f"{timeout:.0f} s") from exc


# --- the repository ----------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupInfo:
    """One backup of the stanza, as ``pgbackrest info`` reports it."""

    label: str
    type: str
    started: datetime
    stopped: datetime
    size: int            # bytes of the cluster
    repo_size: int       # bytes stored in the repository (compressed; this backup alone)
    wal_start: str
    wal_stop: str
    prior: str | None


@dataclass(frozen=True)
class StanzaInfo:
    name: str
    status: str
    backups: tuple[BackupInfo, ...]
    wal_min: str | None
    wal_max: str | None

    @property
    def recoverable_from(self) -> datetime | None:
        """The earliest time a restore can reach: the end of the oldest backup."""
        return self.backups[0].stopped if self.backups else None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Repository:
    """One pgBackRest stanza: ``config`` None means pgBackRest's default file."""

    stanza: str = STANZA
    config: Path | None = None
    run_as: str | None = None
    timeout: float = 3600.0

    def argv(self, command: str, *options: str) -> list[str]:
        exe = shutil.which("pgbackrest") or "/usr/bin/pgbackrest"
        base = [exe]
        if self.config is not None:
            base.append(f"--config={self.config}")
        return [*base, f"--stanza={self.stanza}", *options, command]

    def run(self, command: str, *options: str, check: bool = True,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        if shutil.which("pgbackrest") is None and not os.access("/usr/bin/pgbackrest", os.X_OK):
            raise BackupNotConfigured("pgbackrest is not installed", hint=PGBACKREST_HINT)
        proc = run_command(self.argv(command, *options), self.run_as,
                           timeout=timeout or self.timeout)
        if check and proc.returncode != 0:
            out = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            message = next((line for line in out if "ERROR" in line), out[-1] if out else "")
            cls = BackupNotConfigured if re.search(
                r"ERROR: \[(055|037|038|028|103)\]", message) else BackupFailed
            raise cls(f"pgbackrest {command} failed (exit {proc.returncode}): {message}",
                      detail="\n".join(out[-10:]) or None,
                      hint=PGBACKREST_HINT if cls is BackupNotConfigured else None)
        return proc

    # --- commands -----------------------------------------------------------------------------
    def stanza_create(self) -> None:
        self.run("stanza-create", "--log-level-console=warn")

    def check(self) -> None:
        """``pgbackrest check``: the configuration is right and the current WAL segment
        reaches the archive (it forces a WAL switch and waits for it)."""
        self.run("check", "--log-level-console=warn")

    def backup(self, type_: str = "full") -> BackupInfo:
        if type_ not in BACKUP_TYPES:
            raise BackupFailed(f"unknown backup type {type_!r}", hint="full, diff or incr")
        before = {b.label for b in self.info().backups}
        self.run("backup", f"--type={type_}", "--log-level-console=warn")
        made = [b for b in self.info().backups if b.label not in before]
        if not made:
            raise BackupFailed("pgbackrest backup reported success but no new backup is listed")
        return made[-1]

    def info(self) -> StanzaInfo:
        proc = self.run("info", "--output=json")
        try:
            data: list[dict[str, Any]] = json.loads(proc.stdout)
        except ValueError as exc:
            raise BackupFailed(f"cannot read pgbackrest info: {exc}") from exc
        stanza = next((s for s in data if s.get("name") == self.stanza), None)
        if stanza is None:
            raise BackupNotConfigured(f"pgbackrest knows no stanza {self.stanza!r}",
                                      hint=PGBACKREST_HINT)
        status = stanza.get("status", {}).get("message", "?")
        if stanza.get("status", {}).get("code") == 1:  # missing stanza path
            raise BackupNotConfigured(f"stanza {self.stanza!r}: {status}",
                                      hint="run pgbackrest stanza-create (docs/operations.md)")
        backups = tuple(
            BackupInfo(
                label=b["label"], type=b["type"],
                started=datetime.fromtimestamp(b["timestamp"]["start"], UTC),
                stopped=datetime.fromtimestamp(b["timestamp"]["stop"], UTC),
                size=int(b["info"]["size"]), repo_size=int(b["info"]["repository"]["delta"]),
                wal_start=b["archive"]["start"], wal_stop=b["archive"]["stop"],
                prior=b.get("prior"))
            for b in stanza.get("backup", []) if not b.get("error"))
        archives = stanza.get("archive") or []
        wal_min = min((a["min"] for a in archives if a.get("min")), default=None)
        wal_max = max((a["max"] for a in archives if a.get("max")), default=None)
        return StanzaInfo(self.stanza, status, backups, wal_min, wal_max)

    def verify(self) -> VerifyResult:
        """``pgbackrest verify``: every file of every backup and of the WAL archive is read
        and checked against its checksum. pgBackRest 2.45 exits 0 even when it finds invalid
        files, so its report is read: any ``status: error`` or invalid file fails."""
        proc = self.run("verify", "--log-level-console=info")
        lines = [re.sub(r"^\S+ \S+ P\d+ +\w+: ", "", line) for line in
                 (proc.stdout + proc.stderr).splitlines()]
        report = tuple(line for line in lines
                       if line.strip() and not re.match(r"verify command (begin|end)", line))
        bad = any(re.search(r"status: error|invalid|missing|ERROR", line) for line in report)
        return VerifyResult(not bad, report)

    def restore(self, *options: str) -> None:
        self.run("restore", "--log-level-console=warn", *options)


def _target_options(to: datetime | None) -> list[str]:
    if to is None:  # the end of the archived WAL, then promote
        return ["--type=default"]
    return ["--type=time", f"--target={to.isoformat(sep=' ')}", "--target-action=promote"]


def parse_time(text: str) -> datetime:
    """A recovery target: an ISO timestamp; without a zone it is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise RestoreFailed(f"not a timestamp: {text!r}",
                            hint="e.g. '2026-12-06 01:30:00+00'") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- the embedded server ----------------------------------------------------------------------
def embedded_repository(server: Any) -> Repository:
    """The stanza of the embedded server (``<home>/backup/pgbackrest.conf``)."""
    return Repository(STANZA, Path(server.base_dir) / "backup" / "pgbackrest.conf", server.run_as)


def _embedded_conf(server: Any, backup_dir: Path) -> str:
    return (
        "# pgBackRest for the pyexchange embedded server (written by pyexchange; see\n"
        "# docs/operations.md, 'Backups and restore')\n"
        "[global]\n"
        f"repo1-path={backup_dir / 'repo'}\n"
        "repo1-retention-full=2\n"
        "repo1-retention-diff=6\n"
        "compress-type=zst\n"
        "start-fast=y\n"
        "archive-check=y\n"
        f"log-path={backup_dir / 'log'}\n"
        f"lock-path={backup_dir / 'lock'}\n"
        f"spool-path={backup_dir / 'spool'}\n"
        "log-level-file=info\n"
        "\n"
        f"[{STANZA}]\n"
        f"pg1-path={server.data_dir}\n"
        f"pg1-socket-path={server.socket_dir}\n"
        f"pg1-port={_server_port(server)}\n"
        f"pg1-user={server.superuser}\n"
    )


def _server_port(server: Any) -> int:
    from pyexchange import server as server_mod

    return int(getattr(server, "port", server_mod.PORT))


def archive_command(repo: Repository) -> str:
    exe = shutil.which("pgbackrest") or "/usr/bin/pgbackrest"
    config = f" --config={shlex.quote(str(repo.config))}" if repo.config else ""
    return f"{exe}{config} --stanza={repo.stanza} archive-push %p"


def setup_embedded(server: Any, *, log: Any = None) -> Repository:
    """Configure WAL archiving and the stanza of the embedded server (idempotent): the
    repository, logs and locks live in ``<home>/backup``; ``archive_mode`` and
    ``archive_command`` are set with ALTER SYSTEM on that private cluster, which is restarted
    when ``archive_mode`` was off."""
    say = log or (lambda _msg: None)
    if shutil.which("pgbackrest") is None and not os.access("/usr/bin/pgbackrest", os.X_OK):
        # never turn archiving on with a command that cannot run: WAL would pile up
        raise BackupNotConfigured("pgbackrest is not installed", hint=PGBACKREST_HINT)
    repo = embedded_repository(server)
    assert repo.config is not None
    backup_dir = repo.config.parent
    server.ensure_running()
    backup_dir.mkdir(parents=True, exist_ok=True)
    chown_to(backup_dir, server.run_as)
    for sub in ("repo", "log", "lock", "spool"):
        (backup_dir / sub).mkdir(exist_ok=True)
        (backup_dir / sub).chmod(0o750)
        chown_to(backup_dir / sub, server.run_as)
    text = _embedded_conf(server, backup_dir)
    if not repo.config.exists() or repo.config.read_text(encoding="utf-8") != text:
        repo.config.write_text(text, encoding="utf-8")
        chown_to(repo.config, server.run_as)
    wanted = archive_command(repo)
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        mode = conn.execute(query("backup_archive_mode")).fetchone()
        command = conn.execute(query("backup_archive_command")).fetchone()
        restart = mode is None or mode[0] != "on"
        changed = command is None or command[0] != wanted
        if restart:
            conn.execute("ALTER SYSTEM SET archive_mode = 'on'")
        if changed:
            conn.execute(sql.SQL("ALTER SYSTEM SET archive_command = {}").format(
                sql.Literal(wanted)))
            if not restart:
                conn.execute("SELECT pg_reload_conf()")
    if restart:
        say("WAL archiving turned on: restarting the embedded server")
        server.stop()
        server.start()
    stanza_ok = True
    try:
        repo.info()
    except BackupNotConfigured:
        stanza_ok = False
    if not stanza_ok or restart or changed:
        repo.stanza_create()
        repo.check()
        if not stanza_ok:
            say(f"pgBackRest stanza {repo.stanza!r} created in {backup_dir / 'repo'}")
    return repo


# --- printed for an external server ------------------------------------------------------------
def render_config(*, stanza: str = STANZA, pg_path: str = "/var/lib/postgresql/15/main",
                  pg_port: int = 5432, socket_path: str = "/var/run/postgresql",
                  repo_path: str = "/var/lib/pgbackrest", retention_full: int = 2,
                  config: str | None = None) -> tuple[str, str]:
    """(pgbackrest.conf, postgresql.conf lines) for an external server."""
    conf = (
        "# /etc/pgbackrest.conf on Debian (elsewhere /etc/pgbackrest/pgbackrest.conf);\n"
        "# owner postgres, mode 0640\n"
        "[global]\n"
        f"repo1-path={repo_path}\n"
        f"repo1-retention-full={retention_full}\n"
        f"repo1-retention-diff={3 * retention_full}\n"
        "compress-type=zst\n"
        "start-fast=y\n"
        "process-max=2\n"
        "log-level-file=info\n"
        "# a second repository off this host (S3, SFTP or another disk) is what survives the\n"
        "# loss of the machine: add repo2-* lines, e.g. repo2-type=s3 ...\n"
        "\n"
        f"[{stanza}]\n"
        f"pg1-path={pg_path}\n"
        f"pg1-port={pg_port}\n"
        f"pg1-socket-path={socket_path}\n"
    )
    cfg = f" --config={config}" if config else ""
    pg = (
        "# postgresql.conf (then restart the server)\n"
        "wal_level = replica\n"
        "archive_mode = on\n"
        f"archive_command = 'pgbackrest{cfg} --stanza={stanza} archive-push %p'\n"
        "archive_timeout = 60          # a quiet server still archives a segment each minute\n"
        "max_wal_senders = 3\n"
    )
    return conf, pg


# --- restoring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RestoredCluster:
    """A restored copy, running on its own socket."""

    data_dir: Path
    socket_dir: Path
    port: int
    conninfo: str
    target: str
    problems: tuple[tuple[str, str], ...]   # (check, detail): reconcile() and trading checks
    seconds: float                          # from the start of the restore to a ready copy
    run_as: str | None

    def stop(self, bindir: Path) -> None:
        stop_cluster(bindir, self.data_dir, self.run_as)


def stop_cluster(bindir: Path, data_dir: Path, run_as: str | None) -> None:
    if (data_dir / "postmaster.pid").exists():
        run_command([str(bindir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "fast", "-w",
                     "-t", "60", "-s"], run_as, timeout=90)


def _prepare_target(target: Path, run_as: str | None) -> None:
    if target.exists():
        if not target.is_dir() or any(target.iterdir()):
            raise RestoreTargetNotEmpty(
                f"the restore target {target} exists and is not empty",
                hint="give a new directory: a restore never writes over existing files "
                     "(restoring the cluster itself is --in-place --yes)")
    else:
        target.mkdir(parents=True)
    target.chmod(0o700)
    chown_to(target, run_as)
    if len(str(target / f".s.PGSQL.{RESTORE_PORT}")) > 100:
        raise RestoreFailed(f"the path {target} is too long for the copy's unix socket",
                            hint="choose a shorter target directory")


def health_problems(conninfo: str) -> tuple[tuple[str, str], ...]:
    """``exchange.reconcile()`` and the trading invariants (no crossed book, ...) as
    (check, detail) rows; empty when the database is sound."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = [(f"reconcile: {r[0]}", " ".join(str(v) for v in r[1:] if v is not None))
                for r in conn.execute(query("reconcile")).fetchall()]
        rows += [(str(r[0]), str(r[1])) for r in
                 conn.execute(query("demo_trading_checks")).fetchall()]
    return tuple(rows)


def _wait_promoted(conninfo: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                if row is not None and row[0] is False:
                    return
        except psycopg.Error as exc:
            last = exc
        time.sleep(0.2)
    raise RestoreFailed(f"the restored copy did not finish recovery in {timeout:.0f} s",
                        detail=str(last) if last else None)


def restore_copy(repo: Repository, target: Path, *, to: datetime | None, bindir: Path,
                 superuser: str, dbname: str, port: int = RESTORE_PORT,
                 timeout: float = 600) -> RestoredCluster:
    """Restore the stanza into the new directory ``target`` (to the time ``to``, or the end of
    the archive), start it on a unix socket in ``target`` itself (mode 0700: only the owner
    reaches it; no TCP port), wait for the end of recovery and check it. The running cluster
    is not touched; the copy archives nothing (``archive_mode = off``)."""
    started = time.monotonic()
    target = target.resolve()
    if to is not None:
        info = repo.info()
        first = info.recoverable_from
        if first is None or to.timestamp() < first.timestamp() + 1:
            raise RestoreFailed(
                f"no backup ends before {to.isoformat()}"
                + (f" (the oldest ends at {first.isoformat()})" if first else " (no backup)"),
                hint="a point in time is reachable from the end of the oldest kept backup on")
    created = not target.exists()
    _prepare_target(target, repo.run_as)
    try:
        return _restore_and_start(repo, target, to=to, bindir=bindir, superuser=superuser,
                                  dbname=dbname, port=port, timeout=timeout, started=started)
    except BaseException:
        # leave nothing half-restored behind: the directory was new or empty
        with contextlib.suppress(Exception):
            stop_cluster(bindir, target, repo.run_as)
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def _restore_and_start(repo: Repository, target: Path, *, to: datetime | None, bindir: Path,
                       superuser: str, dbname: str, port: int, timeout: float,
                       started: float) -> RestoredCluster:
    repo.restore(f"--pg1-path={target}", *_target_options(to))
    conf = target / "postgresql.conf"
    if not conf.exists():  # Debian keeps the configuration in /etc/postgresql
        conf.write_text("# written by pyexchange backup restore (the source kept its "
                        "configuration elsewhere)\n", encoding="utf-8")
        chown_to(conf, repo.run_as)
    hba = target / "pg_hba.conf"
    if not hba.exists():
        hba.write_text("# pyexchange backup restore: the socket directory is private (0700)\n"
                       "local all all trust\n", encoding="utf-8")
        chown_to(hba, repo.run_as)
    with open(target / "postgresql.auto.conf", "a", encoding="utf-8") as auto:
        auto.write(
            "\n# pyexchange backup restore: a copy on its own private socket, archiving nothing\n"
            "listen_addresses = ''\n"
            f"port = {port}\n"
            f"unix_socket_directories = '{target}'\n"
            "unix_socket_permissions = 0700\n"
            "archive_mode = off\n"
            f"hba_file = '{hba}'\n"
            "ssl = off\n"
        )
    log = target / "restore.log"
    proc = run_command([str(bindir / "pg_ctl"), "start", "-D", str(target), "-l", str(log),
                        "-w", "-t", str(int(timeout)), "-s"], repo.run_as, timeout=timeout + 30)
    if proc.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else ""
        tail = text.splitlines()[-12:]
        early = "recovery ended before configured recovery target was reached" in text
        raise RestoreFailed(
            "the restored copy did not start: "
            + ("the archive ends before the target time" if early else f"see {log}"),
            detail="\n".join(tail) or proc.stderr.strip() or None,
            hint=("recovery stops at the first commit after the target time; no such commit "
                  "is archived yet: choose an earlier time, or let the server commit and "
                  "archive (pyexchange backup restore does both when it can reach the server)"
                  ) if early else None)
    conninfo = make_conninfo(host=str(target), port=str(port), user=superuser, dbname=dbname)
    _wait_promoted(conninfo, timeout)
    problems = health_problems(conninfo)
    return RestoredCluster(target, target, port, conninfo,
                           to.isoformat() if to else "latest", problems,
                           time.monotonic() - started, repo.run_as)


def archive_now(repo: Repository, conninfo: str | None) -> str | None:
    """Before a restore: commit an empty transaction with a transaction id on the source (a
    commit record after any target time already past: recovery to a time stops at the
    first commit after it) and push the current WAL segment to the archive
    (``pgbackrest check``). Returns why it could not, or None."""
    try:
        if conninfo is not None:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(query("backup_commit_marker"))
        repo.check()
    except (psycopg.Error, BackupFailed, BackupNotConfigured) as exc:
        return str(exc).strip().splitlines()[0]
    return None


def restore_in_place(repo: Repository, *, to: datetime | None) -> None:
    """Restore over the cluster's own data directory (``--delta``: only changed files are
    written). The cluster must be stopped (pgBackRest refuses otherwise)."""
    repo.restore("--delta", *_target_options(to))


# --- comparing databases -----------------------------------------------------------------------
@dataclass(frozen=True)
class TableRows:
    table: str
    rows: int
    digest: str


def _session_settings(conn: psycopg.Connection[Any]) -> None:
    # the text form of a row must not depend on the session
    conn.execute("SET TimeZone = 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    conn.execute("SET IntervalStyle = 'postgres'")
    conn.execute("SET extra_float_digits = 3")
    conn.execute("SET bytea_output = 'hex'")


def fingerprint(conn: psycopg.Connection[Any], schemas: Sequence[str] = ("exchange",),
                ) -> dict[str, TableRows]:
    """Per table (leaf partitions included, parents excluded): its row count and an
    order-independent digest of its rows (a sum of 64-bit hashes of each row's text), read in
    the connection's current snapshot."""
    _session_settings(conn)
    tables = conn.execute(query("backup_tables"), {"schemas": list(schemas)}).fetchall()
    result: dict[str, TableRows] = {}
    for schema, name in tables:
        ident = sql.Identifier(schema, name)
        row = conn.execute(sql.SQL(
            "SELECT count(*), COALESCE(sum(hashtextextended(t::text, 0)::numeric), 0)::text "
            "FROM {} AS t").format(ident)).fetchone()
        assert row is not None
        key = f"{schema}.{name}"
        result[key] = TableRows(key, int(row[0]), str(row[1]))
    return result


def compare(expected: dict[str, TableRows], actual: dict[str, TableRows], *,
            allow_extra_empty: bool = False) -> list[str]:
    """The differences between two fingerprints, one line each (empty: identical). With
    ``allow_extra_empty`` a table that only ``actual`` has is fine while it is empty."""
    out: list[str] = []
    for table in sorted(set(expected) | set(actual)):
        e, a = expected.get(table), actual.get(table)
        if e is None:
            if not (allow_extra_empty and a is not None and a.rows == 0):
                out.append(f"{table}: not expected, has {a.rows if a else 0} rows")
        elif a is None:
            out.append(f"{table}: missing (expected {e.rows} rows)")
        elif e.rows != a.rows:
            out.append(f"{table}: {a.rows} rows, expected {e.rows}")
        elif e.digest != a.digest:
            out.append(f"{table}: {a.rows} rows as expected but their contents differ")
    return out
