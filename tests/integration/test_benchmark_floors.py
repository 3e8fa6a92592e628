"""The floors of ``benchmarks/floor.py`` write what the engine writes for the same orders.

docs/benchmarks.md argues from them that some of issue 16's targets lie beyond the cost of an
order's own rows; that holds only if a floor writes as many rows as the engine, table by
table, and moves money as the engine does (balanced per journal record and asset)."""

from __future__ import annotations

from typing import Any

import psycopg

from benchmarks.floor import (
    BATCH_FLOOR,
    CROSS_FLOOR,
    PLACE_BATCH,
    PLACE_CROSSING,
    PLACE_SEED,
    PLACE_SELL,
    SELL_FLOOR,
)
from benchmarks.trading import USERS, seed

TABLES = ("orders", "trades", "journal", "transactions", "outbox_events", "order_book")


def _counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    out = {}
    for table in TABLES:
        row = conn.execute(f"SELECT count(*) FROM exchange.{table}").fetchone()
        assert row is not None
        out[table] = int(row[0])
    return out


def _delta(conn: psycopg.Connection[Any], statements: list[tuple[str, dict[str, int]]]
           ) -> dict[str, int]:
    before = _counts(conn)
    for text, params in statements:
        conn.execute(text, params)
    after = _counts(conn)
    return {t: after[t] - before[t] for t in TABLES}


def _same_rows(dsn: str, engine: list[tuple[str, dict[str, int]]],
               floor: list[tuple[str, dict[str, int]]], expected: dict[str, int],
               book: list[tuple[str, int]]) -> None:
    """The engine's statements write ``expected`` rows, the floor's as many, table by table;
    every journal record balances per asset; the book holds ``book`` (side, orders)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert _delta(conn, engine) == expected
        assert _delta(conn, floor) == expected
        unbalanced = conn.execute("""
            SELECT t.journal_id, t.asset_id, sum(t.amount) FROM exchange.transactions t
             GROUP BY 1, 2 HAVING sum(t.amount) <> 0""").fetchall()
        assert unbalanced == []
        assert conn.execute("SELECT side::text, count(*) FROM exchange.order_book GROUP BY 1"
                            ).fetchall() == book


def test_the_pair_floor_writes_the_engines_rows(clone_dsn: str) -> None:
    ubase = seed(clone_dsn)
    seller, buyer = {"u": ubase + 1}, {"u": ubase + USERS // 2 + 1}
    # each buy fills the sell placed just before it: the book ends empty
    _same_rows(clone_dsn, [(PLACE_SELL, seller), (PLACE_CROSSING, buyer)],
               [(SELL_FLOOR, seller), (CROSS_FLOOR, buyer)],
               {"orders": 2, "trades": 1, "journal": 3, "transactions": 10,
                "outbox_events": 5, "order_book": 0}, [])


def test_the_batch_floor_writes_the_engines_rows(clone_dsn: str) -> None:
    ubase = seed(clone_dsn)
    args = {"ubase": ubase, "k": 7, "half": 5}
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute(PLACE_SEED, args)
    # 5 buys filling the 5 sells of the call before, 5 sells resting
    _same_rows(clone_dsn, [(PLACE_BATCH, args)], [(BATCH_FLOOR, {**args, "k": 11})],
               {"orders": 10, "trades": 5, "journal": 15, "transactions": 50,
                "outbox_events": 25, "order_book": 0}, [("SELL", 5)])
