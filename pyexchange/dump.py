"""Logical backups that restore: ``pyexchange db dump FILE`` and ``pyexchange db restore FILE``.

A dump file is a tar archive of two members:

* ``database.dump``: ``pg_dump --format=custom`` of the database (everything, or the data only
  with ``--data-only``), taken in an exported snapshot;
* ``manifest.json``: what a restore needs and how to check it, read in that same snapshot:
  the roles the database refers to (owners, grantees, the ``exchange_*`` groups and their
  members; never passwords), the extensions, the migration history (yoyo's
  ``_yoyo_migration``), and per table its row count and a digest of its rows.

``restore`` (as a superuser: it creates roles and the dblink extension, which is not
trusted) creates the missing roles and memberships, then

* a full dump: into an EMPTY database (refused otherwise), with ``pg_restore
  --single-transaction --exit-on-error``: schema, extensions, migration history and rows;
* a data-only dump: into a database migrated to the same changes (refused otherwise). The
  migrations seed rows (roles, permissions, KYC limits, settings, event types) and triggers
  create rows (market state, system accounts), so loading the rows on top of them collides.
  The restore therefore runs, in ONE transaction (psql ``--single-transaction``), with
  ``session_replication_role = replica`` (no trigger fires: no audit row, no derived row, no
  foreign-key check while tables load in dump order): ``TRUNCATE`` of every table the dump
  holds, then the dump's rows and sequence values. Either all of it lands or nothing changes.

Afterwards every table is compared with the manifest (row count and digest), and
``exchange.reconcile()`` and the trading invariants must be empty (unless the source already
failed them, as recorded): any difference raises :class:`~pyexchange.errors.RestoreMismatch`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.backup import TableRows, compare, fingerprint, health_problems
from pyexchange.errors import (
    DumpIncompatible,
    RestoreFailed,
    RestoreMismatch,
    RestoreNeedsSuperuser,
    RestoreTargetNotEmpty,
)
from pyexchange.queries import query

FORMAT = "pyexchange-dump"
VERSION = 1
SCHEMAS = ("exchange", "public")
MANIFEST = "manifest.json"
ARCHIVE = "database.dump"


@dataclass(frozen=True)
class DumpResult:
    path: Path
    data_only: bool
    tables: int
    rows: int
    roles: int
    seconds: float


@dataclass(frozen=True)
class RestoreResult:
    data_only: bool
    tables: int
    rows: int
    roles_created: tuple[str, ...]
    notes: tuple[str, ...]
    seconds: float


def _tool(name: str) -> str:
    """pg_dump, pg_restore or psql: from the server binaries pyexchange uses, else PATH."""
    from pyexchange.errors import ConfigurationError
    from pyexchange.server import find_bindir

    try:
        path = find_bindir() / name
        if os.access(path, os.X_OK):
            return str(path)
    except ConfigurationError:
        pass
    found = shutil.which(name)
    if found is None:
        raise RestoreFailed(f"{name} is not installed",
                            hint="install the PostgreSQL client (apt-get install postgresql-client)")
    return found


def _libpq(conninfo: str) -> tuple[str, dict[str, str]]:
    """The conninfo for a tool's command line without its password (which would show in the
    process list), and the password as PGPASSWORD."""
    params = conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None}), (
        {"PGPASSWORD": str(password)} if password else {})


def _run(argv: list[str], *, stdin: Any = None, timeout: float = 3600,
         env_extra: dict[str, str] | None = None) -> str:
    # the libpq environment stays (an empty conninfo means: use it); no statement timeout
    env = dict(os.environ)
    env.update(env_extra or {})
    env["LC_ALL"] = "C"
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c statement_timeout=0").strip()
    try:
        proc = subprocess.run(argv, env=env, text=True, capture_output=True, timeout=timeout,
                              stdin=stdin if stdin is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise RestoreFailed(f"{Path(argv[0]).name} did not finish in {timeout:.0f} s") from exc
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise RestoreFailed(f"{Path(argv[0]).name} failed (exit {proc.returncode}): "
                            f"{lines[0] if lines else ''}",
                            detail="\n".join(lines[:15]) or None)
    return proc.stdout


# --- dump --------------------------------------------------------------------------------------
def _roles(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute(query("dump_roles")).fetchall()
    return [{"name": r[0], "login": r[1], "inherit": r[2], "member_of": list(r[3] or []),
             "superuser": r[4]} for r in rows]


def _migrations(conn: psycopg.Connection[Any]) -> list[str]:
    if conn.execute("SELECT to_regclass('public._yoyo_migration')").fetchone() == (None,):
        return []
    return [r[0] for r in conn.execute(query("dump_migrations")).fetchall()]


def dump(conninfo: str, path: Path, *, data_only: bool = False) -> DumpResult:
    """Write a dump file of the database ``conninfo`` names (see the module docstring)."""
    started = time.monotonic()
    path = Path(path)
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = conn.execute(query("dump_snapshot")).fetchone()
        assert row is not None
        snapshot, server_version, database, socket_dir = row
        if conn.execute("SELECT to_regnamespace('exchange')").fetchone() == (None,):
            raise DumpIncompatible(f"database {database} has no schema exchange",
                                   hint="dump a pyexchange database")
        migrations = _migrations(conn)
        tables = fingerprint(conn, SCHEMAS)
        problems = [list(p) for p in _problems_in(conn)]
        manifest = {
            "format": FORMAT, "version": VERSION,
            "created": datetime.now(UTC).isoformat(),
            "database": database, "server_version": server_version,
            "socket_dir": socket_dir, "data_only": data_only,
            "migrations": migrations, "roles": _roles(conn),
            "extensions": [{"name": r[0], "schema": r[1], "version": r[2]}
                           for r in conn.execute(query("dump_extensions")).fetchall()],
            "tables": {k: {"rows": v.rows, "digest": v.digest} for k, v in tables.items()},
            "problems": problems,
        }
        with tempfile.TemporaryDirectory(prefix="pyx-dump-") as tmp:
            archive = Path(tmp) / ARCHIVE
            target, secret = _libpq(conninfo)
            argv = [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}",
                    "--no-sync", f"--file={archive}", f"--dbname={target}"]
            if data_only:
                argv.append("--data-only")
            _run(argv, env_extra=secret)
            conn.rollback()
            (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            partial = path.with_name(path.name + ".partial")
            with tarfile.open(partial, "w") as tar:
                tar.add(Path(tmp) / MANIFEST, arcname=MANIFEST)
                tar.add(archive, arcname=ARCHIVE)
            partial.replace(path)
    return DumpResult(path, data_only, len(tables), sum(t.rows for t in tables.values()),
                      len(manifest["roles"]), time.monotonic() - started)


def _problems_in(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    rows = [(f"reconcile: {r[0]}", " ".join(str(v) for v in r[1:] if v is not None))
            for r in conn.execute(query("reconcile")).fetchall()]
    rows += [(str(r[0]), str(r[1])) for r in conn.execute(query("demo_trading_checks")).fetchall()]
    return rows


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(member.read().decode("utf-8"))
    except (OSError, KeyError, ValueError, tarfile.TarError) as exc:
        raise DumpIncompatible(f"{path} is not a pyexchange dump file ({exc})",
                               hint="make one with pyexchange db dump; a plain pg_dump archive "
                                    "restores with pg_restore (docs/operations.md)") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise DumpIncompatible(f"{path}: unknown dump format {manifest.get('format')!r} "
                               f"version {manifest.get('version')!r}")
    return manifest


# --- restore -----------------------------------------------------------------------------------
def _ensure_roles(conn: psycopg.Connection[Any], roles: list[dict[str, Any]]) -> list[str]:
    """Create the roles that do not exist (never as superusers; LOGIN roles without a
    password), then the memberships among them; existing roles keep their attributes."""
    created: list[str] = []
    existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles").fetchall()}
    for role in roles:
        if role["name"] in existing:
            continue
        conn.execute(sql.SQL("CREATE ROLE {} {} {}").format(
            sql.Identifier(role["name"]),
            sql.SQL("LOGIN" if role["login"] else "NOLOGIN"),
            sql.SQL("INHERIT" if role["inherit"] else "NOINHERIT")))
        created.append(role["name"] + (" (a superuser at the source; created without "
                                       "SUPERUSER)" if role.get("superuser") else ""))
        existing.add(role["name"])
    for role in roles:
        for group in role["member_of"]:
            if group in existing:
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group),
                                                              sql.Identifier(role["name"])))
    return created


def _check_empty(conn: psycopg.Connection[Any], database: str) -> None:
    row = conn.execute(query("restore_target_contents")).fetchone()
    assert row is not None
    schemas, tables, extensions = row
    if schemas or tables or extensions:
        raise RestoreTargetNotEmpty(
            f"database {database} is not empty (schemas: {', '.join(schemas or []) or '-'}; "
            f"tables: {tables}; extensions: {', '.join(extensions or []) or '-'})",
            hint="restore a full dump into a new database (createdb NAME, or CREATE DATABASE); "
                 "a data-only dump restores into a freshly migrated one")


def _check_migrated_like(conn: psycopg.Connection[Any], manifest: dict[str, Any],
                         database: str) -> list[str]:
    """A data-only dump needs the same migrations and every table it holds; returns the
    top-level tables to empty first."""
    if conn.execute("SELECT to_regnamespace('exchange')").fetchone() == (None,):
        raise DumpIncompatible(
            f"database {database} is not migrated: a data-only dump restores into a database "
            "migrated to the same changes", hint="pyexchange --dsn ... db migrate, then restore")
    have = _migrations(conn)
    if have != manifest["migrations"]:
        missing = [m for m in manifest["migrations"] if m not in have]
        extra = [m for m in have if m not in manifest["migrations"]]
        raise DumpIncompatible(
            f"database {database} has other migrations than the dump "
            f"(missing: {', '.join(missing) or '-'}; not in the dump: {', '.join(extra) or '-'})",
            hint="migrate the target to the dump's changes (db migrate --to CHANGE), or restore "
                 "a full dump into an empty database")
    tables = {f"{s}.{n}" for s, n in
              conn.execute(query("backup_tables"), {"schemas": list(SCHEMAS)}).fetchall()}
    absent = sorted(set(manifest["tables"]) - tables)
    if absent:
        raise DumpIncompatible(
            f"database {database} lacks {len(absent)} table(s) the dump holds: "
            f"{', '.join(absent[:8])}{' ...' if len(absent) > 8 else ''}",
            hint="partitions are made per month: create the dump's months first "
                 "(SELECT exchange.create_monthly_partitions(months_ahead, from_date); "
                 "docs/partitions.md), or restore a full dump into an empty database")
    parts = [t.split(".", 1) for t in sorted(manifest["tables"])]
    return [f"{s}.{n}" for s, n in conn.execute(
        query("restore_top_level_tables"),
        {"schemas": [p[0] for p in parts], "names": [p[1] for p in parts]}).fetchall()]


def restore(conninfo: str, path: Path, *, timeout: float = 3600) -> RestoreResult:
    """Restore a dump file into the database ``conninfo`` names (see the module docstring)."""
    started = time.monotonic()
    manifest = read_manifest(Path(path))
    data_only = bool(manifest["data_only"])
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(query("restore_whoami")).fetchone()
        assert row is not None
        database, superuser, _user = row
        if not superuser:
            raise RestoreNeedsSuperuser(
                "db restore must run as a superuser: it creates the exchange_* roles and "
                "the dblink extension (not a trusted extension)",
                hint="connect as postgres (or another superuser) for the restore only")
        available = {r[0] for r in conn.execute(
            "SELECT name FROM pg_available_extensions").fetchall()}
        lacking = [e["name"] for e in manifest["extensions"] if e["name"] not in available]
        if lacking:
            raise RestoreFailed(
                f"this server lacks the extension(s) {', '.join(lacking)}",
                hint="install them first (Debian: postgresql-15-<name> or postgresql-contrib)")
        if data_only:
            truncate = _check_migrated_like(conn, manifest, database)
        else:
            _check_empty(conn, database)
            truncate = []
        created = _ensure_roles(conn, manifest["roles"])
    target, secret = _libpq(conninfo)
    with tempfile.TemporaryDirectory(prefix="pyx-restore-") as tmp:
        with tarfile.open(path, "r") as tar:
            tar.extract(ARCHIVE, tmp, filter="data")
        archive = Path(tmp) / ARCHIVE
        if data_only:
            script = _run([_tool("pg_restore"), "--data-only", "--file=-", str(archive)],
                          timeout=timeout)
            preamble = ("SET session_replication_role = replica;\n"
                        + (f"TRUNCATE {', '.join(_quote_table(t) for t in truncate)};\n"
                           if truncate else ""))
            script_path = Path(tmp) / "restore.sql"
            script_path.write_text(preamble + script, encoding="utf-8")
            with open(script_path, encoding="utf-8") as fh:
                _run([_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                      f"--dbname={target}"], stdin=fh, timeout=timeout, env_extra=secret)
        else:
            _run([_tool("pg_restore"), "--exit-on-error", "--single-transaction",
                  f"--dbname={target}", str(archive)], timeout=timeout, env_extra=secret)
    notes: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("ANALYZE")
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            got = fingerprint(conn, SCHEMAS)
        expected = {k: TableRows(k, int(v["rows"]), str(v["digest"]))
                    for k, v in manifest["tables"].items()}
        differences = compare(expected, got, allow_extra_empty=data_only)
        if differences:
            raise RestoreMismatch(
                f"the restored database differs from the dump in {len(differences)} table(s)",
                detail="\n".join(differences[:20]))
        before = {tuple(p) for p in manifest.get("problems", [])}
        problems = [p for p in health_problems(conninfo) if p not in before]
        if problems:
            raise RestoreMismatch(
                "the restored database fails checks the source passed",
                detail="\n".join(f"{c}: {d}" for c, d in problems[:20]))
        moved = conn.execute(query("restore_loopback_host"),
                             {"old": manifest.get("socket_dir")}).fetchone()
        if moved is not None:
            notes.append(f"risk_settings.loopback_host set to this server's socket directory "
                         f"{moved[0]} (the source's was {manifest.get('socket_dir')})")
    return RestoreResult(data_only, len(expected), sum(t.rows for t in expected.values()),
                         tuple(created), tuple(notes), time.monotonic() - started)


def _quote_table(qualified: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in qualified.split(".", 1))
