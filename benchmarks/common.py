"""Helpers every benchmark shares: the server to measure, throw-away databases (empty, or
migrated with pyexchange's migrations), pgbench runs with their tps and latency parsed, and
the on-disk size of relations.

The server comes from ``--dsn``, ``PYEXCHANGE_BENCH_DSN`` or the libpq environment
(``PGHOST``, ``PGPORT``, ``PGUSER``...; default 127.0.0.1:5432 as postgres). The role must
be able to create databases. Commits are durable: nothing here changes synchronous_commit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.migrate import Migrator

HERE = Path(__file__).resolve().parent


def server_dsn(dsn: str | None = None) -> str:
    """The maintenance DSN (database ``postgres``) of the server to measure."""
    dsn = dsn or os.environ.get("PYEXCHANGE_BENCH_DSN") or ""
    params: dict[str, Any] = conninfo_to_dict(dsn) if dsn else {}
    params.setdefault("host", os.environ.get("PGHOST", "127.0.0.1"))
    params.setdefault("port", os.environ.get("PGPORT", "5432"))
    params.setdefault("user", os.environ.get("PGUSER", "postgres"))
    params["dbname"] = params.get("dbname") or "postgres"
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


def with_dbname(dsn: str, dbname: str) -> str:
    params = conninfo_to_dict(dsn)
    params["dbname"] = dbname
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


@contextmanager
def bench_database(admin_dsn: str, prefix: str, *, migrate: bool = False) -> Iterator[str]:
    """A new database (migrated with pyexchange's migrations when ``migrate``), dropped after."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = with_dbname(admin_dsn, name)
    try:
        if migrate:
            Migrator(dsn).migrate()
        yield dsn
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@dataclass(frozen=True)
class PgbenchResult:
    clients: int
    transactions: int
    failed: int
    tps: float
    latency_ms: float


_TPS = re.compile(r"^tps = ([0-9.]+) \(without initial connection time\)", re.MULTILINE)
_LAT = re.compile(r"^latency average = ([0-9.]+) ms", re.MULTILINE)
_TXN = re.compile(r"^number of transactions actually processed: (\d+)", re.MULTILINE)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.MULTILINE)


def parse_pgbench(output: str, clients: int) -> PgbenchResult:
    """The numbers of a pgbench report (PostgreSQL 15's format)."""
    def one(rx: re.Pattern[str]) -> str:
        m = rx.search(output)
        if m is None:
            raise RuntimeError(f"cannot parse pgbench output:\n{output}")
        return m.group(1)
    failed = _FAILED.search(output)
    return PgbenchResult(clients=clients, transactions=int(one(_TXN)),
                         failed=int(failed.group(1)) if failed else 0,
                         tps=float(one(_TPS)), latency_ms=float(one(_LAT)))


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    try:
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        bindir = "/usr/lib/postgresql/15/bin"
    return str(Path(bindir) / "pgbench")


def run_pgbench(dsn: str, *, clients: int, seconds: int, script: Path | None = None,
                builtin: str | None = None, defines: dict[str, Any] | None = None,
                protocol: str = "prepared", extra: Sequence[str] = ()) -> PgbenchResult:
    """One pgbench run (``-n``: no vacuum of pgbench's tables) with ``-M protocol``, ``-c``
    clients on ``-j min(clients, cpus)`` threads for ``-T seconds``; raises on any failure."""
    jobs = max(1, min(clients, os.cpu_count() or 1))
    cmd = [pgbench_binary(), "-n", "-M", protocol, "-c", str(clients), "-j", str(jobs),
           "-T", str(seconds), *extra]
    for key, value in (defines or {}).items():
        cmd += ["-D", f"{key}={value}"]
    if script is not None:
        cmd += ["-f", str(script)]
    if builtin is not None:
        cmd += ["-b", builtin]
    cmd.append(dsn)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed ({proc.returncode}): {' '.join(cmd)}\n"
                           f"{proc.stdout}\n{proc.stderr}")
    result = parse_pgbench(proc.stdout, clients)
    if result.failed:
        raise RuntimeError(f"pgbench: {result.failed} failed transactions\n{proc.stdout}")
    return result


def pgbench_init(dsn: str, scale: int) -> None:
    """pgbench's TPC-B tables at ``scale`` (server-side data generation)."""
    proc = subprocess.run([pgbench_binary(), "-i", "-q", "-I", "dtGvp", "-s", str(scale), dsn],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench -i failed:\n{proc.stdout}\n{proc.stderr}")


def relation_bytes(dsn: str, tables: Iterable[str]) -> int:
    """On-disk bytes of the tables, their indexes and TOAST."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(sum(pg_total_relation_size(t::regclass)), 0)::bigint "
            "FROM unnest(%s::text[]) AS t", (list(tables),)).fetchone()
        assert row is not None
        return int(row[0])


def checkpoint(dsn: str) -> None:
    """Start each run from a clean slate: no pending checkpoint flushing the last run's pages."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def backend_cpu_seconds(pid: int) -> float:
    """CPU time of a server backend, from /proc (the server must run on this host): the
    scheduler's nanoseconds on a CPU where the kernel keeps them (schedstat), else user +
    system time in clock ticks."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_call(dsn: str, statements: Sequence[tuple[str, Any]], calls: int,
                 params: Any, *, separate: bool = False) -> float:
    """Server CPU milliseconds per call of ``statements`` (one transaction each call:
    BEGIN ... COMMIT around several, autocommit for one, or each statement its own
    transaction when ``separate``; prepared; synchronous_commit off so
    that only CPU is measured), the least of 3 rounds of
    ``calls``. ``params()`` gives the parameters of each statement for one call. Less
    sensitive to other load on the machine than throughput, and independent of the client."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        pid = int(row[0])

        def one() -> None:
            values = params()
            if len(statements) == 1 or separate:  # autocommit, as pgbench's one-statement script
                for (text, _), args in zip(statements, values, strict=True):
                    conn.execute(text, args, prepare=True)
                return
            with conn.transaction():  # BEGIN ... COMMIT, as pgbench's tpcb-like
                for (text, _), args in zip(statements, values, strict=True):
                    conn.execute(text, args, prepare=True)

        for _ in range(min(calls, 300)):
            one()
        best = float("inf")
        for _ in range(3):
            start = backend_cpu_seconds(pid)
            for _ in range(calls):
                one()
            best = min(best, (backend_cpu_seconds(pid) - start) / calls * 1000)
        return best
