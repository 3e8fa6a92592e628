"""Live market data: one NOTIFY per call on the pair's channel, and Exchange.watch()."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from pyexchange import Exchange
from pyexchange.market_feed import market_channel
from tests.integration._trading_support import place, setup_market

D = Decimal


def drain(conn: psycopg.Connection[Any], expected: int) -> list[dict[str, Any]]:
    """``expected`` notifications (waiting at most 15 s for them), plus any that follow
    within 0.3 s (so a test that expects one notification per call sees a second one)."""
    got = [json.loads(n.payload) for n in conn.notifies(timeout=15, stop_after=expected)]
    got += [json.loads(n.payload) for n in conn.notifies(timeout=0.3)]
    return got


def test_each_call_announces_its_trades_and_levels_once(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        users = setup_market(conn)
    with psycopg.connect(clone_dsn, autocommit=True) as listener, \
            psycopg.connect(clone_dsn, autocommit=True) as conn:
        channel = market_channel("BTC-USDT")
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        place(conn, users["carol"], "BUY", "LIMIT", "0.1", "90")
        # Nobody registered for the pair: no NOTIFY (it would serialize commits for nothing).
        assert list(listener.notifies(timeout=0.5)) == []
        listener.execute("SELECT exchange.register_listener(%s)", (channel,))
        ask = place(conn, users["alice"], "SELL", "LIMIT", "1", "100")
        place(conn, users["carol"], "SELL", "LIMIT", "2", "101")
        [first, second] = drain(listener, 2)
        assert first["symbol"] == "BTC-USDT" and first["trades"] == []
        assert first["levels"] == [["SELL", "100", "1", 1]]
        assert second["levels"] == [["SELL", "101", "2", 1]] and second["seq"] > first["seq"]

        place(conn, users["bob"], "BUY", "LIMIT", "1.5", "101")  # takes 1 @ 100, 0.5 @ 101
        [fill] = drain(listener, 1)  # one notification for the whole call, not one per fill
        assert [t[1:] for t in fill["trades"]] == [["100", "1", "BUY"], ["101", "0.5", "BUY"]]
        assert ["SELL", "100", "0", 0] in fill["levels"]
        assert ["SELL", "101", "1.5", 1] in fill["levels"]
        assert fill["seq"] > second["seq"]

        with conn.transaction():  # two calls in one transaction: two notifications at commit
            place(conn, users["bob"], "BUY", "LIMIT", "1", "99")
            place(conn, users["bob"], "BUY", "LIMIT", "2", "99")
        a, b = drain(listener, 2)
        assert a["levels"] == [["BUY", "99", "1", 1]] and b["levels"] == [["BUY", "99", "3", 2]]

        conn.execute("SELECT * FROM exchange.cancel_order(%s, %s)",
                     (users["carol"], conn.execute(
                         "SELECT id FROM exchange.orders WHERE user_id = %s AND status IN "
                         "('NEW', 'PARTIALLY_FILLED')", (users["carol"],)).fetchone()[0]))  # type: ignore[index]
        [cancel] = drain(listener, 1)
        assert cancel["levels"] == [["SELL", "101", "0", 0]] and cancel["trades"] == []
        assert ask["id"] > 0


def _changes(updates: Any, n: int) -> list[Any]:
    """The next ``n`` updates that are changes (skipping re-reads of the whole book)."""
    out: list[Any] = []
    while len(out) < n:
        update = next(updates)
        if not update.snapshot:
            out.append(update)
    return out


def test_watch_yields_a_snapshot_then_the_changes(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        users = setup_market(conn)
        place(conn, users["alice"], "SELL", "LIMIT", "1", "100")
    with Exchange(clone_dsn) as ex, psycopg.connect(clone_dsn, autocommit=True) as conn:
        updates = ex.watch("BTC-USDT", depth=5, timeout=10)
        try:
            snap = next(updates)
            assert snap.snapshot and [(lv.price, lv.amount) for lv in snap.asks] == [(D(100), D(1))]
            # the view starts at the book's own sequence, not at 0
            assert snap.book_sequence == ex.get_order_book("BTC-USDT", 5).sequence > 0
            place(conn, users["carol"], "SELL", "LIMIT", "3", "102")
            place(conn, users["bob"], "BUY", "LIMIT", "0.25", "100")
            place(conn, users["bob"], "BUY", "LIMIT", "2", "98")
            # (skipping the one re-read of the book a second after the start, if it comes)
            u1, u2, u3 = _changes(updates, 3)
            assert u1.seq < u2.seq < u3.seq
            assert u1.book_sequence >= snap.book_sequence and u3.changes_since_snapshot >= 1
            assert [(t.price, t.amount, t.taker_side) for t in u2.trades] == [
                (D(100), D("0.25"), "BUY")]
            book = ex.get_order_book("BTC-USDT", 5)
            assert [(lv.price, lv.amount, lv.orders) for lv in u3.asks] == [
                (lv.price, lv.amount, lv.orders) for lv in book.asks]
            assert [(lv.price, lv.amount, lv.orders) for lv in u3.bids] == [
                (lv.price, lv.amount, lv.orders) for lv in book.bids]
        finally:
            updates.close()  # type: ignore[attr-defined]


def test_events_of_a_client_call_carry_its_correlation_id(clone_dsn: str) -> None:
    from pyexchange.correlation import correlation

    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        users = setup_market(conn)
    with Exchange(clone_dsn) as ex:
        ex.place_order(users["alice"], "BTC-USDT", "SELL", "LIMIT", D("1"), D("100"))
        with correlation() as cid:
            ex.place_order(users["bob"], "BTC-USDT", "BUY", "LIMIT", D("1"), D("100"))
    with psycopg.connect(clone_dsn) as conn:
        rows = conn.execute("SELECT event_type, correlation_id FROM exchange.outbox_events "
                            "WHERE aggregate_type IN ('order', 'trade') ORDER BY id").fetchall()
    assert rows[0] == ("order_placed", None)
    tagged = {t for t, c in rows if c == cid}
    assert {"order_placed", "trade_executed", "order_filled"} <= tagged
    assert all(c in (None, cid) for _, c in rows)


def test_watch_command_renders_book_trades_and_ticker(clone_dsn: str) -> None:
    from click.testing import CliRunner

    from pyexchange.cli import main

    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        users = setup_market(conn)
        place(conn, users["alice"], "SELL", "LIMIT", "2", "101.5")
        place(conn, users["carol"], "SELL", "LIMIT", "1", "100")
        place(conn, users["bob"], "BUY", "LIMIT", "0.5", "100")
        place(conn, users["bob"], "BUY", "LIMIT", "3", "99")
    result = CliRunner().invoke(main, ["--dsn", clone_dsn, "watch", "BTC-USDT", "--depth", "5",
                                       "--timeout", "0.5"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "BTC-USDT book" in out and "last trades" in out and "24h" in out
    assert "101.5" in out and "99" in out and "0.5" in out  # levels and the trade
    bad = CliRunner().invoke(main, ["--dsn", clone_dsn, "watch", "NOPE-PAIR", "--timeout", "0.5"])
    assert bad.exit_code == 1
