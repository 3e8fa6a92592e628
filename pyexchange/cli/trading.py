"""CLI commands of the trading domain: ``pyexchange pair create|list|halt|resume``,
``pyexchange order place|cancel|list``, ``pyexchange book SYMBOL``, ``pyexchange trades
SYMBOL``, ``pyexchange klines SYMBOL --interval 1m`` and ``pyexchange ticker [SYMBOL]``.
Amounts and prices are parsed as Decimal, never float."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from pyexchange.api.trading import (
    KlineInterval,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
    TradingPair,
    UserTrade,
)
from pyexchange.cli import AppContext, pass_app, print_table
from pyexchange.cli.output import Section, output_format, print_record
from pyexchange.cli.users import USER


class DecimalParam(click.ParamType[Decimal]):
    name = "decimal"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        if isinstance(value, Decimal):
            return value
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal number", param, ctx)
        if not result.is_finite():
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return result


DECIMAL = DecimalParam()


def _fmt(value: Decimal | None) -> str | None:
    """A decimal as its plain digits (no exponent); None stays None (JSON null, empty cell)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _choices(enum: Any) -> click.Choice[str]:
    return click.Choice([e.value for e in enum], case_sensitive=False)


def _print_pairs(pairs: list[TradingPair]) -> None:
    print_table("trading pairs", [
        "symbol", "base", "quote", "tick", "step", "min amount", "min notional", "maker fee",
        "taker fee", "stp", "status", "last price"], [
        (p.symbol, p.base_asset, p.quote_asset, _fmt(Decimal(1).scaleb(-p.price_precision)),
         _fmt(Decimal(1).scaleb(-p.amount_precision)), _fmt(p.min_order_amount),
         _fmt(p.min_notional), _fmt(p.maker_fee_rate), _fmt(p.taker_fee_rate),
         p.stp_mode.value, p.status.value, _fmt(p.last_price)) for p in pairs])


ORDER_COLUMNS = ["id", "symbol", "side", "type", "tif", "status", "price", "stop", "amount",
                 "filled", "avg price", "fee", "hold", "client id"]


def _order_row(o: Order) -> tuple[Any, ...]:
    return (o.id, o.symbol, o.side.value, o.type.value, o.time_in_force.value, o.status.value,
            _fmt(o.price), _fmt(o.stop_price),
            _fmt(o.amount) if o.amount is not None else f"quote {_fmt(o.quote_amount)}",
            _fmt(o.filled_amount),
            _fmt((o.filled_quote / o.filled_amount).quantize(Decimal("1e-8")))
            if o.filled_amount else "", _fmt(o.fee_paid), _fmt(o.hold_amount),
            o.client_order_id)


def print_orders(title: str, orders: list[Order]) -> None:
    print_table(title, ORDER_COLUMNS, [_order_row(o) for o in orders])


FILL_COLUMNS = ["trade", "time", "symbol", "order", "side", "role", "price", "amount", "quote",
                "fee", "fee asset"]


def _fill_rows(fills: list[UserTrade]) -> list[tuple[Any, ...]]:
    return [(f.trade_id, f.created_at, f.symbol, f.order_id, f.side.value, f.role,
             _fmt(f.price), _fmt(f.amount), _fmt(f.quote_amount), _fmt(f.fee), f.fee_asset)
            for f in fills]


MAX_FILLS = 1000  # exchange.get_user_trades serves at most this many rows per call


def _order_fills(ex: Any, user_id: int, order_id: int) -> tuple[list[UserTrade], list[str]]:
    """The order's fills (the newest MAX_FILLS) and a note when it has more than that."""
    got: list[UserTrade] = ex.get_user_trades(user_id, order_id=order_id, limit=MAX_FILLS)
    more = ([f"the newest {MAX_FILLS} fills are shown; the order may have more"]
            if len(got) == MAX_FILLS else [])
    return got, more


def print_order(o: Order, fills: list[UserTrade], notes: Sequence[str] = ()) -> None:
    """One order with its fills (and what self-trade prevention did), in the --format."""
    fields: list[tuple[str, Any]] = list(zip(ORDER_COLUMNS, _order_row(o), strict=True))
    fields += [("created", o.created_at), ("updated", o.updated_at)]
    if notes:
        fields.append(("notes", "; ".join(notes)))
    print_record(f"order {o.id}", fields, [Section("fills", FILL_COLUMNS, _fill_rows(fills))])


def stp_notes(ex: Any, o: Order) -> list[str]:
    """What self-trade prevention did in the placement that returned ``o``: the user's resting
    orders it expired (EXPIRE_MAKER, EXPIRE_BOTH: expired in that very transaction, so their
    updated_at is the order's created_at) and whether it expired the new order itself
    (EXPIRE_TAKER, EXPIRE_BOTH: the order expired while the user still rests an order on the
    other side that its price crosses)."""
    notes: list[str] = []
    mine = ex.get_orders(o.user_id, o.symbol, limit=200)
    expired = [m.id for m in mine if m.id != o.id and m.status == OrderStatus.EXPIRED
               and m.updated_at == o.created_at]
    if expired:
        notes.append("self-trade prevention expired your resting order(s) "
                     + ", ".join(str(i) for i in expired))
    if o.status == OrderStatus.EXPIRED and o.stp_mode in (StpMode.EXPIRE_TAKER,
                                                           StpMode.EXPIRE_BOTH):
        def crosses(m: Order) -> bool:
            if m.side == o.side or not m.status.is_open or m.price is None:
                return False
            if o.price is None:
                return True
            return m.price <= o.price if o.side == Side.BUY else m.price >= o.price
        if any(crosses(m) for m in mine):
            notes.append(f"self-trade prevention ({o.stp_mode.value}) expired this order: "
                         f"it would have traded with your own resting order")
    return notes


def print_book(book: OrderBook) -> None:
    rows = []
    for i in range(max(len(book.bids), len(book.asks))):
        bid = book.bids[i] if i < len(book.bids) else None
        ask = book.asks[i] if i < len(book.asks) else None
        rows.append((
            bid.orders if bid else "", _fmt(bid.amount) if bid else "",
            _fmt(bid.price) if bid else "", _fmt(ask.price) if ask else "",
            _fmt(ask.amount) if ask else "", ask.orders if ask else ""))
    print_table(f"{book.symbol} order book (sequence {book.sequence})",
                ["orders", "bid amount", "bid", "ask", "ask amount", "orders"], rows)


# --- pyexchange pair ---------------------------------------------------------------------
@click.group()
def pair() -> None:
    """Trading pairs: create, list, halt, resume."""


@pair.command("create")
@click.argument("symbol")
@click.argument("base")
@click.argument("quote")
@click.option("--price-precision", type=int, default=None,
              help="Decimals of a price (the tick is 10^-n); default: min(2, quote decimals).")
@click.option("--amount-precision", type=int, default=None,
              help="Decimals of an amount (the step is 10^-n); default: min(6, base decimals, "
                   "quote decimals - price precision).")
@click.option("--min-amount", type=DECIMAL, default=Decimal(0), show_default=True)
@click.option("--min-notional", type=DECIMAL, default=Decimal(0), show_default=True)
@click.option("--maker-fee", type=DECIMAL, default=Decimal("0.001"), show_default=True)
@click.option("--taker-fee", type=DECIMAL, default=Decimal("0.001"), show_default=True)
@click.option("--stp", type=_choices(StpMode), default=StpMode.EXPIRE_MAKER.value,
              show_default=True, help="Default self-trade prevention mode.")
@output_format
@pass_app
def pair_create(app: AppContext, symbol: str, base: str, quote: str,
                price_precision: int | None, amount_precision: int | None, min_amount: Decimal, min_notional: Decimal,
                maker_fee: Decimal, taker_fee: Decimal, stp: str) -> None:
    """Create the market SYMBOL (BASE-QUOTE)."""
    p = app.exchange.create_trading_pair(
        symbol, base, quote, price_precision=price_precision,
        amount_precision=amount_precision, min_order_amount=min_amount,
        min_notional=min_notional, maker_fee_rate=maker_fee, taker_fee_rate=taker_fee,
        stp_mode=stp.upper())
    _print_pairs([p])


@pair.command("list")
@output_format
@pass_app
def pair_list(app: AppContext) -> None:
    """List the trading pairs and their rules."""
    _print_pairs(app.exchange.get_trading_pairs())


@pair.command("halt")
@click.argument("symbol")
@output_format
@pass_app
def pair_halt(app: AppContext, symbol: str) -> None:
    """Halt SYMBOL: it accepts cancels only."""
    _print_pairs([app.exchange.set_trading_pair_status(symbol, "HALTED")])


@pair.command("resume")
@click.argument("symbol")
@output_format
@pass_app
def pair_resume(app: AppContext, symbol: str) -> None:
    """Resume trading on SYMBOL."""
    _print_pairs([app.exchange.set_trading_pair_status(symbol, "TRADING")])


# --- pyexchange order --------------------------------------------------------------------
@click.group()
def order() -> None:
    """Orders: place, cancel, list."""


@order.command("place")
@click.option("--user", "user_id", type=USER, required=True,
              help="The user placing the order (id or username).")
@click.argument("symbol")
@click.argument("side", type=_choices(Side))
@click.argument("type_", metavar="TYPE", type=_choices(OrderType))
@click.argument("amount", type=DECIMAL, required=False)
@click.option("--price", type=DECIMAL)
@click.option("--tif", type=_choices(TimeInForce), default="GTC", show_default=True)
@click.option("--client-order-id")
@click.option("--stop-price", type=DECIMAL)
@click.option("--quote-amount", type=DECIMAL, help="A market buy by quote amount.")
@click.option("--stp", type=_choices(StpMode), help="Self-trade prevention (default: the pair's).")
@click.option("--function", "use_function", is_flag=True,
              help="Call the function exchange.place_order (in one transaction) instead of "
                   "the procedure exchange.submit_order.")
@output_format
@pass_app
def order_place(app: AppContext, user_id: int, symbol: str, side: str, type_: str,
                amount: Decimal | None, price: Decimal | None, tif: str,
                client_order_id: str | None, stop_price: Decimal | None,
                quote_amount: Decimal | None, stp: str | None, use_function: bool) -> None:
    """Place an order: SYMBOL SIDE TYPE [AMOUNT] (through exchange.submit_order)."""
    o: Order = app.exchange.place_order(
        user_id, symbol, side.upper(), type_.upper(), amount, price, time_in_force=tif.upper(),
        client_order_id=client_order_id, stop_price=stop_price, quote_amount=quote_amount,
        stp_mode=stp.upper() if stp else None, submit=not use_function)
    ex = app.exchange
    fills, more = _order_fills(ex, user_id, o.id) if o.fills else ([], [])
    print_order(o, fills, stp_notes(ex, o) + more)


@order.command("show")
@click.option("--user", "user_id", type=USER, required=True,
              help="The order's owner (id or username).")
@click.argument("order_id", type=int)
@output_format
@pass_app
def order_show(app: AppContext, user_id: int, order_id: int) -> None:
    """One order of the user with its fills (trade, price, amount, fee, maker or taker)."""
    ex = app.exchange
    o = ex.get_order(user_id, order_id)
    fills, more = _order_fills(ex, user_id, o.id)
    print_order(o, fills, more)


@click.command("fills")
@click.argument("user_id", metavar="USER", type=USER)
@click.option("--symbol", help="Only this pair.")
@click.option("--limit", type=click.IntRange(1, MAX_FILLS), default=50, show_default=True)
@output_format
@pass_app
def fills(app: AppContext, user_id: int, symbol: str | None, limit: int) -> None:
    """USER's trades, newest first, with side, role (maker or taker), fee and fee asset."""
    print_table(f"fills of user {user_id}", FILL_COLUMNS,
                _fill_rows(app.exchange.get_user_trades(user_id, symbol, limit=limit)))


@order.command("process-requests")
@pass_app
def order_process_requests(app: AppContext) -> None:
    """Place submit_order requests that nobody waits for any more (after a crash)."""
    click.echo(f"{app.exchange.process_order_requests()} batch(es) placed")


@order.command("cancel")
@click.option("--user", "user_id", type=USER, required=True, help="Id or username.")
@click.argument("order_id", type=int, required=False)
@click.option("--client-order-id", help="Cancel by client order id.")
@click.option("--all", "all_", is_flag=True, help="Cancel every open order (of --symbol).")
@click.option("--symbol", help="With --all: only this pair.")
@output_format
@pass_app
def order_cancel(app: AppContext, user_id: int, order_id: int | None,
                 client_order_id: str | None, all_: bool, symbol: str | None) -> None:
    """Cancel ORDER_ID (or --client-order-id, or --all); the hold is released exactly."""
    if all_:
        print_orders("canceled", app.exchange.cancel_all_orders(user_id, symbol))
    elif client_order_id is not None:
        print_orders("canceled", [app.exchange.cancel_order_by_client_id(user_id, client_order_id)])
    elif order_id is not None:
        print_orders("canceled", [app.exchange.cancel_order(user_id, order_id)])
    else:
        raise click.UsageError("give ORDER_ID, --client-order-id or --all")


@order.command("list")
@click.option("--user", "user_id", type=USER, required=True, help="Id or username.")
@click.option("--symbol")
@click.option("--open", "open_only", is_flag=True, help="Only open orders.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--before", "before_id", type=int, help="Older than this order id (next page).")
@click.option("--after", "after_id", type=int, help="Newer than this order id (previous page).")
@output_format
@pass_app
def order_list(app: AppContext, user_id: int, symbol: str | None, open_only: bool,
               limit: int, before_id: int | None, after_id: int | None) -> None:
    """List a user's orders, newest first (page with --before LAST_ID)."""
    print_orders(f"orders of user {user_id}",
                 app.exchange.get_orders(user_id, symbol, open_only=open_only, limit=limit,
                                         before_id=before_id, after_id=after_id))


# --- market data -------------------------------------------------------------------------
@click.command("book")
@click.argument("symbol")
@click.option("--depth", type=int, default=10, show_default=True)
@output_format
@pass_app
def book(app: AppContext, symbol: str, depth: int) -> None:
    """The order book of SYMBOL, aggregated by price level."""
    print_book(app.exchange.get_order_book(symbol, depth))


@click.command("trades")
@click.argument("symbol", required=False)
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--before", "before_id", type=int, help="Older than this trade id (next page).")
@click.option("--after", "after_id", type=int, help="Newer than this trade id (previous page).")
@output_format
@pass_app
def trades(app: AppContext, symbol: str | None, limit: int, before_id: int | None,
           after_id: int | None) -> None:
    """The latest trades of SYMBOL (of every pair without it), newest first."""
    print_table(f"{symbol or 'all'} trades",
                ["id", "pair", "time", "taker", "price", "amount", "quote"], [
        (t.id, t.symbol, t.created_at.strftime("%Y-%m-%d %H:%M:%S"), t.taker_side.value,
         _fmt(t.price), _fmt(t.amount), _fmt(t.quote_amount))
        for t in app.exchange.get_recent_trades(symbol, limit, before_id=before_id,
                                                after_id=after_id)])


@click.command("klines")
@click.argument("symbol")
@click.option("--interval", type=_choices(KlineInterval), default="1m", show_default=True)
@click.option("--limit", type=int, default=30, show_default=True)
@output_format
@pass_app
def klines(app: AppContext, symbol: str, interval: str, limit: int) -> None:
    """Candlesticks of SYMBOL."""
    print_table(f"{symbol} {interval} klines", [
        "open time", "open", "high", "low", "close", "volume", "quote volume", "trades"], [
        (k.open_time.strftime("%Y-%m-%d %H:%M"), _fmt(k.open), _fmt(k.high), _fmt(k.low),
         _fmt(k.close), _fmt(k.volume), _fmt(k.quote_volume), k.trades_count)
        for k in app.exchange.get_klines(symbol, interval, limit=limit)])


@click.command("ticker")
@click.argument("symbol", required=False)
@output_format
@pass_app
def ticker(app: AppContext, symbol: str | None) -> None:
    """24-hour statistics of SYMBOL (or of every pair)."""
    print_tickers(app.exchange.get_ticker_24hr(symbol))


def print_tickers(rows: list[Any]) -> None:
    print_table("24h tickers", [
        "symbol", "last", "open", "high", "low", "change %", "volume", "quote volume",
        "trades"], [
        (t.symbol, _fmt(t.last_price), _fmt(t.open), _fmt(t.high), _fmt(t.low),
         _fmt(t.price_change_percent), _fmt(t.volume), _fmt(t.quote_volume), t.trades_count)
        for t in rows])


COMMANDS: list[click.Command] = [pair, order, book, trades, klines, ticker, fills]
