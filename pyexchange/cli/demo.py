"""``pyexchange demo``: migrate the database (the configured one, else the embedded server),
set up a market and run the market simulation (:mod:`pyexchange.simulation`), then print the
books, trades, tickers, fees and the reconcile result and write the candlestick charts.
:func:`print_database_state` prints the tables, partitions and migrations."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pyexchange.cli import AppContext, console, pass_app, print_table
from pyexchange.config import configured_dsn
from pyexchange.migrate import Migrator


def _where(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn) if dsn else {}
    host = params.get("host") or "(libpq default)"
    port = params.get("port") or ""
    return f"database {params.get('dbname') or '(libpq default)'} on {host}" + (
        f" port {port}" if port else "")


def print_database_state(exchange: Any, out: Console | None = None) -> None:
    """Print the tables with their row counts, the partitions (partition_status) and the
    migration status of ``exchange``'s database."""
    out = out or console
    out.print(f"[bold]{_where(exchange.dsn)}[/]")
    print_table("tables (schema exchange)", ["table", "rows", "partitioned"],
                [(t.table_name, t.row_count, "yes" if t.partitioned else "")
                 for t in exchange.table_row_counts()])
    parts = exchange.partition_status()
    print_table("partitions", ["table", "month", "partition", "rows", "state"],
                [(p.table_name, p.month.strftime("%Y-%m") if p.month else "",
                  p.partition_name or "", "" if p.row_count is None else p.row_count,
                  "MISSING" if p.missing else "ok") for p in parts])
    status = Migrator(exchange.dsn).status()
    applied = sum(1 for s in status if s.applied)
    print_table("migrations", ["change", "applied", "note"],
                [(s.name, "yes" if s.applied else "no", s.note) for s in status])
    out.print(f"{applied} of {len(status)} change(s) applied; "
              f"{sum(1 for p in parts if p.missing)} partition(s) missing ahead")


@click.command()
@click.option("--orders", type=int, default=3000, show_default=True,
              help="Actions to simulate (placements and cancels).")
@click.option("--seed", type=int, default=None, help="Seed for a repeatable run.")
@click.option("--charts-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-charts"), show_default=True,
              help="Where the candlestick charts (PNG) are written.")
@click.option("--no-charts", is_flag=True, help="Do not write the charts.")
@click.option("--minutes", type=float, default=0, show_default=True,
              help="Spread the actions over this many minutes (more 1m candles); 0: flat out.")
@click.option("--show-state", is_flag=True,
              help="Also print the tables, partitions and migrations before the simulation.")
@click.option("--candle-seconds", type=click.FloatRange(0, 86400), default=0, show_default=True,
              help="Chart candles of N seconds built from the run's trades; 0: the run's "
                   "length / 40, so about 40 candles however fast the run was.")
@click.option("--klines", "use_klines", is_flag=True,
              help="Chart the database's own 1m K-lines instead (use with --minutes).")
@pass_app
def demo(app: AppContext, orders: int, seed: int | None, charts_dir: Path, no_charts: bool,
         minutes: float, show_state: bool, candle_seconds: float, use_klines: bool) -> None:
    """Migrate the database (the embedded server when no DSN is configured), set up a market
    (BTC, ETH, USDT, USD; BTC-USDT, ETH-USDT, ETH-BTC; funded traders) and simulate market
    makers and takers placing and cancelling orders. At the end: the order books, the last
    trades, the 24h tickers, the fees earned, the reconcile result and a candlestick chart
    (with volume) of each pair: about 40 candles over the run, built from its trades (a run
    shorter than a minute still draws a market), or the 1m K-lines with --klines."""
    if configured_dsn(app.dsn) is None:
        console.print("no DSN configured: using the embedded server "
                      "(`pyexchange server status` shows where it lives)")
    from pyexchange.config import resolve_dsn

    migrator = Migrator(resolve_dsn(app.dsn))
    done = migrator.migrate()
    console.print(migration_summary(done, migrator.status()), soft_wrap=True)
    ex = app.exchange
    if show_state:
        print_database_state(ex)
    run_simulation(ex, orders=orders, seed=seed,
                   charts_dir=None if no_charts else charts_dir, minutes=minutes,
                   candle_seconds=None if use_klines else candle_seconds)


def migration_summary(done: list[str], status: list[Any]) -> str:
    """What ``db migrate`` did, in words: the changes it applied now, or that the database
    already had every change (an embedded server is migrated when it is created)."""
    applied = [s.name for s in status if s.applied]
    if done:
        return (f"migrated: applied {len(done)} change(s) now ({', '.join(done)}); "
                f"{len(applied)} of {len(status)} applied")
    return (f"migrations: up to date, all {len(applied)} of {len(status)} change(s) of the "
            f"plan were applied before this run (last: {applied[-1] if applied else '-'})")


def run_simulation(ex: Any, *, orders: int, seed: int | None, charts_dir: Path | None,
                   minutes: float = 0, candle_seconds: float | None = 0) -> None:
    from pyexchange import simulation
    from pyexchange.cli.trading import print_book, print_tickers

    ids = simulation.setup_market(ex, lambda msg: console.print(f"[dim]{msg}[/]"))
    sim = simulation.Simulator(ex, ids, seed)
    columns = (TextColumn("[bold]simulating[/]"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} orders/s"), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn(), TimeRemainingColumn())
    started = time.monotonic()
    run_start = datetime.now(UTC)
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("demo", total=orders, rate="-", info="")
        for i in range(orders):
            if minutes > 0:   # pace: action i is due at i / orders of the run
                due = started + minutes * 60 * i / orders
                if due > time.monotonic():
                    time.sleep(due - time.monotonic())
            sim.step()
            if i % 25 == 24 or i == orders - 1:
                elapsed = time.monotonic() - started
                st = sim.stats
                progress.update(task, completed=i + 1, rate=f"{st.placed / elapsed:,.0f}",
                                info=f"{st.placed} placed, {st.canceled} canceled, "
                                     f"{st.fills} fills, {st.refused} refused")
    elapsed = time.monotonic() - started
    st = sim.stats
    console.print(f"{st.placed} orders placed in {elapsed:.1f} s ({st.placed / elapsed:,.0f} "
                  f"orders/s; {orders} actions, {orders / elapsed:,.0f}/s): "
                  f"{st.canceled} canceled, {st.fills} fills, "
                  f"{st.refused} refused" + (f" ({', '.join(f'{k} {v}' for k, v in sorted(st.refusals.items()))})"
                                             if st.refusals else ""))

    for p in simulation.PAIRS:
        print_book(ex.get_order_book(p.symbol, 8))
    for p in simulation.PAIRS:
        print_table(f"{p.symbol}: last trades", ["time", "taker", "price", "amount"], [
            (t.created_at.strftime("%H:%M:%S"), t.taker_side.value, _fmt(t.price), _fmt(t.amount))
            for t in ex.get_recent_trades(p.symbol, 8)])
    print_tickers(ex.get_ticker_24hr())
    print_table("fees earned (per pair, in the asset each side received)",
                ["pair", "asset", "amount"],
                [(r["symbol"], r["asset"], _fmt(r["amount"])) for r in ex._dicts("demo_fees")])
    counts = ex._dicts("demo_counts")[0]
    console.print("totals: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    problems = ex.reconcile()
    checks = ex._dicts("demo_trading_checks")
    if not problems and not checks:
        console.print("[bold green]reconcile: every invariant holds[/] (balances sum to zero per "
                      "asset, journal replays to the balances, frozen = open holds; no crossed "
                      "book, fills match trades, no hold left on an ended order)")
    else:
        print_table("reconcile: discrepancies", ["check", "asset", "account", "detail"],
                    [(d.check_name, d.asset, d.account_id, d.detail) for d in problems])
        print_table("trading checks", ["problem", "detail"],
                    [(c["problem"], c["detail"]) for c in checks])
    if charts_dir is not None:
        seconds = candle_seconds
        if seconds == 0:  # auto: about 40 candles over the run
            seconds = max(0.01, round((datetime.now(UTC) - run_start).total_seconds() / 40, 3))
        for path, count in simulation.write_charts(ex, charts_dir, seconds=seconds,
                                                   since=run_start):
            console.print(f"chart: {path} ({count} candles)", soft_wrap=True)


def _fmt(value: Any) -> str:
    return "" if value is None else format(Decimal(value).normalize(), "f")


COMMANDS: list[click.Command] = [demo]
