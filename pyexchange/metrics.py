"""Prometheus exposition of the exchange's monitoring figures (``pyexchange metrics``).

Every scrape calls ``exchange.monitor_overview()`` (and a few other monitoring functions)
once; ``exchange.monitor_reconcile()``, which reads the whole ledger, runs at most once per
``reconcile_interval`` seconds and its last result is served in between. Every metric name
starts with ``pyexchange_``; docs/operations.md gives the alert rules.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import start_http_server
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from pyexchange.errors import ExchangeError

PREFIX = "pyexchange_"

# monitor_overview column -> (metric name without prefix, help); gauges.
_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("database_bytes", "database_size_bytes", "Size of the exchange database on disk."),
    ("cache_hit_ratio", "cache_hit_ratio",
     "Share of block reads served from shared buffers since the statistics were reset."),
    ("connections", "connections", "Client connections to the exchange database."),
    ("connections_active", "connections_active", "Client connections running a statement."),
    ("connections_idle_in_transaction", "connections_idle_in_transaction",
     "Client connections idle inside an open transaction."),
    ("max_connections", "max_connections", "The server's max_connections."),
    ("longest_transaction_seconds", "longest_transaction_seconds",
     "Age of the oldest open transaction in the exchange database."),
    ("lock_waits", "lock_waits", "Sessions of the exchange database waiting on a lock."),
    ("slow_statements", "slow_statements",
     "Statements whose mean time reaches maintenance_settings.slow_statement_ms "
     "(pg_stat_statements)."),
    ("standbys", "standbys", "Standbys streaming from this server."),
    ("replication_lag_seconds", "replication_lag_seconds",
     "Largest replay lag of a standby (on a standby: age of the last replayed transaction)."),
    ("replication_lag_bytes", "replication_lag_bytes", "Largest WAL lag of a standby in bytes."),
    ("outbox_pending", "outbox_pending_events", "Outbox events waiting for the relay."),
    ("outbox_failed", "outbox_failed_events", "Outbox events the relay gave up on."),
    ("outbox_oldest_pending_seconds", "outbox_oldest_pending_seconds",
     "Age of the oldest pending outbox event (the relay's lag)."),
    ("notifications_pending", "notifications_pending", "Notifications waiting for delivery."),
    ("notifications_oldest_pending_seconds", "notifications_oldest_pending_seconds",
     "Age of the oldest pending notification."),
    ("partition_horizon_months", "partition_horizon_months",
     "Whole months after the current one that every partitioned table covers (-1: this "
     "month is missing)."),
    ("orders_per_minute", "orders_per_minute", "Orders placed per minute (last 5 minutes)."),
    ("trades_per_minute", "trades_per_minute", "Trades per minute (last 5 minutes)."),
    ("deposits_per_minute", "deposits_per_minute", "Deposits per minute (last 5 minutes)."),
    ("withdrawals_per_minute", "withdrawals_per_minute",
     "Withdrawals requested per minute (last 5 minutes)."),
    ("failed_login_attempts", "failed_login_attempts",
     "Failed login attempts of users not yet reset by a successful login."),
    ("locked_users", "locked_users", "Users locked out after too many failed logins."),
)
_COUNTERS: tuple[tuple[str, str, str], ...] = (
    ("xact_commit", "transactions_committed", "Transactions committed in the exchange database."),
    ("xact_rollback", "transactions_rolled_back",
     "Transactions rolled back in the exchange database."),
    ("deadlocks", "deadlocks", "Deadlocks detected in the exchange database."),
)


class ExchangeCollector(Collector):
    """Collects the monitoring figures from the database at each scrape."""

    def __init__(self, exchange: Any, *, reconcile_interval: float = 300.0) -> None:
        self.exchange = exchange
        self.reconcile_interval = reconcile_interval
        self._reconcile: list[Any] | None = None
        self._reconcile_at = 0.0
        self._lock = threading.Lock()

    def _reconcile_counts(self) -> list[Any] | None:
        if self.reconcile_interval <= 0:
            return None
        with self._lock:
            now = time.monotonic()
            if self._reconcile is None or now - self._reconcile_at >= self.reconcile_interval:
                self._reconcile = self.exchange.monitor_reconcile()
                self._reconcile_at = now
            return self._reconcile

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(PREFIX + "up", "1 when the last scrape could read the database.")
        try:
            ov = self.exchange.monitor_overview()
            tables = self.exchange.monitor_table_sizes()
            replicas = self.exchange.monitor_replication()
            reconcile = self._reconcile_counts()
        except ExchangeError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for column, name, help_text in _GAUGES:
            value = getattr(ov, column)
            if value is None:
                continue  # not measured here (no standby, no pg_stat_statements, ...)
            g = GaugeMetricFamily(PREFIX + name, help_text)
            g.add_metric([], float(value))
            yield g
        tracked = GaugeMetricFamily(PREFIX + "statements_tracked",
                                    "1 when pg_stat_statements is created and preloaded.")
        tracked.add_metric([], 1.0 if ov.statements_tracked else 0.0)
        yield tracked
        for column, name, help_text in _COUNTERS:
            c = CounterMetricFamily(PREFIX + name, help_text)
            c.add_metric([], float(getattr(ov, column)))
            yield c
        sizes = GaugeMetricFamily(PREFIX + "table_size_bytes",
                                  "Size of each exchange table with its indexes and TOAST "
                                  "(partitioned tables summed over their partitions).",
                                  labels=["table"])
        for t in tables:
            sizes.add_metric([t.table_name], float(t.total_bytes))
        yield sizes
        lag = GaugeMetricFamily(PREFIX + "standby_replay_lag_seconds",
                                "Replay lag of each standby.", labels=["standby"])
        for r in replicas:
            if r.role == "primary" and r.replay_lag_seconds is not None:
                lag.add_metric([r.application_name or ""], float(r.replay_lag_seconds))
        yield lag
        if reconcile is not None:
            total = GaugeMetricFamily(PREFIX + "reconcile_discrepancies",
                                      "Rows reconcile() returned (0: the ledger is sound).")
            total.add_metric([], float(sum(r.discrepancies for r in reconcile)))
            yield total
            per = GaugeMetricFamily(PREFIX + "reconcile_check_discrepancies",
                                    "reconcile() discrepancies per check.", labels=["check"])
            for r in reconcile:
                per.add_metric([r.check_name], float(r.discrepancies))
            yield per


def registry_for(exchange: Any, *, reconcile_interval: float = 300.0) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExchangeCollector(exchange, reconcile_interval=reconcile_interval))
    return registry


def serve(exchange: Any, host: str, port: int, *,
          reconcile_interval: float = 300.0) -> tuple[Any, threading.Thread]:
    """Serve ``/metrics`` on ``host:port`` in a daemon thread; returns (server, thread):
    ``server.shutdown()`` stops it."""
    registry = registry_for(exchange, reconcile_interval=reconcile_interval)
    server, thread = start_http_server(port, addr=host, registry=registry)
    return server, thread


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9187`` for IPv6; ``:9187`` for every address)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)
