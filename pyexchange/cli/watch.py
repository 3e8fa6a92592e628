"""``pyexchange watch SYMBOL``: a live terminal view of one market (book, trades, ticker)."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import click
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pyexchange.cli import AppContext, console, pass_app
from pyexchange.market_feed import MarketUpdate, TradeTick


def render(update: MarketUpdate, trades: deque[TradeTick], ticker: Any) -> Group:
    since = (f" + {update.changes_since_snapshot} live change(s)"
             if update.changes_since_snapshot else "")
    book = Table(title=f"{update.symbol} book (sequence {update.book_sequence}{since})",
                 expand=False)
    book.add_column("side")
    book.add_column("price", justify="right")
    book.add_column("amount", justify="right")
    book.add_column("orders", justify="right")
    for lv in reversed(update.asks):
        book.add_row(Text("ask", style="red"), str(lv.price), str(lv.amount), str(lv.orders))
    for lv in update.bids:
        book.add_row(Text("bid", style="green"), str(lv.price), str(lv.amount), str(lv.orders))
    last = Table(title="last trades", expand=False)
    for col in ("id", "price", "amount", "taker"):
        last.add_column(col, justify="right")
    for t in trades:
        last.add_row(str(t.id), str(t.price), str(t.amount),
                     Text(t.taker_side, style="green" if t.taker_side == "BUY" else "red"))
    if ticker is None:
        line = Text("24h: no data")
    else:
        line = Text(f"24h  last {ticker.last_price}  open {ticker.open}  high {ticker.high}  "
                    f"low {ticker.low}  volume {ticker.volume}  change "
                    f"{ticker.price_change_percent}%  trades {ticker.trades_count}")
    return Group(line, book, last)


@click.command()
@click.argument("symbol")
@click.option("--depth", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--trades", "n_trades", default=15, show_default=True, type=click.IntRange(1, 200))
@click.option("--timeout", default=None, type=float,
              help="Exit after this many seconds without a change (default: never).")
@pass_app
def watch(app: AppContext, symbol: str, depth: int, n_trades: int, timeout: float | None) -> None:
    """Live view of SYMBOL's order book, last trades and 24h ticker (Ctrl-C to quit)."""
    ex = app.exchange
    trades: deque[TradeTick] = deque(maxlen=n_trades)
    ticker: Any = None
    ticker_at = 0.0
    updates = ex.watch(symbol, depth=depth, timeout=timeout, recent_trades=n_trades)
    try:
        with Live(console=console, auto_refresh=False) as live:
            for update in updates:
                if update.snapshot:
                    trades.clear()
                    trades.extend(update.trades)  # newest first
                else:
                    trades.extendleft(update.trades)  # oldest first, so newest ends leftmost
                if update.snapshot or (update.trades and time.monotonic() - ticker_at > 1.0):
                    found = ex.get_ticker_24hr(symbol)
                    ticker = found[0] if found else None
                    ticker_at = time.monotonic()
                live.update(render(update, trades, ticker), refresh=True)
    except KeyboardInterrupt:
        pass
    finally:
        updates.close()


COMMANDS: list[click.Command] = [watch]
