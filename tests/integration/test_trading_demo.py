"""`pyexchange demo` runs the market simulation on a database, twice (it reuses what exists),
ends with reconcile clean, and writes one chart per pair."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyexchange import cli
from pyexchange.cli import main


def test_demo_runs_twice_and_writes_charts(clone_dsn: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 250)
    runner = CliRunner()
    for run in range(2):
        charts = tmp_path / f"charts{run}"
        result = runner.invoke(main, ["--dsn", clone_dsn, "demo", "--orders", "150", "--seed",
                                      str(run), "--charts-dir", str(charts),
                                      *(["--klines"] if run else [])],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert "reconcile: every invariant holds" in result.output, result.output
        assert "BTC-USDT order book" in result.output and "24h tickers" in result.output
        # the clone was migrated before: the demo says so rather than "0 changes applied"
        assert "migrations: up to date, all" in result.output
        assert "orders/s" in result.output and "actions/s" not in result.output
        pngs = sorted(p.name for p in charts.glob("*.png"))
        assert len(pngs) == 3 and all((charts / p).stat().st_size > 5000 for p in pngs)
        counts = [int(n) for n in re.findall(r"\((\d+) candles\)", result.output)]
        assert len(counts) == 3
        if run == 0:  # candles of the run's trades: a short run still draws a market
            assert all(p.endswith("s.png") for p in pngs), pngs
            assert max(counts) >= 10, counts
        else:  # the 1m K-lines
            assert pngs == ["BTC-USDT-1m.png", "ETH-BTC-1m.png", "ETH-USDT-1m.png"]
