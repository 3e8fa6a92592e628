"""Trading through the Python client and the CLI: typed rows and enums, Decimal in and out,
typed errors with the cause kept, the batch form, and the CLI commands."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from click.testing import CliRunner

from pyexchange import cli
from pyexchange.api.trading import (
    KlineInterval,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    PairStatus,
    Side,
    StpMode,
    TimeInForce,
)
from pyexchange.cli import main
from pyexchange.client import Exchange
from pyexchange.errors import (
    FillOrKillNotFillable,
    InsufficientFunds,
    InvalidPriceTick,
    OrderNotOpen,
    TradingPairHalted,
)
from tests.integration._trading_support import check_invariants, setup_market

D = Decimal


def test_client_places_matches_cancels_and_reads_market_data(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, pairs=())
        conn.execute("SELECT exchange.create_asset('BTC', 'Bitcoin', 'CRYPTO', 8)")
        conn.execute("SELECT exchange.create_asset('USDT', 'Tether', 'CRYPTO', 8)")
    with Exchange(clone_dsn) as ex:
        pair = ex.create_trading_pair("BTC-USDT", "BTC", "USDT", price_precision=2,
                                      amount_precision=4, maker_fee_rate=D("0.001"),
                                      taker_fee_rate=D("0.002"))
        assert pair.status is PairStatus.TRADING and pair.stp_mode is StpMode.EXPIRE_MAKER
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            for uid in ids.values():
                conn.execute("SELECT exchange.deposit(%s, 'BTC', 10, %s)", (uid, f"b{uid}"))
                conn.execute("SELECT exchange.deposit(%s, 'USDT', 10000, %s)", (uid, f"u{uid}"))
        alice, bob = ids["alice"], ids["bob"]
        ask = ex.place_order(alice, "BTC-USDT", Side.SELL, OrderType.LIMIT, D("1"), D("100"))
        assert isinstance(ask, Order) and ask.status is OrderStatus.NEW and ask.fills == ()
        bid = ex.place_order(bob, "BTC-USDT", "BUY", "LIMIT", D("0.4"), D("100.5"),
                             client_order_id="bob-1")
        assert bid.status is OrderStatus.FILLED and bid.side is Side.BUY
        assert bid.fills is not None and len(bid.fills) == 1
        fill = bid.fills[0]
        assert (fill.price, fill.amount, fill.fee, fill.maker_order_id) == (
            D(100), D("0.4"), D("0.0008"), ask.id)
        assert ex.place_order(bob, "BTC-USDT", "BUY", "LIMIT", D("9"), D("1"),
                              client_order_id="bob-1").id == bid.id

        with pytest.raises(InvalidPriceTick) as err:
            ex.place_order(bob, "BTC-USDT", "BUY", "LIMIT", D("1"), D("100.001"))
        assert isinstance(err.value.__cause__, psycopg.Error)
        with pytest.raises(InsufficientFunds):
            ex.place_order(bob, "BTC-USDT", "BUY", "LIMIT", D("1000"), D("99"))
        with pytest.raises(FillOrKillNotFillable):
            ex.place_order(bob, "BTC-USDT", "BUY", "LIMIT", D("5"), D("100"),
                           time_in_force=TimeInForce.FOK)
        with pytest.raises(TypeError):
            ex.place_order(bob, "BTC-USDT", "BUY", "LIMIT", 1.0, 100.0)  # type: ignore[arg-type]

        batch = ex.place_orders([
            OrderRequest(bob, "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.1"), D("99")),
            OrderRequest(bob, "BTC-USDT", Side.BUY, OrderType.LIMIT, D("0.2"), D("98")),
            OrderRequest(bob, "BTC-USDT", Side.BUY, OrderType.MARKET, None,
                         quote_amount=D("30")),
        ])
        assert [o.status for o in batch] == [OrderStatus.NEW, OrderStatus.NEW, OrderStatus.FILLED]
        assert batch[2].filled_amount == D("0.3")

        book = ex.get_order_book("BTC-USDT", 5)
        assert book.best_bid == D(99) and book.best_ask == D(100)
        assert [(lv.price, lv.amount, lv.orders) for lv in book.bids] == [
            (D(99), D("0.1"), 1), (D(98), D("0.2"), 1)]
        assert book.asks[0].amount == D("0.3")
        seq = book.sequence
        canceled = ex.cancel_order(bob, batch[0].id)
        assert canceled.status is OrderStatus.CANCELED and canceled.hold_amount == 0
        assert ex.get_order_book("BTC-USDT").sequence == seq + 1
        with pytest.raises(OrderNotOpen):
            ex.cancel_order(bob, batch[0].id)
        assert [o.id for o in ex.get_orders(bob, open_only=True)] == [batch[1].id]
        assert ex.get_order(bob, bid.id).client_order_id == "bob-1"

        trades = ex.get_recent_trades("BTC-USDT")
        assert [t.amount for t in trades] == [D("0.3"), D("0.4")]
        kl = ex.get_klines("BTC-USDT", KlineInterval.M1)
        assert len(kl) == 1 and kl[0].volume == D("0.7") and kl[0].trades_count == 2
        (tick,) = ex.get_ticker_24hr("BTC-USDT")
        assert tick.last_price == D(100) and tick.volume == D("0.7")

        ex.set_trading_pair_status("BTC-USDT", PairStatus.HALTED)
        with pytest.raises(TradingPairHalted):
            ex.place_order(bob, "BTC-USDT", "BUY", "LIMIT", D("1"), D("90"))
        assert len(ex.cancel_all_orders(bob)) == 1
        ex.set_trading_pair_status("BTC-USDT", PairStatus.TRADING)

    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        check_invariants(conn)


def test_cli_commands(clone_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 250)   # tables are not truncated
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=("dave", "erin"), pairs=(("ETH-USDT", "ETH", "USDT"),))
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--dsn", clone_dsn, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert "ETH-USDT" in run("pair", "list")
    run("pair", "halt", "ETH-USDT")
    assert "HALTED" in run("pair", "list")
    run("pair", "resume", "ETH-USDT")
    out = run("order", "place", "--user", str(ids["dave"]), "ETH-USDT", "SELL", "LIMIT", "2",
              "--price", "1500.5")
    assert "NEW" in out
    out = run("order", "place", "--user", str(ids["erin"]), "ETH-USDT", "buy", "market",
              "--quote-amount", "750.25")
    assert "FILLED" in out and "fills" in out
    assert "1500.5" in run("book", "ETH-USDT")
    assert "1500.5" in run("trades", "ETH-USDT")
    assert "750.25" in run("klines", "ETH-USDT", "--interval", "1m")
    assert "ETH-USDT" in run("ticker")
    assert "PARTIALLY_FILLED" in run("order", "list", "--user", str(ids["dave"]))
    assert "CANCELED" in run("order", "cancel", "--user", str(ids["dave"]), "--all")
    bad = runner.invoke(main, ["--dsn", clone_dsn, "order", "place", "--user", str(ids["dave"]),
                               "ETH-USDT", "SELL", "LIMIT", "1", "--price", "1.001"])
    assert bad.exit_code == 1 and "EX210" in bad.output
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        check_invariants(conn)
