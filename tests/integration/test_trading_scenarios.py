"""Trading scenarios with exact expected trades, balances and fees, in a rolled-back
transaction. The market: BTC-USDT, tick 0.01, step 0.0001, maker fee 0.1 %, taker fee 0.2 %,
fees charged in what each side receives and rounded down; every user starts with 100 BTC and
1,000,000 USDT."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.integration._trading_support import (
    balance,
    check_invariants,
    fee_balance,
    order,
    place,
    setup_market,
    snapshot,
    trades,
)

D = Decimal
Conn = psycopg.Connection[Any]


@pytest.fixture
def m(tx: Conn) -> dict[str, int]:
    return setup_market(tx)


def test_partial_fills_over_several_levels(tx: Conn, m: dict[str, int]) -> None:
    a1 = place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    b1 = place(tx, m["bob"], "SELL", "LIMIT", "2", "101")
    a2 = place(tx, m["alice"], "SELL", "LIMIT", "1", "102")
    c = place(tx, m["carol"], "BUY", "LIMIT", "3.5", "101")
    assert c["status"] == "PARTIALLY_FILLED"
    assert c["filled_amount"] == D("3") and c["remaining_amount"] == D("0.5")
    assert c["hold_amount"] == D("50.5")            # 101 x the 0.5 still resting
    assert [(f["price"], f["amount"], f["fee"]) for f in c["fills"]] == [
        ("100", "1", "0.002"), ("101", "2", "0.004")]
    assert trades(tx) == [
        (c["id"], a1["id"], D(100), D(1), D("0.002"), D("0.1"), False),
        (c["id"], b1["id"], D(101), D(2), D("0.004"), D("0.202"), False),
    ]
    assert order(tx, a1["id"])["status"] == "FILLED"
    assert order(tx, b1["id"])["status"] == "FILLED"
    assert order(tx, a2["id"])["status"] == "NEW"
    # carol paid 302 and holds 50.5 for the rest; received 3 BTC less 0.006 fee
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D(302) - D("50.5"), D("50.5"))
    assert balance(tx, m["carol"], "BTC") == (D("102.994"), D(0))
    assert balance(tx, m["alice"], "USDT") == (D("1000099.9"), D(0))
    assert balance(tx, m["alice"], "BTC") == (D(98), D(1))
    assert balance(tx, m["bob"], "USDT") == (D("1000201.798"), D(0))
    assert fee_balance(tx, "BTC-USDT", "BTC") == D("0.006")
    assert fee_balance(tx, "BTC-USDT", "USDT") == D("0.302")
    book = tx.execute("SELECT bids, asks, sequence FROM exchange.get_order_book('BTC-USDT', 10)").fetchone()
    assert book is not None
    assert book[0] == [["101", "0.5", 1]] and book[1] == [["102", "1", 1]] and book[2] == 4
    check_invariants(tx)


def test_time_priority_at_one_price(tx: Conn, m: dict[str, int]) -> None:
    first = place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    second = place(tx, m["bob"], "SELL", "LIMIT", "1", "100")
    c = place(tx, m["carol"], "BUY", "LIMIT", "1.5", "100")
    assert c["status"] == "FILLED"
    assert [(t[1], t[3]) for t in trades(tx)] == [(first["id"], D(1)), (second["id"], D("0.5"))]
    assert order(tx, second["id"])["remaining_amount"] == D("0.5")
    check_invariants(tx)


def test_price_improvement_goes_back_to_the_buyer(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "90")
    c = place(tx, m["carol"], "BUY", "LIMIT", "1", "100")
    assert c["status"] == "FILLED" and c["hold_amount"] == 0
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D(90), D(0))
    check_invariants(tx)


def test_ioc_rest_expires(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    c = place(tx, m["carol"], "BUY", "LIMIT", "2", "100", tif="IOC")
    assert c["status"] == "EXPIRED" and c["filled_amount"] == 1 and c["hold_amount"] == 0
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D(100), D(0))
    assert tx.execute("SELECT count(*) FROM exchange.order_book").fetchone() == (0,)
    check_invariants(tx)


def test_fok_all_or_nothing(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    before = snapshot(tx)
    with pytest.raises(psycopg.Error) as err, tx.transaction():
        place(tx, m["carol"], "BUY", "LIMIT", "2", "100", tif="FOK")
    assert err.value.sqlstate == "EX215"
    assert snapshot(tx) == before
    c = place(tx, m["carol"], "BUY", "LIMIT", "1", "100", tif="FOK")
    assert c["status"] == "FILLED" and c["filled_amount"] == 1
    check_invariants(tx)


def test_limit_maker_refused_when_crossing_and_rests_otherwise(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    before = snapshot(tx)
    with pytest.raises(psycopg.Error) as err, tx.transaction():
        place(tx, m["carol"], "BUY", "LIMIT_MAKER", "1", "100")
    assert err.value.sqlstate == "EX214"
    assert snapshot(tx) == before
    c = place(tx, m["carol"], "BUY", "LIMIT_MAKER", "1", "99.99")
    assert c["status"] == "NEW" and c["hold_amount"] == D("99.99")
    check_invariants(tx)


def test_market_order_larger_than_the_book(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    place(tx, m["bob"], "SELL", "LIMIT", "1", "101")
    c = place(tx, m["carol"], "BUY", "MARKET", "5")
    assert c["status"] == "EXPIRED" and c["filled_amount"] == 2 and c["filled_quote"] == 201
    assert c["hold_amount"] == 0
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D(201), D(0))
    assert balance(tx, m["carol"], "BTC") == (D("101.996"), D(0))
    s = place(tx, m["alice"], "SELL", "MARKET", "3")   # no bids at all
    assert s["status"] == "EXPIRED" and s["filled_amount"] == 0
    assert balance(tx, m["alice"], "BTC") == (D(99), D(0))
    check_invariants(tx)


def test_market_buy_by_quote_amount(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    place(tx, m["bob"], "SELL", "LIMIT", "1", "101")
    c = place(tx, m["carol"], "BUY", "MARKET", None, quote_amount="150.5")
    assert c["status"] == "FILLED" and c["amount"] is None
    assert c["filled_amount"] == D("1.5") and c["filled_quote"] == D("150.5")
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D("150.5"), D(0))
    # a budget that does not divide: 30 USDT at 101 buys 0.297 (step 0.0001), the rest returns
    c2 = place(tx, m["carol"], "BUY", "MARKET", None, quote_amount="30")
    assert c2["filled_amount"] == D("0.297") and c2["filled_quote"] == D("29.997")
    assert c2["status"] == "FILLED" and c2["hold_amount"] == 0
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D("150.5") - D("29.997"), D(0))
    check_invariants(tx)


def test_stop_loss_triggers_and_matches(tx: Conn, m: dict[str, int]) -> None:
    stop = place(tx, m["alice"], "SELL", "STOP_LOSS", "1", stop_price="95")
    assert stop["status"] == "PENDING" and stop["hold_amount"] == 1
    assert balance(tx, m["alice"], "BTC") == (D(99), D(1))
    place(tx, m["bob"], "BUY", "LIMIT", "0.1", "95")
    b2 = place(tx, m["bob"], "BUY", "LIMIT", "1", "94")
    c = place(tx, m["carol"], "SELL", "LIMIT", "0.1", "95")   # last price 95: the stop triggers
    assert c["status"] == "FILLED"
    s = order(tx, stop["id"])
    assert s["status"] == "FILLED" and s["filled_amount"] == 1 and s["hold_amount"] == 0
    assert trades(tx)[-1][:4] == (b2["id"], stop["id"], D(94), D(1))
    assert balance(tx, m["alice"], "BTC") == (D(99), D(0))
    assert balance(tx, m["alice"], "USDT") == (D(1000000) + D(94) - D("0.188"), D(0))
    events = tx.execute("SELECT event_type, event_data->>'status', event_data ? 'triggered' "
                        "FROM exchange.outbox_events WHERE aggregate_type = 'order' "
                        "AND aggregate_id = %s ORDER BY id", (str(stop["id"]),)).fetchall()
    assert events == [("order_placed", "PENDING", False), ("order_placed", "NEW", True),
                      ("order_filled", "FILLED", False)]
    check_invariants(tx)


def test_stop_limit_triggers_in_stop_price_order(tx: Conn, m: dict[str, int]) -> None:
    s2 = place(tx, m["alice"], "BUY", "STOP_LOSS_LIMIT", "1", "107", stop_price="106")
    s1 = place(tx, m["alice"], "BUY", "STOP_LOSS_LIMIT", "1", "106", stop_price="105")
    assert s1["hold_amount"] == 106 and s2["hold_amount"] == 107
    place(tx, m["bob"], "SELL", "LIMIT", "0.1", "105")
    place(tx, m["bob"], "SELL", "LIMIT", "1", "106")
    place(tx, m["bob"], "SELL", "LIMIT", "2", "107")
    place(tx, m["carol"], "BUY", "LIMIT", "0.1", "105")       # last 105: s1 triggers, trades at 106
    # s1 fills 1 @ 106, which moves the last price to 106 and triggers s2: 1 @ 107
    o1, o2 = order(tx, s1["id"]), order(tx, s2["id"])
    assert (o1["status"], o1["filled_quote"]) == ("FILLED", 106)
    assert (o2["status"], o2["filled_quote"]) == ("FILLED", 107)
    assert [t[0] for t in trades(tx)[-2:]] == [s1["id"], s2["id"]]
    assert balance(tx, m["alice"], "USDT") == (D(1000000) - D(213), D(0))
    check_invariants(tx)


def test_stop_that_is_already_through_triggers_at_once(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    place(tx, m["carol"], "BUY", "LIMIT", "0.5", "100")         # last price 100
    st = place(tx, m["bob"], "BUY", "STOP_LOSS", None, stop_price="99", quote_amount="25")
    assert st["status"] == "FILLED" and st["filled_amount"] == D("0.25")
    check_invariants(tx)


@pytest.mark.parametrize(("mode", "maker_status", "taker_status"), [
    ("EXPIRE_MAKER", "EXPIRED", "NEW"),
    ("EXPIRE_TAKER", "NEW", "EXPIRED"),
    ("EXPIRE_BOTH", "EXPIRED", "EXPIRED"),
])
def test_self_trade_prevention(tx: Conn, m: dict[str, int], mode: str, maker_status: str,
                               taker_status: str) -> None:
    mk = place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    tk = place(tx, m["alice"], "BUY", "LIMIT", "1", "100", stp=mode)
    assert tk["status"] == taker_status and tk["filled_amount"] == 0
    assert order(tx, mk["id"])["status"] == maker_status
    assert trades(tx) == []
    held_btc = D(1) if maker_status == "NEW" else D(0)
    held_usdt = D(100) if taker_status == "NEW" else D(0)
    assert balance(tx, m["alice"], "BTC") == (D(100) - held_btc, held_btc)
    assert balance(tx, m["alice"], "USDT") == (D(1000000) - held_usdt, held_usdt)
    check_invariants(tx)


def test_self_trade_prevention_default_is_the_pairs_and_skips_to_others(tx: Conn, m: dict[str, int]) -> None:
    own = place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    other = place(tx, m["bob"], "SELL", "LIMIT", "1", "100")
    tk = place(tx, m["alice"], "BUY", "LIMIT", "1", "100")       # pair default: EXPIRE_MAKER
    assert tk["status"] == "FILLED" and tk["stp_mode"] == "EXPIRE_MAKER"
    assert order(tx, own["id"])["status"] == "EXPIRED"
    assert trades(tx)[0][1] == other["id"]
    check_invariants(tx)


def test_cancel_releases_exactly_the_hold(tx: Conn, m: dict[str, int]) -> None:
    c = place(tx, m["carol"], "BUY", "LIMIT", "1.5", "99.99", client_order_id="c-1")
    assert c["hold_amount"] == D("149.985")
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D("149.985"), D("149.985"))
    place(tx, m["alice"], "SELL", "LIMIT", "0.5", "99.99")     # partly fills it
    assert order(tx, c["id"])["hold_amount"] == D("99.99")
    with tx.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM exchange.cancel_order(%s, %s)", (m["carol"], c["id"]))
        row = cur.fetchone()
    assert row is not None and row["status"] == "CANCELED" and row["hold_amount"] == 0
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D("49.995"), D(0))
    for user, oid, code in [(m["carol"], c["id"], "EX217"), (m["bob"], c["id"], "EX216"),
                            (m["carol"], 10**12, "EX216")]:
        before = snapshot(tx)
        with pytest.raises(psycopg.Error) as err, tx.transaction():
            tx.execute("SELECT * FROM exchange.cancel_order(%s, %s)", (user, oid))
        assert err.value.sqlstate == code
        assert snapshot(tx) == before
    check_invariants(tx)


def test_cancel_by_client_id_and_cancel_all(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["carol"], "BUY", "LIMIT", "1", "90", client_order_id="x")
    place(tx, m["carol"], "SELL", "LIMIT", "1", "110")
    place(tx, m["carol"], "SELL", "STOP_LOSS", "1", stop_price="80")
    row = tx.execute("SELECT status FROM exchange.cancel_order_by_client_id(%s, 'x')",
                     (m["carol"],)).fetchone()
    assert row == ("CANCELED",)
    rows = tx.execute("SELECT status FROM exchange.cancel_all_orders(%s)", (m["carol"],)).fetchall()
    assert rows == [("CANCELED",), ("CANCELED",)]
    assert balance(tx, m["carol"], "USDT") == (D(1000000), D(0))
    assert balance(tx, m["carol"], "BTC") == (D(100), D(0))
    assert tx.execute("SELECT count(*) FROM exchange.cancel_all_orders(%s)",
                      (m["carol"],)).fetchone() == (0,)
    check_invariants(tx)


def test_client_order_id_is_idempotent(tx: Conn, m: dict[str, int]) -> None:
    first = place(tx, m["carol"], "BUY", "LIMIT", "1", "90", client_order_id="abc")
    before = snapshot(tx)
    again = place(tx, m["carol"], "BUY", "LIMIT", "5", "95", client_order_id="abc")
    assert again["id"] == first["id"] and again["amount"] == 1
    assert snapshot(tx) == before
    other_user = place(tx, m["bob"], "BUY", "LIMIT", "1", "90", client_order_id="abc")
    assert other_user["id"] != first["id"]


REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown pair", {"symbol": "NOPE-USDT"}, "EX201"),
    ("price finer than tick", {"price": "100.001"}, "EX210"),
    ("amount finer than step", {"amount": "0.00001"}, "EX211"),
    ("missing price", {"price": None}, "EX207"),
    ("superfluous price on market", {"type_": "MARKET"}, "EX208"),
    ("stop price on a limit", {"stop_price": "90"}, "EX208"),
    ("missing stop price", {"type_": "STOP_LOSS_LIMIT"}, "EX207"),
    ("unknown type", {"type_": "ICEBERG"}, "EX204"),
    ("unknown side", {"side": "HOLD"}, "EX203"),
    ("unknown time in force", {"tif": "GTD"}, "EX205"),
    ("unknown stp mode", {"stp": "CANCEL_NEWEST"}, "EX206"),
    ("zero amount", {"amount": "0"}, "EX209"),
    ("insufficient funds", {"amount": "20000"}, "EX101"),
    ("insufficient funds on a sell", {"side": "SELL", "price": "200", "amount": "101"}, "EX101"),
    ("quote amount on a sell", {"side": "SELL", "type_": "MARKET", "price": None,
                                "amount": None, "quote_amount": "10"}, "EX208"),
]


@pytest.mark.parametrize(("case", "change", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_change_nothing(tx: Conn, m: dict[str, int], case: str, change: dict[str, Any],
                                 code: str) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "101")
    args: dict[str, Any] = {"side": "BUY", "type_": "LIMIT", "amount": "1", "price": "100"}
    args.update(change)
    before = snapshot(tx)
    with pytest.raises(psycopg.Error) as err, tx.transaction():
        place(tx, m["carol"], args.pop("side"), args.pop("type_"), args.pop("amount"),
              args.pop("price"), **args)
    assert err.value.sqlstate == code, case
    assert snapshot(tx) == before


def test_minimums_and_halted_pair(tx: Conn) -> None:
    m = setup_market(tx, min_amount="0.01", min_notional="10")
    for args, code in [(("0.001", "100"), "EX212"), (("0.05", "100"), "EX213")]:
        before = snapshot(tx)
        with pytest.raises(psycopg.Error) as err, tx.transaction():
            place(tx, m["carol"], "BUY", "LIMIT", *args)
        assert err.value.sqlstate == code
        assert snapshot(tx) == before
    resting = place(tx, m["carol"], "BUY", "LIMIT", "1", "100")
    tx.execute("SELECT exchange.set_trading_pair_status('BTC-USDT', 'HALTED')")
    before = snapshot(tx)
    with pytest.raises(psycopg.Error) as err, tx.transaction():
        place(tx, m["carol"], "BUY", "LIMIT", "1", "100")
    assert err.value.sqlstate == "EX202"
    assert snapshot(tx) == before
    # a halted pair accepts cancels
    assert tx.execute("SELECT status FROM exchange.cancel_order(%s, %s)",
                      (m["carol"], resting["id"])).fetchone() == ("CANCELED",)
    tx.execute("SELECT exchange.set_trading_pair_status('BTC-USDT', 'TRADING')")
    assert place(tx, m["carol"], "BUY", "LIMIT", "1", "100")["status"] == "NEW"
    check_invariants(tx)


def test_pair_rules_are_checked(tx: Conn) -> None:
    setup_market(tx, users=())
    for args, code in [
        (("ETH-USDT", "ETH", "USDT"), "EX222"),
        (("BTC-USDT", "BTC", "USDT"), "EX221"),
        (("BTC-X", "BTC", "USDT"), "EX220"),
    ]:
        with pytest.raises(psycopg.Error) as err, tx.transaction():
            tx.execute("SELECT exchange.create_trading_pair(%s, %s, %s)", args)
        assert err.value.sqlstate == code
    tx.execute("SELECT exchange.create_asset('ETH', 'Ether', 'CRYPTO', 8)")
    with pytest.raises(psycopg.Error) as err, tx.transaction():
        # price precision 6 + amount precision 4 > USDT's 8 decimals: trades would not be exact
        tx.execute("SELECT exchange.create_trading_pair('ETH-USDT', 'ETH', 'USDT', 6, 4)")
    assert err.value.sqlstate == "EX220"


def test_market_data_and_events(tx: Conn, m: dict[str, int]) -> None:
    place(tx, m["alice"], "SELL", "LIMIT", "1", "100")
    place(tx, m["alice"], "SELL", "LIMIT", "1", "103")
    c = place(tx, m["carol"], "BUY", "LIMIT", "2", "103")
    k = tx.execute("SELECT open, high, low, close, volume, quote_volume, trades_count "
                   "FROM exchange.get_klines('BTC-USDT', '1m')").fetchall()
    assert k == [(D(100), D(103), D(100), D(103), D(2), D(203), 2)]
    for iv in ("5m", "15m", "1h", "4h", "1d"):
        assert tx.execute("SELECT count(*) FROM exchange.get_klines('BTC-USDT', %s)",
                          (iv,)).fetchone() == (1,)
    place(tx, m["bob"], "SELL", "LIMIT", "0.5", "99")
    place(tx, m["carol"], "BUY", "MARKET", "0.5")
    k = tx.execute("SELECT open, high, low, close, volume, trades_count "
                   "FROM exchange.get_klines('BTC-USDT', '1h')").fetchall()
    assert k == [(D(100), D(103), D(99), D(99), D("2.5"), 3)]
    t = tx.execute("SELECT open, high, low, close, volume, price_change_percent "
                   "FROM exchange.get_ticker_24hr('BTC-USDT')").fetchone()
    assert t == (D(100), D(103), D(99), D(99), D("2.5"), D("-1.0000"))
    recent = tx.execute("SELECT price, amount, taker_side FROM exchange.get_recent_trades('BTC-USDT', 2)").fetchall()
    assert recent == [(D(99), D("0.5"), "BUY"), (D(103), D(1), "BUY")]
    events = tx.execute("SELECT event_type, count(*) FROM exchange.outbox_events "
                        "WHERE aggregate_type IN ('order', 'trade') GROUP BY 1 ORDER BY 1").fetchall()
    # 5 placements; 3 trades; carol's two takers and 3 makers filled (alice twice, bob once)
    assert dict(events) == {"order_placed": 5, "trade_executed": 3, "order_filled": 5}
    ev = tx.execute("SELECT event_data FROM exchange.outbox_events WHERE aggregate_type = 'order' "
                    "AND aggregate_id = %s AND event_type = 'order_filled'", (str(c["id"]),)).fetchone()
    assert ev is not None and ev[0]["status"] == "FILLED" and ev[0]["filled_quantity"] == "2"
    check_invariants(tx)


def test_batch_form_places_in_order_and_locks_once(tx: Conn, m: dict[str, int]) -> None:
    rows = tx.execute(
        "SELECT status, filled_amount FROM exchange.place_orders(ARRAY["
        "ROW(%(a)s, 'BTC-USDT', 'SELL', 'LIMIT', 1, 100, 'GTC', NULL, NULL, NULL, NULL),"
        "ROW(%(a)s, 'BTC-USDT', 'SELL', 'LIMIT', 1, 101, 'GTC', NULL, NULL, NULL, NULL),"
        "ROW(%(c)s, 'BTC-USDT', 'BUY', 'LIMIT', 1.5, 101, 'GTC', NULL, NULL, NULL, NULL)"
        "]::exchange.order_request[])", {"a": m["alice"], "c": m["carol"]}).fetchall()
    # results are the orders as they stand at the end of the batch
    assert rows == [("FILLED", D(1)), ("PARTIALLY_FILLED", D("0.5")), ("FILLED", D("1.5"))]
    assert balance(tx, m["carol"], "USDT") == (D(1000000) - D("150.5"), D(0))
    check_invariants(tx)


def test_a_maker_filled_several_times_in_one_batch(tx: Conn, m: dict[str, int]) -> None:
    """The batch writes each maker once, at its end (exchange._write_order_batch): a resting
    order hit by three orders of one batch, and an order placed in the batch then filled by two
    later ones, end with their fills summed and their last remaining, hold and status."""
    old = place(tx, m["alice"], "SELL", "LIMIT", 3, 100)
    rows = tx.execute(
        "SELECT id, status, filled_amount, remaining_amount, hold_amount "
        "FROM exchange.place_orders(ARRAY["
        "ROW(%(c)s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 100, 'GTC', NULL, NULL, NULL, NULL),"
        "ROW(%(b)s, 'BTC-USDT', 'BUY', 'LIMIT', 0.5, 100, 'GTC', NULL, NULL, NULL, NULL),"
        "ROW(%(b)s, 'BTC-USDT', 'SELL', 'LIMIT', 2, 101, 'GTC', NULL, NULL, NULL, NULL),"
        "ROW(%(c)s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 100, 'GTC', NULL, NULL, NULL, NULL),"
        "ROW(%(c)s, 'BTC-USDT', 'BUY', 'LIMIT', 1.5, 101, 'IOC', NULL, NULL, NULL, NULL),"
        "ROW(%(a)s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 101, 'GTC', NULL, NULL, NULL, NULL)"
        "]::exchange.order_request[])",
        {"a": m["alice"], "b": m["bob"], "c": m["carol"]}).fetchall()
    assert [r[1:] for r in rows] == [
        ("FILLED", D(1), D(0), D(0)),
        ("FILLED", D("0.5"), D(0), D(0)),
        ("FILLED", D(2), D(0), D(0)),               # placed, then filled 1 + 1 below
        ("FILLED", D(1), D(0), D(0)),
        ("FILLED", D("1.5"), D(0), D(0)),           # 0.5 from alice at 100, 1 from bob at 101
        ("FILLED", D(1), D(0), D(0)),               # bob's last 1 at 101
    ]
    mk = tx.execute("SELECT status, filled_amount, remaining_amount, hold_amount, filled_quote, "
                    "fee_paid, version FROM exchange.orders WHERE id = %s", (old["id"],)).fetchone()
    # alice's resting sell: 1 + 0.5 + 1 + 0.5 = 3 at 100, maker fee 0.001 x 300 quote; four
    # fills in this batch, written as one update (version 0 + 4)
    assert mk == ("FILLED", D(3), D(0), D(0), D(300), D("0.3"), 4)
    bob_sell = tx.execute("SELECT version, filled_quote, fee_paid FROM exchange.orders "
                          "WHERE id = %s", (rows[2][0],)).fetchone()
    assert bob_sell == (2, D(202), D("0.202"))
    check_invariants(tx)


def test_makers_of_two_times_and_two_partitions_are_filled_by_one_order(clone_dsn: str) -> None:
    """One order filling several makers updates them in one statement, whose join reaches
    only the partitions between the makers' creation times (exchange._write_order_batch):
    makers placed in two transactions, one of them in next month's partition, are both
    written. (The rolled-back transaction of the other scenarios gives every order the same
    creation time.)"""
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        m = setup_market(conn)
        first = place(conn, m["alice"], "SELL", "LIMIT", 1, 100)
        later = place(conn, m["bob"], "SELL", "LIMIT", 1, 100)
        assert later["created_at"] > first["created_at"]
        moved = place(conn, m["alice"], "SELL", "LIMIT", 1, 100)
        with conn.transaction():    # into next month's partition, with its book row
            row = conn.execute(
                "UPDATE exchange.orders SET created_at = date_trunc('month', now()) "
                "+ interval '1 month 1 day' WHERE id = %s RETURNING created_at",
                (moved["id"],)).fetchone()
            assert row is not None
            conn.execute("UPDATE exchange.order_book SET order_created_at = %s "
                         "WHERE order_id = %s", (row[0], moved["id"]))
        taker = place(conn, m["carol"], "BUY", "LIMIT", 3, 100)
        assert (taker["status"], len(taker["fills"])) == ("FILLED", 3)
        for maker in (first, later, moved):
            got = order(conn, maker["id"])
            assert (got["status"], got["filled_amount"], got["remaining_amount"],
                    got["hold_amount"], got["version"]) == ("FILLED", D(1), D(0), D(0), 1)
        check_invariants(conn)


def test_a_batch_reads_its_users_once_and_refuses_an_unknown_or_inactive_one(
        tx: Conn, m: dict[str, int]) -> None:
    """The lookup stage (exchange._order_parties) reads every request's user, accounts and KYC
    rule at the start of the batch. A user without a base account yet gets it created once,
    even by two orders of one batch; an unknown or suspended user anywhere in the batch
    refuses the whole batch (EX219), and nothing changes."""
    row = tx.execute(
        "INSERT INTO exchange.users (username, email, password_hash, status, kyc_level) "
        "VALUES ('dora', 'dora@example.org', 'x', 'ACTIVE', 2) RETURNING id").fetchone()
    assert row is not None
    dora = row[0]
    tx.execute("SELECT exchange.deposit(%s, 'USDT', 1000, 'fund-dora')", (dora,))
    place(tx, m["alice"], "SELL", "LIMIT", 2, 100)
    batch = ("SELECT status FROM exchange.place_orders(ARRAY["
             "ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 100, 'GTC', NULL, NULL, NULL, NULL),"
             "ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 100, 'GTC', NULL, NULL, NULL, NULL)"
             "]::exchange.order_request[])")

    def state() -> Any:
        return tx.execute("SELECT (SELECT count(*) FROM exchange.orders), "
                          "(SELECT count(*) FROM exchange.accounts), "
                          "(SELECT count(*) FROM exchange.journal)").fetchone()

    before = state()
    for bad in (-1, m["bob"]):
        if bad == m["bob"]:
            tx.execute("UPDATE exchange.users SET status = 'SUSPENDED' WHERE id = %s", (bad,))
        with pytest.raises(psycopg.Error) as exc, tx.transaction():
            tx.execute(batch, (dora, bad))
        assert exc.value.sqlstate == "EX219"
        assert state() == before
    assert tx.execute(batch, (dora, dora)).fetchall() == [("FILLED",), ("FILLED",)]
    assert tx.execute("SELECT count(*) FROM exchange.accounts a JOIN exchange.assets s "
                      "ON s.id = a.asset_id WHERE a.user_id = %s AND s.symbol = 'BTC'",
                      (dora,)).fetchone() == (1,)
    assert balance(tx, dora, "BTC") == (D("1.996"), D(0))       # 2 less the 0.002 taker fee
    check_invariants(tx)
