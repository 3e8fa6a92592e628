"""The trading domain's methods of :class:`pyexchange.Exchange`: trading pairs, placing and
cancelling orders (matching and settlement happen inside PostgreSQL, in the same
transaction), and market data. Amounts are ``Decimal`` in and out; rows are frozen
dataclasses; SQL enums are Python enums."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any
from uuid import UUID

from pyexchange.base import ClientBase


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_LOSS = "STOP_LOSS"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.PENDING, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class StpMode(StrEnum):
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


class PairStatus(StrEnum):
    TRADING = "TRADING"
    HALTED = "HALTED"


class KlineInterval(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H4 = "4h"
    D1 = "1d"


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _enum_value(value: Enum | str | None) -> str | None:
    return value.value if isinstance(value, Enum) else value


@dataclass(frozen=True)
class TradingPair:
    id: int
    symbol: str
    base_asset: str
    quote_asset: str
    price_precision: int
    amount_precision: int
    min_order_amount: Decimal
    min_notional: Decimal
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal
    status: PairStatus
    stp_mode: StpMode
    last_price: Decimal | None
    book_sequence: int | None

    def __post_init__(self) -> None:
        _set(self, "status", PairStatus(self.status))
        _set(self, "stp_mode", StpMode(self.stp_mode))


@dataclass(frozen=True)
class Fill:
    """One trade an order took as taker."""

    trade_id: int
    maker_order_id: int
    price: Decimal
    amount: Decimal
    quote_amount: Decimal
    fee: Decimal  # in the asset the taker received (base for a buy, quote for a sell)


@dataclass(frozen=True)
class Order:
    id: int
    uuid: UUID
    user_id: int
    symbol: str
    client_order_id: str | None
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    stp_mode: StpMode
    status: OrderStatus
    price: Decimal | None
    stop_price: Decimal | None
    amount: Decimal | None
    quote_amount: Decimal | None
    filled_amount: Decimal
    remaining_amount: Decimal
    filled_quote: Decimal
    fee_paid: Decimal
    hold_amount: Decimal
    created_at: datetime
    updated_at: datetime
    fills: tuple[Fill, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        _set(self, "side", Side(self.side))
        _set(self, "type", OrderType(self.type))
        _set(self, "time_in_force", TimeInForce(self.time_in_force))
        _set(self, "stp_mode", StpMode(self.stp_mode))
        _set(self, "status", OrderStatus(self.status))
        raw: Any = self.fills
        if raw is not None and not isinstance(raw, tuple):
            _set(self, "fills", tuple(
                Fill(trade_id=int(f["trade_id"]), maker_order_id=int(f["maker_order_id"]),
                     price=Decimal(f["price"]), amount=Decimal(f["amount"]),
                     quote_amount=Decimal(f["quote_amount"]), fee=Decimal(f["fee"]))
                for f in raw))


@dataclass(frozen=True)
class UserTrade:
    """One fill of a user (``exchange.get_user_trades``): the user's side of one trade."""

    trade_id: int
    symbol: str
    order_id: int
    side: Side
    role: str  # MAKER or TAKER
    price: Decimal
    amount: Decimal
    quote_amount: Decimal
    fee: Decimal
    fee_asset: str  # base for a buy, quote for a sell: the asset the user received
    created_at: datetime

    def __post_init__(self) -> None:
        _set(self, "side", Side(self.side))


@dataclass(frozen=True)
class OrderRequest:
    """One order of a batch for :meth:`TradingAPI.place_orders`."""

    user_id: int
    symbol: str
    side: Side | str
    type: OrderType | str
    amount: Decimal | None
    price: Decimal | None = None
    time_in_force: TimeInForce | str = TimeInForce.GTC
    client_order_id: str | None = None
    stop_price: Decimal | None = None
    quote_amount: Decimal | None = None
    stp_mode: StpMode | str | None = None


@dataclass(frozen=True)
class BookLevel:
    price: Decimal
    amount: Decimal
    orders: int


@dataclass(frozen=True)
class OrderBook:
    symbol: str
    sequence: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]

    def __post_init__(self) -> None:
        for side in ("bids", "asks"):
            raw: Any = getattr(self, side)
            if raw and not isinstance(raw[0], BookLevel):
                _set(self, side, tuple(BookLevel(Decimal(p), Decimal(a), int(n))
                                       for p, a, n in raw))
            elif not isinstance(raw, tuple):
                _set(self, side, tuple(raw))

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None


@dataclass(frozen=True)
class Trade:
    id: int
    symbol: str
    price: Decimal
    amount: Decimal
    quote_amount: Decimal
    taker_side: Side
    is_maker_buyer: bool
    buyer_fee: Decimal
    seller_fee: Decimal
    created_at: datetime

    def __post_init__(self) -> None:
        _set(self, "taker_side", Side(self.taker_side))


@dataclass(frozen=True)
class Kline:
    open_time: datetime
    close_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades_count: int


@dataclass(frozen=True)
class Ticker:
    symbol: str
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal | None
    volume: Decimal
    quote_volume: Decimal
    trades_count: int
    price_change: Decimal
    price_change_percent: Decimal
    last_price: Decimal | None
    window_start: datetime


class TradingAPI(ClientBase):
    """Trading pairs, orders and market data."""

    # --- pairs ------------------------------------------------------------------------------
    def create_trading_pair(
        self, symbol: str, base: str, quote: str, *, price_precision: int | None = None,
        amount_precision: int | None = None, min_order_amount: Decimal = Decimal(0),
        min_notional: Decimal = Decimal(0), maker_fee_rate: Decimal = Decimal("0.001"),
        taker_fee_rate: Decimal = Decimal("0.001"),
        stp_mode: StpMode | str = StpMode.EXPIRE_MAKER,
    ) -> TradingPair:
        """``exchange.create_trading_pair``: a market with its tick, step, minimums and fees
        (precisions left None are derived from the two assets' decimals)."""
        return self._one("create_trading_pair", {
            "symbol": symbol, "base": base, "quote": quote, "price_precision": price_precision,
            "amount_precision": amount_precision, "min_order_amount": min_order_amount,
            "min_notional": min_notional, "maker_fee_rate": maker_fee_rate,
            "taker_fee_rate": taker_fee_rate, "stp_mode": _enum_value(stp_mode)}, TradingPair)

    def set_trading_pair_status(self, symbol: str, status: PairStatus | str) -> TradingPair:
        """``exchange.set_trading_pair_status``: HALTED (cancels only) or TRADING."""
        return self._one("set_trading_pair_status",
                         {"symbol": symbol, "status": _enum_value(status)}, TradingPair)

    def get_trading_pairs(self) -> list[TradingPair]:
        return self._all("get_trading_pairs", None, TradingPair)

    # --- orders -----------------------------------------------------------------------------
    def place_order(
        self, user_id: int, symbol: str, side: Side | str, type: OrderType | str,
        amount: Decimal | None, price: Decimal | None = None, *,
        time_in_force: TimeInForce | str = TimeInForce.GTC, client_order_id: str | None = None,
        stop_price: Decimal | None = None, quote_amount: Decimal | None = None,
        stp_mode: StpMode | str | None = None, submit: bool = True,
    ) -> Order:
        """The order after matching, with its fills. By default through the procedure
        ``exchange.submit_order`` (its own transactions: the market's lock is released before
        the WAL flush, requests waiting for a busy market are placed together, and the call
        returns once the order is durable); ``submit=False`` calls the function
        ``exchange.place_order`` in a transaction of its own (docs/trading.md says when)."""
        for value in (amount, price, stop_price, quote_amount):
            if isinstance(value, float):
                raise TypeError("amounts and prices are Decimal, never float")
        call = self._call_one if submit else self._one
        return call("submit_order" if submit else "place_order", {
            "user_id": user_id, "symbol": symbol, "side": _enum_value(side),
            "type": _enum_value(type), "amount": amount, "price": price,
            "time_in_force": _enum_value(time_in_force), "client_order_id": client_order_id,
            "stop_price": stop_price, "quote_amount": quote_amount,
            "stp_mode": _enum_value(stp_mode)}, Order)

    def process_order_requests(self) -> int:
        """``exchange.process_order_requests`` until nothing is left to do: places submit_order
        requests nobody waits for (after a crash), one batch per transaction. Returns how
        many batches it placed."""
        batches = 0
        while True:
            pending = self._scalar("process_order_requests")
            if not pending:
                return batches
            batches += 1

    def place_orders(self, requests: Sequence[OrderRequest]) -> list[Order]:
        """``exchange.place_orders``: a batch in one transaction (atomic: a refusal refuses
        it all), markets locked in ascending id, postings netted across the batch."""
        cols: dict[str, list[Any]] = {k: [] for k in (
            "user_id", "symbol", "side", "type", "amount", "price", "time_in_force",
            "client_order_id", "stop_price", "quote_amount", "stp_mode")}
        for r in requests:
            for key in cols:
                value = getattr(r, key)
                if isinstance(value, float):
                    raise TypeError("amounts and prices are Decimal, never float")
                cols[key].append(_enum_value(value) if isinstance(value, Enum) else value)
        return self._all("place_orders", cols, Order)

    def cancel_order(self, user_id: int, order_id: int) -> Order:
        """``exchange.cancel_order``: releases the hold exactly."""
        return self._one("cancel_order", {"user_id": user_id, "order_id": order_id}, Order)

    def cancel_order_by_client_id(self, user_id: int, client_order_id: str) -> Order:
        return self._one("cancel_order_by_client_id",
                         {"user_id": user_id, "client_order_id": client_order_id}, Order)

    def cancel_all_orders(self, user_id: int, symbol: str | None = None) -> list[Order]:
        return self._all("cancel_all_orders", {"user_id": user_id, "symbol": symbol}, Order)

    def get_orders(self, user_id: int, symbol: str | None = None, *, open_only: bool = False,
                   limit: int = 100, before_id: int | None = None,
                   after_id: int | None = None) -> list[Order]:
        """``exchange.get_orders``: newest first; ``before_id`` pages to older orders (pass
        the last id of a page), ``after_id`` to newer ones (the first id of a page)."""
        return self._all("get_orders", {"user_id": user_id, "symbol": symbol,
                                        "open_only": open_only, "limit": limit,
                                        "order_id": None, "before_id": before_id,
                                        "after_id": after_id}, Order)

    def get_order(self, user_id: int, order_id: int) -> Order:
        return self._one("get_orders", {"user_id": user_id, "symbol": None, "open_only": False,
                                        "limit": 1, "order_id": order_id, "before_id": None,
                                        "after_id": None}, Order)

    def get_user_trades(self, user_id: int, symbol: str | None = None, *,
                        order_id: int | None = None, limit: int = 100) -> list[UserTrade]:
        """``exchange.get_user_trades``: the user's fills, newest first (one pair's, or one
        order's), with side, role, fee and fee asset."""
        return self._all("get_user_trades", {"user_id": user_id, "symbol": symbol,
                                              "order_id": order_id, "limit": limit}, UserTrade)

    # --- market data ------------------------------------------------------------------------
    def get_order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        return self._one("get_order_book", {"symbol": symbol, "depth": depth}, OrderBook)

    def get_recent_trades(self, symbol: str | None, limit: int = 50, *,
                          before_id: int | None = None,
                          after_id: int | None = None) -> list[Trade]:
        """``exchange.get_recent_trades``: the pair's (every pair's for None) latest trades,
        newest first; ``before_id``/``after_id`` page to older/newer trades."""
        return self._all("get_recent_trades", {"symbol": symbol, "limit": limit,
                                               "before_id": before_id, "after_id": after_id},
                         Trade)

    def get_klines(self, symbol: str, interval: KlineInterval | str = KlineInterval.M1, *,
                   start: datetime | None = None, end: datetime | None = None,
                   limit: int = 500) -> list[Kline]:
        return self._all("get_klines", {"symbol": symbol, "interval": _enum_value(interval),
                                        "from": start, "to": end, "limit": limit}, Kline)

    def get_ticker_24hr(self, symbol: str | None = None) -> list[Ticker]:
        return self._all("get_ticker_24hr", {"symbol": symbol}, Ticker)
