"""Helpers shared by the trading tests: a market with funded users, placing orders, reading
balances, and the invariants every test that moves money ends with."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from benchmarks.soak import TRADING_INVARIANTS

D = Decimal


def setup_market(conn: psycopg.Connection[Any], *, users: tuple[str, ...] = ("alice", "bob", "carol"),
                 pairs: tuple[tuple[str, str, str], ...] = (("BTC-USDT", "BTC", "USDT"),),
                 price_precision: int = 2, amount_precision: int = 4,
                 maker_fee: str = "0.001", taker_fee: str = "0.002",
                 min_amount: str = "0", min_notional: str = "0",
                 funds: dict[str, str] | None = None) -> dict[str, int]:
    """Assets, pairs and ACTIVE users, each funded with ``funds`` (default 100 of every base,
    1,000,000 of every quote). Returns user ids by name."""
    assets = sorted({a for _, b, q in pairs for a in (b, q)})
    for sym in assets:
        if conn.execute("SELECT 1 FROM exchange.assets WHERE symbol = %s", (sym,)).fetchone() is None:
            conn.execute("SELECT exchange.create_asset(%s, %s, 'CRYPTO', 8)", (sym, sym))
    for sym, base, quote in pairs:
        conn.execute(
            "SELECT exchange.create_trading_pair(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (sym, base, quote, price_precision, amount_precision, D(min_amount), D(min_notional),
             D(maker_fee), D(taker_fee)))
    ids: dict[str, int] = {}
    funds = funds or {**{b: "100" for _, b, _q in pairs}, **{q: "1000000" for _, _b, q in pairs}}
    for name in users:
        row = conn.execute(
            "INSERT INTO exchange.users (username, email, password_hash, status, kyc_level) "
            "VALUES (%s, %s, 'x', 'ACTIVE', 2) RETURNING id", (name, f"{name}@example.org")).fetchone()
        assert row is not None
        ids[name] = row[0]
        for asset, amount in funds.items():
            conn.execute("SELECT exchange.deposit(%s, %s, %s, %s)",
                         (row[0], asset, D(amount), f"fund-{name}-{asset}"))
    return ids


def place(conn: psycopg.Connection[Any], user: int, side: str, type_: str, amount: Any,
          price: Any = None, *, symbol: str = "BTC-USDT", tif: str = "GTC",
          client_order_id: str | None = None, stop_price: Any = None,
          quote_amount: Any = None, stp: str | None = None) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT * FROM exchange.place_order(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (user, symbol, side, type_, None if amount is None else D(str(amount)),
             None if price is None else D(str(price)), tif, client_order_id,
             None if stop_price is None else D(str(stop_price)),
             None if quote_amount is None else D(str(quote_amount)), stp))
        row = cur.fetchone()
        assert row is not None
        return row


def order(conn: psycopg.Connection[Any], order_id: int) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT * FROM exchange.orders WHERE id = %s", (order_id,))
        row = cur.fetchone()
        assert row is not None
        return row


def balance(conn: psycopg.Connection[Any], user: int, asset: str) -> tuple[Decimal, Decimal]:
    """(available, frozen) of a user's account, normalized."""
    row = conn.execute(
        "SELECT a.available_balance, a.frozen_balance FROM exchange.accounts a "
        "JOIN exchange.assets s ON s.id = a.asset_id WHERE a.user_id = %s AND s.symbol = %s",
        (user, asset)).fetchone()
    if row is None:
        return D(0), D(0)
    return D(row[0]).normalize() + 0, D(row[1]).normalize() + 0


def fee_balance(conn: psycopg.Connection[Any], symbol: str, asset: str) -> Decimal:
    row = conn.execute(
        "SELECT a.available_balance FROM exchange.accounts a "
        "JOIN exchange.assets s ON s.id = a.asset_id "
        "JOIN exchange.trading_pairs tp ON tp.id = a.trading_pair_id "
        "WHERE a.kind = 'FEE' AND tp.symbol = %s AND s.symbol = %s", (symbol, asset)).fetchone()
    return D(0) if row is None else D(row[0]).normalize() + 0


def trades(conn: psycopg.Connection[Any], symbol: str = "BTC-USDT") -> list[tuple[Any, ...]]:
    """(buyer_order, seller_order, price, amount, buyer_fee, seller_fee, is_maker_buyer) in id order."""
    rows = conn.execute(
        "SELECT t.buyer_order_id, t.seller_order_id, t.price, t.amount, t.buyer_fee, "
        "t.seller_fee, t.is_maker_buyer FROM exchange.trades t "
        "JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id "
        "WHERE tp.symbol = %s ORDER BY t.id", (symbol,)).fetchall()
    return [(b, s, D(p).normalize() + 0, D(a).normalize() + 0, D(bf).normalize() + 0,
             D(sf).normalize() + 0, m) for b, s, p, a, bf, sf, m in rows]


def snapshot(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    """Everything a refused call must leave as it was."""
    return (
        conn.execute("SELECT array_agg((id, available_balance, frozen_balance) ORDER BY id) "
                     "FROM exchange.accounts").fetchone(),
        conn.execute("SELECT count(*), max(id) FROM exchange.orders").fetchone(),
        conn.execute("SELECT count(*) FROM exchange.trades").fetchone(),
        conn.execute("SELECT count(*) FROM exchange.order_book").fetchone(),
        conn.execute("SELECT count(*) FROM exchange.stop_orders").fetchone(),
        conn.execute("SELECT count(*) FROM exchange.outbox_events").fetchone(),
        conn.execute("SELECT count(*) FROM exchange.journal").fetchone(),
        conn.execute("SELECT array_agg((trading_pair_id, last_price, book_sequence)) "
                     "FROM exchange.market_state").fetchone(),
    )


def check_invariants(conn: psycopg.Connection[Any]) -> None:
    problems = conn.execute(TRADING_INVARIANTS).fetchall()
    assert problems == [], problems
