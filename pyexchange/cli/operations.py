"""``pyexchange monitor``, ``pyexchange metrics`` and ``pyexchange maintenance run |
schedule`` (docs/operations.md)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
import time
from typing import Any

import click
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pyexchange.api.operations import DEFAULT_SCHEDULE, MAINTENANCE_JOB
from pyexchange.cli import AppContext, console, err_console, pass_app, print_table


# --- monitor -------------------------------------------------------------------------------
def _num(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def render(snap: dict[str, Any]) -> Group:
    ov = snap["overview"]
    health = Table(title=f"{ov['database_name']} at {ov['sampled_at']:%H:%M:%S}", show_header=False)
    health.add_column("figure")
    health.add_column("value", justify="right")
    hit = ov["cache_hit_ratio"]
    horizon = ov["partition_horizon_months"]
    rows: list[tuple[str, str | Text]] = [
        ("cache hit ratio", Text(_num(hit, 4), style="red" if hit is not None and hit < 0.99 else "")),
        ("connections (active / idle in tx / max)",
         f"{ov['connections']} ({ov['connections_active']} / "
         f"{ov['connections_idle_in_transaction']} / {ov['max_connections']})"),
        ("longest transaction (s)", _num(ov["longest_transaction_seconds"], 1)),
        ("lock waits / deadlocks", f"{ov['lock_waits']} / {ov['deadlocks']}"),
        ("slow statements", "not tracked" if not ov["statements_tracked"]
         else str(ov["slow_statements"])),
        ("standbys / replication lag (s)",
         f"{ov['standbys']} / {_num(ov['replication_lag_seconds'], 1)}"),
        ("outbox pending / failed / oldest (s)",
         f"{ov['outbox_pending']} / {ov['outbox_failed']} / "
         f"{_num(ov['outbox_oldest_pending_seconds'], 1)}"),
        ("notifications pending / oldest (s)",
         f"{ov['notifications_pending']} / {_num(ov['notifications_oldest_pending_seconds'], 1)}"),
        ("partition horizon (months)",
         Text(_num(horizon), style="red" if horizon is None or horizon < 2 else "")),
        ("orders / trades per minute",
         f"{_num(ov['orders_per_minute'], 1)} / {_num(ov['trades_per_minute'], 1)}"),
        ("deposits / withdrawals per minute",
         f"{_num(ov['deposits_per_minute'], 1)} / {_num(ov['withdrawals_per_minute'], 1)}"),
        ("failed logins / locked users", f"{ov['failed_login_attempts']} / {ov['locked_users']}"),
        ("database size", _bytes(ov["database_bytes"])),
    ]
    for k, v in rows:
        health.add_row(k, v)
    conns = Table(title="connections")
    for col in ("database", "role", "state", "n", "lock waits", "oldest tx (s)"):
        conns.add_column(col)
    for c in snap["connections"]:
        conns.add_row(c["database_name"] or "", c["role_name"] or "", c["state"],
                      str(c["connections"]), str(c["waiting_on_lock"]),
                      _num(c["oldest_transaction_seconds"], 1))
    slow = Table(title="slow statements (mean ms)")
    for col in ("mean ms", "calls", "total ms", "statement"):
        slow.add_column(col)
    for s in snap["slow_statements"]:
        slow.add_row(_num(s["mean_ms"], 1), str(s["calls"]), _num(s["total_ms"], 0),
                     " ".join(s["query"].split())[:90])
    parts: list[Any] = [health, conns, slow]
    if snap["activity"]:
        act = Table(title="long transactions and lock waits")
        for col in ("pid", "role", "state", "tx (s)", "waits on", "blocked by", "statement"):
            act.add_column(col)
        for a in snap["activity"]:
            act.add_row(str(a["pid"]), a["role_name"] or "", a["state"] or "",
                        _num(a["transaction_seconds"], 1),
                        f"{a['wait_event_type'] or ''} {a['wait_event'] or ''}".strip(),
                        ",".join(map(str, a["blocked_by"])),
                        " ".join((a["query"] or "").split())[:60])
        parts.append(act)
    if snap["replication"]:
        rep = Table(title="replication")
        for col in ("role", "standby", "state", "lag bytes", "replay lag (s)"):
            rep.add_column(col)
        for r in snap["replication"]:
            rep.add_row(r["role"], r["application_name"] or "", r["state"] or "",
                        _num(r["lag_bytes"]), _num(r["replay_lag_seconds"], 1))
        parts.append(rep)
    return Group(*parts)


@click.command()
@click.option("--once", is_flag=True, help="Print the figures once and exit.")
@click.option("--json", "as_json", is_flag=True, help="With --once: print them as JSON.")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.2, 3600),
              help="Seconds between refreshes of the live dashboard.")
@click.option("--reconcile", is_flag=True,
              help="Also count reconcile() discrepancies (reads the whole ledger).")
@pass_app
def monitor(app: AppContext, once: bool, as_json: bool, interval: float, reconcile: bool) -> None:
    """Live dashboard of the exchange's health: cache hit ratio, connections, slow statements,
    long transactions and lock waits, replication lag, outbox and notification backlogs,
    partition horizon, business rates. Needs a role that may read the monitoring functions
    (exchange_readonly, exchange_auditor, or the owner)."""
    if as_json and not once:
        raise click.UsageError("--json needs --once")
    if once:
        snap = app.exchange.monitor_snapshot(reconcile=reconcile)
        if as_json:
            click.echo(json.dumps(snap, default=str, indent=2))
        else:
            console.print(render(snap))
        return
    with Live(render(app.exchange.monitor_snapshot(reconcile=reconcile)), console=console,
              refresh_per_second=4, screen=False) as live:
        try:
            while True:
                time.sleep(interval)
                live.update(render(app.exchange.monitor_snapshot(reconcile=reconcile)))
        except KeyboardInterrupt:
            pass


# --- metrics -------------------------------------------------------------------------------
@click.command()
@click.option("--listen", default="127.0.0.1:9187", show_default=True, metavar="HOST:PORT",
              help="Where to serve /metrics.")
@click.option("--reconcile-interval", default=300.0, show_default=True,
              type=click.FloatRange(0, None),
              help="Run reconcile() at most this often (seconds; 0: never).")
@pass_app
def metrics(app: AppContext, listen: str, reconcile_interval: float) -> None:
    """Serve the monitoring figures to Prometheus (every name prefixed pyexchange_)."""
    from pyexchange.metrics import parse_listen, serve

    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from None
    server, _thread = serve(app.exchange, host, port, reconcile_interval=reconcile_interval)
    console.print(f"serving pyexchange metrics on http://{listen}/metrics (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


# --- maintenance ---------------------------------------------------------------------------
@click.group()
def maintenance() -> None:
    """Routine maintenance: partitions ahead, retention, pruning, ANALYZE, REINDEX, size history."""


@maintenance.command("run")
@click.option("--dry-run", is_flag=True, help="Only report what would be done.")
@click.option("--no-reindex", is_flag=True, help="Report bloated indexes but do not rebuild them.")
@pass_app
def run(app: AppContext, dry_run: bool, no_reindex: bool) -> None:
    """Run exchange.run_maintenance() (settings: exchange.maintenance_settings), then REINDEX
    CONCURRENTLY the bloated indexes it reports. Idempotent: safe at any time."""
    steps = app.exchange.run_maintenance(dry_run, reindex=not no_reindex)
    print_table("maintenance (dry run)" if dry_run else "maintenance",
                ["step", "target", "outcome", "detail"],
                [(s.step, s.target, s.outcome, s.detail) for s in steps])
    refused = [s for s in steps if s.outcome == "refused"]
    if refused:
        console.print(f"[yellow]retention refused for {', '.join(s.target for s in refused)}:[/] "
                      "see the detail; the rest of the maintenance ran")


_SIMPLE_DAILY = re.compile(r"^(\d{1,2})\s+(\d{1,2})\s+\*\s+\*\s+\*$")


def _command_line(dsn: str | None) -> tuple[str, str]:
    """The pyexchange executable and the environment line for a scheduler (no password)."""
    exe = shutil.which("pyexchange") or sys.argv[0]
    env = ""
    if dsn:
        params = conninfo_to_dict(dsn)
        params.pop("password", None)  # from ~/.pgpass or PGPASSFILE instead
        env = make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})
    return exe, env


def print_schedule(schedule: str, dsn: str | None) -> None:
    exe, env = _command_line(dsn)
    env_prefix = f"PYEXCHANGE_DSN={shlex.quote(env)} " if env else ""
    console.print("[bold]crontab line[/] (crontab -e; times in the machine's zone):", highlight=False)
    click.echo(f"{schedule} {env_prefix}{shlex.quote(exe)} maintenance run "
               ">>/var/log/pyexchange-maintenance.log 2>&1")
    m = _SIMPLE_DAILY.match(schedule.strip())
    on_calendar = (f"*-*-* {int(m.group(2)):02d}:{int(m.group(1)):02d}:00" if m else "daily")
    console.print("\n[bold]or a systemd timer[/] (/etc/systemd/system/, then "
                  "systemctl enable --now pyexchange-maintenance.timer):", highlight=False)
    click.echo("# pyexchange-maintenance.service\n[Unit]\nDescription=pyexchange maintenance\n"
               "\n[Service]\nType=oneshot\n"
               + (f"Environment=PYEXCHANGE_DSN={shlex.quote(env)}\n" if env else "")
               + f"ExecStart={exe} maintenance run\n"
               "\n# pyexchange-maintenance.timer\n[Unit]\nDescription=Run pyexchange maintenance\n"
               f"\n[Timer]\nOnCalendar={on_calendar}\nPersistent=true\n"
               "\n[Install]\nWantedBy=timers.target")


@maintenance.command("schedule")
@click.option("--schedule", "schedule", default=DEFAULT_SCHEDULE, show_default=True,
              help="cron expression (pg_cron's clock is UTC; '@reboot' runs at server start).")
@click.option("--print", "print_only", is_flag=True,
              help="Print the crontab line and systemd timer even where pg_cron could run it.")
@pass_app
def schedule_cmd(app: AppContext, schedule: str, print_only: bool) -> None:
    """Schedule the maintenance: a pg_cron job where the server runs pg_cron for this database
    (the embedded server does), else print a crontab line and a systemd timer to install."""
    st = app.exchange.cron_status()
    if st.usable and not print_only:
        jobid = app.exchange.schedule_maintenance(schedule)
        console.print(f"pg_cron job {MAINTENANCE_JOB} (id {jobid}) scheduled: {schedule!r}")
        print_table("pg_cron jobs", ["id", "name", "schedule", "command", "last run", "status"],
                    [(j.jobid, j.jobname, j.schedule, j.command, j.last_run_at, j.last_status)
                     for j in app.exchange.cron_jobs()])
        return
    if not print_only:
        reason = ("pg_cron is not installed on the server" if not st.available else
                  "pg_cron is not in shared_preload_libraries" if not st.preloaded else
                  f"cron.database_name is {st.cron_database!r}, not {st.database!r}")
        err_console.print(f"[yellow]no pg_cron job:[/] {reason}; schedule it outside the database:")
    print_schedule(schedule, app.dsn)


COMMANDS: list[click.Command] = [monitor, metrics, maintenance]
