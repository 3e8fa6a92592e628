"""CLI commands of the trading domain: ``pyexchange pair create|list|halt|resume``,
``pyexchange order place|cancel|list``, ``pyexchange book SYMBOL``, ``pyexchange trades
SYMBOL``, ``pyexchange klines SYMBOL --interval 1m`` and ``pyexchange ticker [SYMBOL]``.
Amounts and prices are parsed as Decimal, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click

from pyexchange.api.trading import (
    KlineInterval,
    Order,
    OrderBook,
    OrderType,
    Side,
    StpMode,
    TimeInForce,
    TradingPair,
)
from pyexchange.cli import AppContext, console, pass_app, print_table


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


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return ""
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


def print_orders(title: str, orders: list[Order]) -> None:
    print_table(title, [
        "id", "symbol", "side", "type", "tif", "status", "price", "stop", "amount", "filled",
        "avg price", "fee", "hold", "client id"], [
        (o.id, o.symbol, o.side.value, o.type.value, o.time_in_force.value, o.status.value,
         _fmt(o.price), _fmt(o.stop_price),
         _fmt(o.amount) if o.amount is not None else f"quote {_fmt(o.quote_amount)}",
         _fmt(o.filled_amount),
         _fmt((o.filled_quote / o.filled_amount).quantize(Decimal("1e-8")))
         if o.filled_amount else "", _fmt(o.fee_paid), _fmt(o.hold_amount),
         o.client_order_id) for o in orders])


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
@click.option("--price-precision", type=int, default=2, show_default=True,
              help="Decimals of a price (the tick is 10^-n).")
@click.option("--amount-precision", type=int, default=6, show_default=True,
              help="Decimals of an amount (the step is 10^-n).")
@click.option("--min-amount", type=DECIMAL, default=Decimal(0), show_default=True)
@click.option("--min-notional", type=DECIMAL, default=Decimal(0), show_default=True)
@click.option("--maker-fee", type=DECIMAL, default=Decimal("0.001"), show_default=True)
@click.option("--taker-fee", type=DECIMAL, default=Decimal("0.001"), show_default=True)
@click.option("--stp", type=_choices(StpMode), default=StpMode.EXPIRE_MAKER.value,
              show_default=True, help="Default self-trade prevention mode.")
@pass_app
def pair_create(app: AppContext, symbol: str, base: str, quote: str, price_precision: int,
                amount_precision: int, min_amount: Decimal, min_notional: Decimal,
                maker_fee: Decimal, taker_fee: Decimal, stp: str) -> None:
    """Create the market SYMBOL (BASE-QUOTE)."""
    p = app.exchange.create_trading_pair(
        symbol, base, quote, price_precision=price_precision,
        amount_precision=amount_precision, min_order_amount=min_amount,
        min_notional=min_notional, maker_fee_rate=maker_fee, taker_fee_rate=taker_fee,
        stp_mode=stp.upper())
    _print_pairs([p])


@pair.command("list")
@pass_app
def pair_list(app: AppContext) -> None:
    """List the trading pairs and their rules."""
    _print_pairs(app.exchange.get_trading_pairs())


@pair.command("halt")
@click.argument("symbol")
@pass_app
def pair_halt(app: AppContext, symbol: str) -> None:
    """Halt SYMBOL: it accepts cancels only."""
    _print_pairs([app.exchange.set_trading_pair_status(symbol, "HALTED")])


@pair.command("resume")
@click.argument("symbol")
@pass_app
def pair_resume(app: AppContext, symbol: str) -> None:
    """Resume trading on SYMBOL."""
    _print_pairs([app.exchange.set_trading_pair_status(symbol, "TRADING")])


# --- pyexchange order --------------------------------------------------------------------
@click.group()
def order() -> None:
    """Orders: place, cancel, list."""


@order.command("place")
@click.option("--user", "user_id", type=int, required=True, help="The user placing the order.")
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
    print_orders(f"order {o.id}", [o])
    if o.fills:
        print_table("fills", ["trade", "maker order", "price", "amount", "quote", "fee"], [
            (f.trade_id, f.maker_order_id, _fmt(f.price), _fmt(f.amount), _fmt(f.quote_amount),
             _fmt(f.fee)) for f in o.fills])


@order.command("process-requests")
@pass_app
def order_process_requests(app: AppContext) -> None:
    """Place submit_order requests that nobody waits for any more (after a crash)."""
    click.echo(f"{app.exchange.process_order_requests()} batch(es) placed")


@order.command("cancel")
@click.option("--user", "user_id", type=int, required=True)
@click.argument("order_id", type=int, required=False)
@click.option("--client-order-id", help="Cancel by client order id.")
@click.option("--all", "all_", is_flag=True, help="Cancel every open order (of --symbol).")
@click.option("--symbol", help="With --all: only this pair.")
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
@click.option("--user", "user_id", type=int, required=True)
@click.option("--symbol")
@click.option("--open", "open_only", is_flag=True, help="Only open orders.")
@click.option("--limit", type=int, default=50, show_default=True)
@pass_app
def order_list(app: AppContext, user_id: int, symbol: str | None, open_only: bool,
               limit: int) -> None:
    """List a user's orders, newest first."""
    print_orders(f"orders of user {user_id}",
                 app.exchange.get_orders(user_id, symbol, open_only=open_only, limit=limit))


# --- market data -------------------------------------------------------------------------
@click.command("book")
@click.argument("symbol")
@click.option("--depth", type=int, default=10, show_default=True)
@pass_app
def book(app: AppContext, symbol: str, depth: int) -> None:
    """The order book of SYMBOL, aggregated by price level."""
    print_book(app.exchange.get_order_book(symbol, depth))


@click.command("trades")
@click.argument("symbol")
@click.option("--limit", type=int, default=20, show_default=True)
@pass_app
def trades(app: AppContext, symbol: str, limit: int) -> None:
    """The latest trades of SYMBOL."""
    print_table(f"{symbol} trades", ["id", "time", "taker", "price", "amount", "quote"], [
        (t.id, t.created_at.strftime("%Y-%m-%d %H:%M:%S"), t.taker_side.value, _fmt(t.price),
         _fmt(t.amount), _fmt(t.quote_amount))
        for t in app.exchange.get_recent_trades(symbol, limit)])


@click.command("klines")
@click.argument("symbol")
@click.option("--interval", type=_choices(KlineInterval), default="1m", show_default=True)
@click.option("--limit", type=int, default=30, show_default=True)
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
    console.print()


COMMANDS: list[click.Command] = [pair, order, book, trades, klines, ticker]
