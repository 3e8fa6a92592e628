"""Operations methods of :class:`pyexchange.Exchange`: monitoring, maintenance and its
scheduling (docs/operations.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql

from pyexchange.base import ClientBase
from pyexchange.errors import ConfigurationError, translating
from pyexchange.queries import query

#: The pg_cron job that runs exchange.run_maintenance.
MAINTENANCE_JOB = "pyexchange-maintenance"
#: Its default schedule: every day at 03:17 (UTC: pg_cron's clock).
DEFAULT_SCHEDULE = "17 3 * * *"
#: What the job runs: the SQL steps, with bloated indexes rebuilt by one-off pg_cron jobs
#: (REINDEX CONCURRENTLY cannot run inside the function).
MAINTENANCE_COMMAND = "SELECT count(*) FROM exchange.run_maintenance(false, true)"


@dataclass(frozen=True)
class MonitorOverview:
    """``exchange.monitor_overview``: the exchange's health in one row."""

    sampled_at: datetime
    database_name: str
    database_bytes: int
    cache_hit_ratio: float | None
    xact_commit: int
    xact_rollback: int
    deadlocks: int
    connections: int
    connections_active: int
    connections_idle_in_transaction: int
    max_connections: int
    longest_transaction_seconds: float
    lock_waits: int
    statements_tracked: bool
    slow_statements: int | None
    standbys: int
    replication_lag_seconds: float | None
    replication_lag_bytes: int | None
    outbox_pending: int
    outbox_failed: int
    outbox_oldest_pending_seconds: float
    notifications_pending: int
    notifications_oldest_pending_seconds: float
    partition_horizon_months: int | None
    orders_per_minute: float
    trades_per_minute: float
    deposits_per_minute: float
    withdrawals_per_minute: float
    failed_login_attempts: int
    locked_users: int


@dataclass(frozen=True)
class ConnectionStats:
    database_name: str | None
    role_name: str | None
    state: str
    connections: int
    waiting_on_lock: int
    oldest_transaction_seconds: float | None


@dataclass(frozen=True)
class SlowStatement:
    query: str
    role_name: str
    calls: int
    total_ms: float
    mean_ms: float
    max_ms: float
    rows: int
    cache_hit_ratio: float | None


@dataclass(frozen=True)
class TableSize:
    table_name: str
    partitioned: bool
    partitions: int
    rows_estimate: int
    table_bytes: int
    index_bytes: int
    total_bytes: int
    growth_1d_bytes: int | None
    growth_7d_bytes: int | None


@dataclass(frozen=True)
class IndexUsage:
    index_name: str
    table_name: str
    scans: int
    tuples_read: int
    bytes: int
    backs_constraint: bool
    unused: bool


@dataclass(frozen=True)
class Bloat:
    object_kind: str  # 'table' | 'index'
    object_name: str
    table_name: str
    bytes: int
    bloat_ratio: float
    bloat_bytes: int
    reindex_recommended: bool


@dataclass(frozen=True)
class SessionActivity:
    pid: int
    role_name: str | None
    application_name: str | None
    state: str | None
    transaction_seconds: float | None
    statement_seconds: float | None
    wait_event_type: str | None
    wait_event: str | None
    blocked_by: list[int]
    query: str | None


@dataclass(frozen=True)
class ReplicationLag:
    role: str  # 'primary' (one row per standby) | 'standby' (this server)
    application_name: str | None
    client_addr: str | None
    state: str | None
    sync_state: str | None
    lag_bytes: int | None
    write_lag_seconds: float | None
    flush_lag_seconds: float | None
    replay_lag_seconds: float | None


@dataclass(frozen=True)
class ReconcileCount:
    check_name: str
    discrepancies: int


@dataclass(frozen=True)
class MaintenanceStep:
    """One thing ``run_maintenance`` did (or, dry run, would do)."""

    step: str
    target: str
    outcome: str
    detail: str


@dataclass(frozen=True)
class CronStatus:
    """Whether pg_cron can run jobs in this database."""

    available: bool  # the extension is installed on the server
    preloaded: bool  # in shared_preload_libraries
    cron_database: str | None  # cron.database_name
    database: str
    installed: bool  # CREATE EXTENSION done in this database
    version: str | None

    @property
    def usable(self) -> bool:
        return self.available and self.preloaded and self.cron_database == self.database


@dataclass(frozen=True)
class CronJob:
    jobid: int
    jobname: str
    schedule: str
    command: str
    active: bool
    username: str
    last_status: str | None
    last_run_at: datetime | None


class OperationsAPI(ClientBase):
    """Monitoring (readable by exchange_readonly and exchange_auditor) and maintenance (for a
    DBA: a superuser or a member of exchange_owner)."""

    # --- monitoring ------------------------------------------------------------------------
    def monitor_overview(self, window: timedelta = timedelta(minutes=5)) -> MonitorOverview:
        """``exchange.monitor_overview``; the business rates are averaged over ``window``."""
        return self._one("monitor_overview", {"window": window}, MonitorOverview)

    def monitor_connections(self) -> list[ConnectionStats]:
        return self._all("monitor_connections", None, ConnectionStats)

    def monitor_slow_statements(
        self, limit: int = 20, min_mean_ms: float | None = None
    ) -> list[SlowStatement]:
        """The slowest statements by mean time (none when pg_stat_statements is not usable);
        ``min_mean_ms`` defaults to ``maintenance_settings.slow_statement_ms``."""
        return self._all("monitor_slow_statements",
                         {"limit": limit, "min_mean_ms": min_mean_ms}, SlowStatement)

    def monitor_table_sizes(self) -> list[TableSize]:
        return self._all("monitor_table_sizes", None, TableSize)

    def monitor_index_usage(self) -> list[IndexUsage]:
        return self._all("monitor_index_usage", None, IndexUsage)

    def monitor_bloat(self) -> list[Bloat]:
        return self._all("monitor_bloat", None, Bloat)

    def monitor_activity(self, min_seconds: float = 5) -> list[SessionActivity]:
        """Sessions with a transaction open at least ``min_seconds``, or waiting on a lock."""
        return self._all("monitor_activity", {"min_seconds": min_seconds}, SessionActivity)

    def monitor_replication(self) -> list[ReplicationLag]:
        return self._all("monitor_replication", None, ReplicationLag)

    def monitor_reconcile(self) -> list[ReconcileCount]:
        """``reconcile()``'s discrepancies counted per check (empty: the ledger is sound)."""
        return self._all("monitor_reconcile", None, ReconcileCount)

    def monitor_snapshot(self, *, slow_limit: int = 10, reconcile: bool = False) -> dict[str, Any]:
        """Everything the dashboard shows, as plain data (``pyexchange monitor --once
        --json``)."""
        snap: dict[str, Any] = {
            "overview": asdict(self.monitor_overview()),
            "connections": [asdict(r) for r in self.monitor_connections()],
            "slow_statements": [asdict(r) for r in self.monitor_slow_statements(slow_limit)],
            "activity": [asdict(r) for r in self.monitor_activity()],
            "replication": [asdict(r) for r in self.monitor_replication()],
        }
        if reconcile:
            snap["reconcile"] = [asdict(r) for r in self.monitor_reconcile()]
        return snap

    # --- maintenance -----------------------------------------------------------------------
    def run_maintenance(self, dry_run: bool = False, *, reindex: bool = True) -> list[MaintenanceStep]:
        """``exchange.run_maintenance``, then (unless ``dry_run`` or not ``reindex``)
        ``REINDEX INDEX CONCURRENTLY`` of each index it reports as bloated: that cannot run
        inside a function or a transaction, so it runs here, one statement per index, in
        autocommit. Returns every step, the rebuilt indexes as outcome ``reindexed``."""
        steps = self._all("run_maintenance", {"dry_run": dry_run, "schedule_reindex": False},
                          MaintenanceStep)
        if dry_run or not reindex:
            return steps
        out: list[MaintenanceStep] = []
        for s in steps:
            if s.step == "reindex" and s.outcome == "needed":
                self.reindex_concurrently(s.target)
                s = MaintenanceStep(s.step, s.target, "reindexed", s.detail)
            out.append(s)
        return out

    def reindex_concurrently(self, index_name: str) -> None:
        """``REINDEX INDEX CONCURRENTLY exchange.<index_name>`` (outside any transaction)."""
        with translating(), self.pool.connection() as conn:
            row = conn.execute(query("reindex_target"), {"name": index_name}).fetchone()
            if row is None:
                raise LookupError(f"no index exchange.{index_name}")
            conn.execute(sql.SQL("REINDEX INDEX CONCURRENTLY {}").format(
                sql.Identifier("exchange", index_name)))

    # --- scheduling ------------------------------------------------------------------------
    def cron_status(self) -> CronStatus:
        return self._one("cron_status", None, CronStatus)

    def schedule_maintenance(self, schedule: str = DEFAULT_SCHEDULE) -> int:
        """Install (or update) the pg_cron job ``pyexchange-maintenance``; returns its id.
        Raises ConfigurationError when pg_cron cannot run jobs in this database."""
        st = self.cron_status()
        if not st.usable:
            raise ConfigurationError(
                "pg_cron cannot run jobs in this database",
                detail=f"installed on the server: {st.available}, preloaded: {st.preloaded}, "
                       f"cron.database_name: {st.cron_database!r} (this database: {st.database!r})",
                hint="Use the crontab line or systemd timer printed by "
                     "`pyexchange maintenance schedule` instead.")
        with self.connection() as conn:
            conn.execute(query("create_pg_cron"))
            row = conn.execute(query("cron_schedule"), {
                "name": MAINTENANCE_JOB, "schedule": schedule,
                "command": MAINTENANCE_COMMAND}).fetchone()
        assert row is not None
        return int(row[0])

    def cron_jobs(self) -> list[CronJob]:
        """pyexchange's pg_cron jobs with their last run (pg_cron must be installed)."""
        return self._all("cron_jobs", None, CronJob)
