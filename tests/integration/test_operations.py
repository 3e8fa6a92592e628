"""Operations (docs/operations.md): the partition horizon checked and restored, the monitoring
functions read by readonly/auditor and refused to the application, `pyexchange monitor
--once --json`, Prometheus metrics over HTTP, maintenance (retention per table, pruning,
REINDEX CONCURRENTLY of a bloated index), and its schedule: printed where pg_cron is absent,
run by pg_cron on a private embedded server."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.cli import main as cli
from pyexchange.client import Exchange
from pyexchange.errors import ConfigurationError, FunctionNotGranted
from pyexchange.metrics import serve
from pyexchange.server import EmbeddedServer, available_preload_libraries, find_bindir

PARTITIONED = ("trades", "orders", "klines", "notifications", "audit_logs")  # trades first
PORTS = range(5560, 5570)  # this suite's TCP ports

Login = Callable[[str], str]


def _cli(dsn: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--dsn", dsn, *args], catch_exceptions=False)
    return result.exit_code, result.output


def _drop_future_partitions(dsn: str) -> list[str]:
    """Detach and drop every partition after the current month (trades before orders)."""
    dropped: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in PARTITIONED:
            rows = conn.execute(
                "SELECT partition_name FROM exchange.partition_status(0) "
                "WHERE table_name = %s AND month > date_trunc('month', now() AT TIME ZONE 'UTC')",
                (table,)).fetchall()
            for (name,) in rows:
                conn.execute(sql.SQL("ALTER TABLE exchange.{} DETACH PARTITION exchange.{}").format(
                    sql.Identifier(table), sql.Identifier(name)))
                conn.execute(sql.SQL("DROP TABLE exchange.{}").format(sql.Identifier(name)))
                dropped.append(name)
    return dropped


@pytest.fixture
def login_as(clone_dsn: str) -> Iterator[Login]:
    """A login role in exchange_app / exchange_readonly / exchange_auditor on the clone."""
    made: list[str] = []
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("SELECT exchange._apply_ownership_and_grants()")

    def make(kind: str) -> str:
        name = f"pyx15_{kind}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            conn.execute("SELECT exchange.create_login(%s, %s, NULL)", (name, kind))
        made.append(name)
        params = conninfo_to_dict(clone_dsn)
        params["user"] = name
        params.pop("password", None)
        return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})

    try:
        yield make
    finally:
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            for name in made:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE usename = %s", (name,))
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_horizon_check_fails_until_maintenance_restores_it(clone_dsn: str) -> None:
    assert _cli(clone_dsn, "partitions", "status")[0] == 0
    assert len(_drop_future_partitions(clone_dsn)) == 15
    code, out = _cli(clone_dsn, "partitions", "status")
    assert code == 1 and "MISSING" in out
    with Exchange(clone_dsn) as ex:
        assert ex.monitor_overview().partition_horizon_months == 0
        dry = ex.run_maintenance(dry_run=True)
        assert sum(s.outcome == "would create" for s in dry) == 15
    assert _cli(clone_dsn, "partitions", "status")[0] == 1  # the dry run changed nothing

    code, out = _cli(clone_dsn, "maintenance", "run")
    assert code == 0, out
    assert "created" in out and "analyzed" in out and "recorded" in out
    code, out = _cli(clone_dsn, "partitions", "status")
    assert code == 0, out
    with Exchange(clone_dsn) as ex:
        assert ex.monitor_overview().partition_horizon_months == 3
        again = ex.run_maintenance()  # idempotent: nothing more to create
        assert [(s.target, s.outcome) for s in again if s.step == "partitions"] == [("all", "ok")]
    assert _cli(clone_dsn, "partitions", "status", "--months-ahead", "5")[0] == 1


def test_retention_is_per_table_and_audit_outlives_orders(clone_dsn: str) -> None:
    this_month = datetime.now(UTC).date().replace(day=1)
    old = this_month.replace(year=this_month.year - 4)  # 48 months back
    with Exchange(clone_dsn) as ex, psycopg.connect(clone_dsn, autocommit=True) as conn:
        ex.create_monthly_partitions(0, from_date=old)
        conn.execute("INSERT INTO exchange.audit_logs (table_name, operation, created_at) "
                     "VALUES ('x', 'TEST', %s)", (datetime(old.year, old.month, 2, tzinfo=UTC),))
        steps = ex.run_maintenance()
        dropped = {s.target for s in steps if s.step == "retention" and s.outcome == "dropped"}
        suffix = old.strftime("%Y_%m")
        # orders, trades, klines, notifications (24, 24, 36, 6 months by default) go; audit (84) stays
        assert dropped == {f"trades_{suffix}", f"orders_{suffix}", f"klines_{suffix}",
                           f"notifications_{suffix}"}
        assert conn.execute("SELECT count(*) FROM exchange.audit_logs WHERE operation = 'TEST'"
                            ).fetchone() == (1,)
        conn.execute("UPDATE exchange.maintenance_settings SET keep_audit_logs_months = 12")
        steps = ex.run_maintenance()
        assert [s.target for s in steps if s.outcome == "dropped"] == [f"audit_logs_{suffix}"]
        assert conn.execute("SELECT count(*) FROM exchange.audit_logs WHERE operation = 'TEST'"
                            ).fetchone() == (0,)
        # trades cannot be kept longer than the orders they reference
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE exchange.maintenance_settings SET keep_trades_months = 30")


def test_maintenance_prunes_and_rebuilds_a_bloated_index(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("""
            INSERT INTO exchange.users (username, email, password_hash, status)
            VALUES ('ops_u', 'ops_u@example.org', 'x', 'ACTIVE')""")
        # KYC counters: 40 days of history (only today's count is read) and 20 000 rows today
        conn.execute("""
            INSERT INTO exchange.kyc_daily_usage (user_id, day, action, asset_id, used)
            SELECT u.id, current_date - d, 'TRADE', 1, 1
              FROM exchange.users u, generate_series(1, 40) d WHERE u.username = 'ops_u'""")
        conn.execute("""
            INSERT INTO exchange.kyc_daily_usage (user_id, day, action, asset_id, used)
            SELECT u.id, current_date, 'TRADE', a, 1
              FROM exchange.users u, generate_series(1, 20000) a WHERE u.username = 'ops_u'""")
        conn.execute("DELETE FROM exchange.kyc_daily_usage WHERE day = current_date AND asset_id % 10 <> 0")
        conn.execute("VACUUM exchange.kyc_daily_usage")
        conn.execute("""
            INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type,
                                                event_data, status, created_at)
            VALUES ('ops', '1', 'ops_test', '{}', 'PUBLISHED', now() - interval '30 days'),
                   ('ops', '2', 'ops_test', '{}', 'PENDING', now() - interval '30 days')""")
        conn.execute("UPDATE exchange.maintenance_settings "
                     "SET reindex_bloat_ratio = 0.5, reindex_min_bytes = 0")
    with Exchange(clone_dsn) as ex:
        bloat = {b.object_name: b for b in ex.monitor_bloat()}
        assert bloat["kyc_daily_usage_pkey"].reindex_recommended
        before = bloat["kyc_daily_usage_pkey"].bytes
        steps = {(s.step, s.target): s for s in ex.run_maintenance()}
        assert steps[("reindex", "kyc_daily_usage_pkey")].outcome == "reindexed"
        assert steps[("prune", "kyc_daily_usage")].detail == "33"  # older than 7 days
        assert steps[("prune", "outbox_events")].detail == "1"  # never the pending one
        after = {b.object_name: b for b in ex.monitor_bloat()}["kyc_daily_usage_pkey"]
        assert after.bytes < before / 3 and not after.reindex_recommended
        assert ex.monitor_overview().outbox_pending == 1
        steps = {(s.step, s.target): s for s in ex.run_maintenance()}
        assert ("reindex", "kyc_daily_usage_pkey") not in steps
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM exchange.kyc_daily_usage WHERE day < current_date"
                            ).fetchone() == (7,)
        assert conn.execute("SELECT count(*) FROM exchange.size_history WHERE object_kind = "
                            "'database'").fetchone() == (2,)


def test_monitoring_is_for_readonly_and_auditor_not_the_application(
        clone_dsn: str, login_as: Login) -> None:
    app, readonly, auditor = login_as("app"), login_as("readonly"), login_as("auditor")
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("""
            INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, event_type,
                                                event_data, created_at)
            VALUES ('ops', '1', 'ops_test', '{}', now() - interval '90 seconds')""")
    for dsn in (readonly, auditor):
        code, out = _cli(dsn, "monitor", "--once", "--json")
        assert code == 0, out
        snap = json.loads(out)
        ov = snap["overview"]
        assert 0 < ov["cache_hit_ratio"] <= 1
        assert ov["connections"] >= 1 and ov["max_connections"] > 0
        assert ov["partition_horizon_months"] == 3
        assert ov["outbox_pending"] == 1 and ov["outbox_oldest_pending_seconds"] >= 90
        assert "slow_statements" in ov and isinstance(snap["slow_statements"], list)
        assert any(c["role_name"] for c in snap["connections"])
        code, out = _cli(dsn, "monitor", "--once")
        assert code == 0 and "partition horizon" in out and "cache hit ratio" in out, out
        with Exchange(dsn) as ex:
            assert {p.table_name for p in ex.partition_status()} == set(PARTITIONED)
            assert any(t.table_name == "orders" and t.partitioned for t in ex.monitor_table_sizes())
            assert any(i.index_name == "orders_pkey" for i in ex.monitor_index_usage())
            assert ex.monitor_reconcile() == []
            assert ex.monitor_replication() == []
            bloat = {b.object_name: b for b in ex.monitor_bloat()}  # pgstattuple, as the owner
            assert bloat["accounts_pkey"].object_kind == "index"
            assert bloat["order_book"].table_name == "order_book"
    assert _cli(readonly, "monitor", "--json")[0] == 2  # --json needs --once
    with Exchange(app) as ex:
        for call in (ex.monitor_overview, ex.monitor_connections, ex.monitor_slow_statements,
                     ex.monitor_bloat, ex.partition_status, ex.monitor_reconcile):
            with pytest.raises(FunctionNotGranted) as err:  # 42501, typed since issue 13
                call()
            assert err.value.__cause__ is not None
            assert getattr(err.value.__cause__, "sqlstate", None) == "42501"
    for dsn in (app, readonly, auditor):  # maintenance is the DBA's: refused, nothing changed
        with Exchange(dsn) as ex, pytest.raises(FunctionNotGranted):
            ex.run_maintenance()
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM exchange.size_history").fetchone() == (0,)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 5560-5569")


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_served_over_http(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO exchange.outbox_events (aggregate_type, aggregate_id, "
                     "event_type, event_data) VALUES ('ops', '1', 'ops_test', '{}')")
    port = _free_port()
    with Exchange(clone_dsn) as ex:
        server, _ = serve(ex, "127.0.0.1", port, reconcile_interval=60)
        try:
            samples = _scrape(port)
        finally:
            server.shutdown()
    assert all(name.startswith("pyexchange_") for name in samples)
    assert samples["pyexchange_up"] == 1
    assert 0 < samples["pyexchange_cache_hit_ratio"] <= 1
    assert samples["pyexchange_connections"] >= 1
    assert samples["pyexchange_partition_horizon_months"] == 3
    assert samples["pyexchange_outbox_pending_events"] == 1
    assert samples["pyexchange_reconcile_discrepancies"] == 0
    assert samples['pyexchange_table_size_bytes{table="orders"}'] > 0
    # slow statements are served only where pg_stat_statements is usable: said, not faked
    assert ("pyexchange_slow_statements" in samples) == (samples["pyexchange_statements_tracked"] == 1)


def test_schedule_is_printed_where_pg_cron_is_absent(clone_dsn: str) -> None:
    with Exchange(clone_dsn) as ex:
        st = ex.cron_status()
        if st.usable:
            pytest.skip("this server runs pg_cron for the test database")
        with pytest.raises(ConfigurationError):
            ex.schedule_maintenance()
    code, out = _cli(clone_dsn, "maintenance", "schedule", "--schedule", "5 4 * * *")
    assert code == 0, out
    assert "5 4 * * * PYEXCHANGE_DSN=" in out and "maintenance run" in out
    assert "OnCalendar=*-*-* 04:05:00" in out and "ExecStart=" in out
    assert "password" not in out


# --- a private embedded server: pg_stat_statements, auto_explain, pg_cron ------------------

try:
    find_bindir()
    HAVE_BINARIES = True
except ConfigurationError:
    HAVE_BINARIES = False


@pytest.fixture(scope="module")
def embedded() -> Iterator[EmbeddedServer]:
    if not HAVE_BINARIES:
        pytest.skip("no PostgreSQL server binaries on this machine")
    base = Path(tempfile.mkdtemp(prefix="pyx-15-", dir="/tmp"))
    srv = EmbeddedServer(base)
    try:
        srv.start()
        yield srv
    finally:
        if srv.is_initialised():
            srv.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_embedded_server_logs_and_tracks_slow_statements(embedded: EmbeddedServer) -> None:
    conninfo = embedded.conninfo()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_sleep(0.15)")
    with Exchange(conninfo) as ex:
        ov = ex.monitor_overview()
        assert ov.statements_tracked and ov.slow_statements is not None and ov.slow_statements >= 1
        slow = ex.monitor_slow_statements(min_mean_ms=100)
        assert any("pg_sleep" in s.query for s in slow)
        port = _free_port()
        server, _ = serve(ex, "127.0.0.1", port, reconcile_interval=0)
        try:
            samples = _scrape(port)
        finally:
            server.shutdown()
    assert samples["pyexchange_statements_tracked"] == 1
    assert samples["pyexchange_slow_statements"] >= 1
    code, out = _cli(conninfo, "monitor", "--once", "--json")
    assert code == 0, out
    snap = json.loads(out)
    assert snap["overview"]["statements_tracked"] and snap["overview"]["slow_statements"] >= 1
    assert any("pg_sleep" in s["query"] and s["mean_ms"] >= 100 for s in snap["slow_statements"])
    log = embedded.log_file.read_text(errors="replace")
    assert "duration:" in log and "pg_sleep" in log  # log_min_duration_statement
    assert "plan:" in log  # auto_explain


def test_pg_cron_runs_the_scheduled_maintenance(embedded: EmbeddedServer) -> None:
    if "pg_cron" not in available_preload_libraries(embedded.bindir()):
        pytest.skip("pg_cron is not installed (postgresql-15-cron): "
                    "test_schedule_is_printed_where_pg_cron_is_absent covers this machine")
    conninfo = embedded.conninfo()
    dropped = _drop_future_partitions(conninfo)
    assert len(dropped) == 15
    assert _cli(conninfo, "partitions", "status")[0] == 1
    with Exchange(conninfo) as ex:
        assert ex.cron_status().usable
    # '@reboot': the job runs when pg_cron starts (this pg_cron, 1.4, has no seconds schedule)
    code, out = _cli(conninfo, "maintenance", "schedule", "--schedule", "@reboot")
    assert code == 0 and "pyexchange-maintenance" in out, out
    embedded.stop()
    embedded.start()
    deadline = time.monotonic() + 30
    jobs: list[Any] = []
    while time.monotonic() < deadline:
        with Exchange(conninfo) as ex:
            jobs = ex.cron_jobs()
        if jobs and jobs[0].last_status in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert [(j.jobname, j.last_status) for j in jobs] == [("pyexchange-maintenance", "succeeded")]
    code, out = _cli(conninfo, "partitions", "status")
    assert code == 0, out
    # under pg_cron, a bloated index gets a one-off REINDEX CONCURRENTLY job, removed by the
    # next run once the index is rebuilt
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("INSERT INTO exchange.users (username, email, password_hash, status) "
                     "VALUES ('ops_c', 'ops_c@example.org', 'x', 'ACTIVE')")
        conn.execute("""
            INSERT INTO exchange.kyc_daily_usage (user_id, day, action, asset_id, used)
            SELECT u.id, current_date, 'TRADE', a, 1
              FROM exchange.users u, generate_series(1, 20000) a WHERE u.username = 'ops_c'""")
        conn.execute("DELETE FROM exchange.kyc_daily_usage WHERE asset_id % 10 <> 0")
        conn.execute("VACUUM exchange.kyc_daily_usage")
        conn.execute("UPDATE exchange.maintenance_settings "
                     "SET reindex_bloat_ratio = 0.5, reindex_min_bytes = 0")
        rows = conn.execute("SELECT target, outcome FROM exchange.run_maintenance(false, true) "
                            "WHERE step = 'reindex'").fetchall()
        assert ("kyc_daily_usage_pkey", "scheduled") in rows
        job = conn.execute("SELECT command FROM cron.job WHERE jobname = "
                           "'pyexchange-reindex-kyc_daily_usage_pkey'").fetchone()
        assert job == ("REINDEX INDEX CONCURRENTLY exchange.kyc_daily_usage_pkey",)
        conn.execute(job[0])  # what the job will run
        rows = conn.execute("SELECT target, outcome FROM exchange.run_maintenance(false, true) "
                            "WHERE step = 'reindex'").fetchall()
        assert ("kyc_daily_usage_pkey", "unscheduled") in rows
        assert conn.execute("SELECT count(*) FROM cron.job WHERE jobname LIKE "
                            "'pyexchange-reindex-%'").fetchone() == (0,)
