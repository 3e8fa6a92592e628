"""The market simulation behind ``pyexchange demo``.

Market makers quote both sides of each pair around a drifting mid price and pull stale
quotes; takers send market orders (by base amount, or buys by quote amount), crossing IOC
limits and the occasional stop order. Every action goes through the public API
(``exchange.place_order`` / ``exchange.cancel_order``), so the database does all the work:
matching, settlement, K-lines, events. A seed makes a run repeatable on a given database
state (one connection, one action at a time).

Running it again on the same database reuses the assets, pairs and traders and tops the
traders up with a fresh deposit.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from pyexchange.errors import ExchangeError

D = Decimal

ASSETS = (("BTC", "Bitcoin", "CRYPTO", 8), ("ETH", "Ether", "CRYPTO", 8),
          ("USDT", "Tether USD", "CRYPTO", 8), ("USD", "US Dollar", "FIAT", 2))


@dataclass(frozen=True)
class PairSpec:
    symbol: str
    base: str
    quote: str
    price_precision: int
    amount_precision: int
    mid: Decimal
    lot: Decimal            # a typical order size
    min_notional: Decimal


PAIRS = (
    PairSpec("BTC-USDT", "BTC", "USDT", 2, 5, D("60000"), D("0.05"), D("10")),
    PairSpec("ETH-USDT", "ETH", "USDT", 2, 4, D("3000"), D("0.8"), D("10")),
    PairSpec("ETH-BTC", "ETH", "BTC", 5, 3, D("0.05"), D("0.8"), D("0.0001")),
)
MAKERS = ("demo_mm_alpha", "demo_mm_beta", "demo_mm_gamma")
TAKERS = tuple(f"demo_trader_{i:02d}" for i in range(1, 9))
FUNDING = {"BTC": D("50"), "ETH": D("800"), "USDT": D("3000000"), "USD": D("100000")}


@dataclass
class SimStats:
    placed: int = 0
    canceled: int = 0
    refused: int = 0
    fills: int = 0
    refusals: dict[str, int] = field(default_factory=dict)


def setup_market(ex: Any, log: Callable[[str], None]) -> dict[str, int]:
    """Assets, pairs and traders (created when missing), and a fresh deposit for each
    trader. Returns the trader ids by username."""
    have_assets = {a.symbol for a in ex.list_assets()}
    for sym, name, kind, decimals in ASSETS:
        if sym not in have_assets:
            ex.create_asset(sym, name, kind, decimals)
            log(f"created asset {sym}")
    have_pairs = {p.symbol for p in ex.get_trading_pairs()}
    for p in PAIRS:
        if p.symbol not in have_pairs:
            ex.create_trading_pair(p.symbol, p.base, p.quote, price_precision=p.price_precision,
                                   amount_precision=p.amount_precision,
                                   min_notional=p.min_notional, maker_fee_rate=D("0.001"),
                                   taker_fee_rate=D("0.002"))
            log(f"created pair {p.symbol}")
    ids: dict[str, int] = {}
    run = uuid.uuid4().hex[:12]
    for name in (*MAKERS, *TAKERS):
        found = ex._scalar("demo_find_user", {"username": name})
        if found is None:
            found = ex._scalar("demo_create_user", {"username": name})
        ids[name] = int(found)
        scale = D(4) if name in MAKERS else D(1)
        for asset, amount in FUNDING.items():
            ex.deposit(ids[name], asset, amount * scale, f"demo-{run}-{name}-{asset}")
    log(f"{len(ids)} traders funded (deposit run {run})")
    return ids


def _q(value: Decimal, places: int) -> Decimal:
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_DOWN)


class Simulator:
    def __init__(self, ex: Any, ids: dict[str, int], seed: int | None) -> None:
        self.ex = ex
        self.ids = ids
        self.rnd = random.Random(seed)
        self.stats = SimStats()
        self.mid = {p.symbol: p.mid for p in PAIRS}
        self.quotes: dict[tuple[str, str], list[int]] = {}
        for p in PAIRS:
            last = next((t.last_price for t in ex.get_trading_pairs()
                         if t.symbol == p.symbol and t.last_price), None)
            if last:
                self.mid[p.symbol] = D(last)

    def _place(self, user: str, p: PairSpec, side: str, type_: str, amount: Decimal | None,
               price: Decimal | None = None, **kw: Any) -> Any:
        try:
            order = self.ex.place_order(self.ids[user], p.symbol, side, type_, amount, price, **kw)
        except ExchangeError as exc:
            self.stats.refused += 1
            key = type(exc).__name__
            self.stats.refusals[key] = self.stats.refusals.get(key, 0) + 1
            return None
        self.stats.placed += 1
        self.stats.fills += len(order.fills or ())
        if order.fills:
            self.mid[p.symbol] = order.fills[-1].price
        return order

    def step(self) -> None:
        """One action: a maker quote (or a cancel of a stale quote), or a taker order."""
        rnd = self.rnd
        p = rnd.choice(PAIRS)
        tick = D(1).scaleb(-p.price_precision)
        # the fair price drifts a little
        drift = D(str(rnd.gauss(0, 0.0008)))
        fair = _q(self.mid[p.symbol] * (1 + drift), p.price_precision)
        self.mid[p.symbol] = max(fair, tick * 10)
        r = rnd.random()
        if r < 0.62:
            maker = rnd.choice(MAKERS)
            key = (maker, p.symbol)
            mine = self.quotes.setdefault(key, [])
            if len(mine) > 12 or (mine and rnd.random() < 0.3):
                oid = mine.pop(0)
                try:
                    self.ex.cancel_order(self.ids[maker], oid)
                    self.stats.canceled += 1
                except ExchangeError:
                    self.stats.refused += 1  # it filled meanwhile
                return
            side = rnd.choice(("BUY", "SELL"))
            offset = D(rnd.randint(1, 25)) * self.mid[p.symbol] * D("0.0004")
            price = _q(self.mid[p.symbol] - offset if side == "BUY" else self.mid[p.symbol] + offset,
                       p.price_precision)
            amount = _q(p.lot * D(str(rnd.uniform(0.2, 2.5))), p.amount_precision)
            order = self._place(maker, p, side, "LIMIT", amount, max(price, tick))
            if order is not None and order.status.is_open:
                mine.append(order.id)
        elif r < 0.80:
            taker = rnd.choice(TAKERS)
            side = rnd.choice(("BUY", "SELL"))
            if side == "BUY" and rnd.random() < 0.4:
                quote = _q(p.lot * self.mid[p.symbol] * D(str(rnd.uniform(0.1, 1.2))), 2
                           if p.quote != "BTC" else 6)
                self._place(taker, p, "BUY", "MARKET", None, quote_amount=quote)
            else:
                amount = _q(p.lot * D(str(rnd.uniform(0.05, 1.0))), p.amount_precision)
                self._place(taker, p, side, "MARKET", amount)
        elif r < 0.97:
            taker = rnd.choice(TAKERS)
            side = rnd.choice(("BUY", "SELL"))
            through = D(rnd.randint(0, 8)) * self.mid[p.symbol] * D("0.0004")
            price = _q(self.mid[p.symbol] + through if side == "BUY" else self.mid[p.symbol] - through,
                       p.price_precision)
            amount = _q(p.lot * D(str(rnd.uniform(0.05, 1.0))), p.amount_precision)
            self._place(taker, p, side, "LIMIT", amount, max(price, tick),
                        time_in_force=rnd.choice(("IOC", "GTC", "FOK")))
        else:
            taker = rnd.choice(TAKERS)
            side = rnd.choice(("BUY", "SELL"))
            away = D(rnd.randint(3, 15)) * self.mid[p.symbol] * D("0.0004")
            stop = _q(self.mid[p.symbol] + away if side == "BUY" else self.mid[p.symbol] - away,
                      p.price_precision)
            amount = _q(p.lot * D(str(rnd.uniform(0.05, 0.5))), p.amount_precision)
            if rnd.random() < 0.5:
                self._place(taker, p, side, "STOP_LOSS", amount, stop_price=max(stop, tick))
            else:
                limit = _q(stop * (D("1.002") if side == "BUY" else D("0.998")), p.price_precision)
                self._place(taker, p, side, "STOP_LOSS_LIMIT", amount, max(limit, tick),
                            stop_price=max(stop, tick))


@dataclass(frozen=True)
class Candle:
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def candles(ex: Any, symbol: str, *, seconds: float | None,
            since: datetime | None) -> list[Candle]:
    """The pair's candles: the database's own 1m K-lines (``seconds`` None), or candles of
    ``seconds`` built from the trades since ``since`` (the demo's run)."""
    if seconds is None:
        return [Candle(k.open_time, k.open, k.high, k.low, k.close, k.volume)
                for k in ex.get_klines(symbol, "1m", limit=240)]
    return [Candle(**row) for row in ex._dicts("demo_candles", {
        "symbol": symbol, "seconds": Decimal(str(seconds)), "since": since})]


def write_charts(ex: Any, directory: Path, *, seconds: float | None = None,
                 since: datetime | None = None) -> list[tuple[Path, int]]:
    """One PNG per pair: candlesticks (one slot per candle) with the volume below; the 1m
    K-lines, or ``seconds``-long candles of the trades since ``since`` (see :func:`candles`).
    Returns each chart's path and number of candles."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    directory.mkdir(parents=True, exist_ok=True)
    step_s = seconds or 60
    label = f"{step_s:g}s" if step_s < 60 or step_s % 60 else f"{step_s / 60:g}m"
    paths: list[tuple[Path, int]] = []
    for p in PAIRS:
        klines = candles(ex, p.symbol, seconds=seconds, since=since)
        fig, (ax, axv) = plt.subplots(2, 1, figsize=(11, 6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1]})
        start = klines[0].open_time if klines else None
        for k in klines:
            assert start is not None
            x = (k.open_time - start).total_seconds() / step_s
            up = k.close >= k.open
            color = "#26a69a" if up else "#ef5350"
            ax.plot([x, x], [float(k.low), float(k.high)], color=color, linewidth=1)
            body_low, body_high = (k.open, k.close) if up else (k.close, k.open)
            height = max(float(body_high - body_low), float(k.high) * 1e-5)
            ax.add_patch(Rectangle((x - 0.3, float(body_low)), 0.6, height, color=color))
            axv.add_patch(Rectangle((x - 0.3, 0), 0.6, float(k.volume), color=color, alpha=0.7))
        if klines and start is not None:
            lo = min(float(k.low) for k in klines)
            hi = max(float(k.high) for k in klines)
            pad = (hi - lo) * 0.1 or hi * 0.001
            ax.set_ylim(lo - pad, hi + pad)
            axv.set_ylim(0, max(float(k.volume) for k in klines) * 1.15)
            span = (klines[-1].open_time - start).total_seconds() / step_s
            ax.set_xlim(-1, span + 1)
            every = max(1, int(span // (10 if step_s >= 1 else 6)) or 1)
            ticks = list(range(0, int(span) + 1, every))
            axv.set_xticks(ticks)
            fmt = "%H:%M" if step_s >= 60 else "%H:%M:%S" if step_s >= 1 else "%H:%M:%S.%f"
            axv.set_xticklabels([(start + timedelta(seconds=t * step_s)).strftime(fmt)[:10]
                                 for t in ticks])
        source = "K-lines" if seconds is None else "candles of the run's trades"
        ax.set_title(f"{p.symbol} {label} {source} ({len(klines)} candles, UTC)")
        ax.set_ylabel(p.quote)
        axv.set_ylabel(f"volume ({p.base})")
        ax.grid(alpha=0.3)
        axv.grid(alpha=0.3)
        fig.tight_layout()
        path = directory / f"{p.symbol}-{label}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append((path.resolve(), len(klines)))
    return paths
