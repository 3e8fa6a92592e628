"""Live market data: the per-pair NOTIFY channel turned into a stream of book updates.

Every statement that writes order or trade events fires ``exchange.tg_outbox_events__after_insert``,
which sends one NOTIFY per trading pair touched on channel ``exchange_market_<symbol>`` with
``{"seq", "pair_id", "symbol", "trades": [[id, price, qty, taker_side]...],
"levels": [[side, price, qty_now, orders]...]}`` (docs/events.md). :func:`watch` listens
first, then reads a snapshot (book, recent trades), then applies each notification onto it:
levels carry absolute quantities, so applying them in order onto any earlier snapshot
converges to the database's book.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from pyexchange.api.trading import BookLevel, OrderBook, Trade
from pyexchange.errors import InvalidArgument, translating
from pyexchange.queries import query

_SYMBOL = re.compile(r"^[A-Z0-9]{2,9}-[A-Z0-9]{2,9}$")
RESYNC_AFTER = 1.0  # seconds after the first snapshot, read the book once more


def market_channel(symbol: str) -> str:
    """The NOTIFY channel of a trading pair."""
    if not _SYMBOL.match(symbol):
        raise InvalidArgument(f"not a trading pair symbol: {symbol!r}",
                              hint="Symbols look like BTC-USDT.")
    return f"exchange_market_{symbol}"


@dataclass(frozen=True)
class TradeTick:
    id: int
    price: Decimal
    amount: Decimal
    taker_side: str


@dataclass(frozen=True)
class LevelChange:
    side: str  # BUY or SELL
    price: Decimal
    amount: Decimal  # now resting at this price (0: the level is gone)
    orders: int


@dataclass(frozen=True)
class MarketUpdate:
    """One step of the live view: the change, and the book after it."""

    symbol: str
    seq: int  # the highest event id applied so far (0 before the first change)
    snapshot: bool  # True for a (re)read of the whole book rather than a change
    trades: tuple[TradeTick, ...]  # new trades (for a snapshot: the recent ones, newest first)
    levels: tuple[LevelChange, ...]  # the levels this update changed
    bids: tuple[BookLevel, ...]  # the book after it, best first, up to the depth asked
    asks: tuple[BookLevel, ...]
    # the book's own sequence number (get_order_book) as of the latest snapshot, and the
    # changes applied on top of that snapshot since: what a viewer shows as "where the book is"
    book_sequence: int = 0
    changes_since_snapshot: int = 0


class LiveBook:
    """The local copy of one pair's book, price -> (amount, orders) per side."""

    def __init__(self, symbol: str, depth: int) -> None:
        self.symbol = symbol
        self.depth = depth
        self.bids: dict[Decimal, tuple[Decimal, int]] = {}
        self.asks: dict[Decimal, tuple[Decimal, int]] = {}
        self.full_bids = self.full_asks = False  # the snapshot had depth levels (maybe more)
        self.seq = 0
        self.book_sequence = 0
        self.changes = 0

    def load(self, book: OrderBook) -> None:
        self.book_sequence = book.sequence
        self.changes = 0
        self.bids = {lv.price: (lv.amount, lv.orders) for lv in book.bids}
        self.asks = {lv.price: (lv.amount, lv.orders) for lv in book.asks}
        self.full_bids = len(book.bids) >= self.depth
        self.full_asks = len(book.asks) >= self.depth

    def apply(self, change: LevelChange) -> None:
        side = self.bids if change.side == "BUY" else self.asks
        if change.amount > 0:
            side[change.price] = (change.amount, change.orders)
        else:
            side.pop(change.price, None)

    def needs_snapshot(self) -> bool:
        """A side that was cut at the depth shrank below it: deeper levels are unknown."""
        return (self.full_bids and len(self.bids) < self.depth) or (
            self.full_asks and len(self.asks) < self.depth)

    def top(self) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        bids = sorted(self.bids.items(), key=lambda kv: kv[0], reverse=True)[: self.depth]
        asks = sorted(self.asks.items(), key=lambda kv: kv[0])[: self.depth]
        return (tuple(BookLevel(p, a, n) for p, (a, n) in bids),
                tuple(BookLevel(p, a, n) for p, (a, n) in asks))


def parse_payload(payload: str) -> tuple[int, bool, tuple[TradeTick, ...], tuple[LevelChange, ...]]:
    data: dict[str, Any] = json.loads(payload)
    trades = tuple(TradeTick(int(t[0]), Decimal(t[1]), Decimal(t[2]), str(t[3]))
                   for t in data.get("trades", []))
    levels = tuple(LevelChange(str(lv[0]), Decimal(lv[1]), Decimal(lv[2]), int(lv[3]))
                   for lv in data.get("levels", []))
    return int(data["seq"]), bool(data.get("truncated")), trades, levels


def watch(dsn: str, symbol: str, depth: int = 20, timeout: float | None = None,
          recent_trades: int = 20) -> Iterator[MarketUpdate]:
    """Yield a snapshot of ``symbol``'s market, then one update per committed change, on a
    dedicated connection (registered for the pair's channel, LISTENing on it), plus one more
    snapshot a second after the first. Stops after ``timeout`` seconds without a change
    (None: never); closing the generator closes the connection."""
    channel = market_channel(symbol)
    live = LiveBook(symbol, depth)
    conn = psycopg.connect(dsn, autocommit=True, application_name="pyexchange-watch")
    try:
        def snapshot() -> MarketUpdate:
            with translating():
                with conn.cursor(row_factory=class_row(OrderBook)) as cur:
                    cur.execute(query("get_order_book"), {"symbol": symbol, "depth": depth})
                    book = cur.fetchone()
                with conn.cursor(row_factory=class_row(Trade)) as cur:
                    cur.execute(query("get_recent_trades"),
                                {"symbol": symbol, "limit": recent_trades, "before_id": None,
                                 "after_id": None})
                    recent = cur.fetchall()
            assert book is not None
            live.load(book)
            bids, asks = live.top()
            return MarketUpdate(symbol, live.seq, True,
                                tuple(TradeTick(t.id, t.price, t.amount, str(t.taker_side))
                                      for t in recent), (), bids, asks, live.book_sequence, 0)

        with translating():
            # Registered, the outbox trigger NOTIFYs this pair's channel (it does not for
            # pairs nobody watches: NOTIFY serializes commits).
            conn.execute(query("register_listener"), {"channel": channel})
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        yield snapshot()
        # A change whose statement ran just before the registration but committed after the
        # snapshot was not announced: read the book once more after RESYNC_AFTER seconds.
        resync_at: float | None = time.monotonic() + RESYNC_AFTER
        idle_since = time.monotonic()
        while True:
            now = time.monotonic()
            waits = [] if resync_at is None else [max(0.0, resync_at - now)]
            if timeout is not None:
                waits.append(max(0.0, idle_since + timeout - now))
            got = list(conn.notifies(timeout=min(waits) if waits else None, stop_after=1))
            if not got:
                if resync_at is not None and time.monotonic() >= resync_at:
                    resync_at = None
                    yield snapshot()
                    continue
                if timeout is not None and time.monotonic() - idle_since >= timeout:
                    return
                continue
            idle_since = time.monotonic()
            for notify in got:
                seq, truncated, trades, levels = parse_payload(notify.payload)
                live.seq = max(live.seq, seq)
                for change in levels:
                    live.apply(change)
                if truncated or live.needs_snapshot():
                    yield snapshot()
                    continue
                bids, asks = live.top()
                live.changes += 1
                yield MarketUpdate(symbol, live.seq, False, trades, levels, bids, asks,
                                   live.book_sequence, live.changes)
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.execute(query("unregister_listener"), {"channel": channel})
        conn.close()
