"""Helpers shared by the ledger tests: users, a fingerprint of every ledger table, and the
invariants every test that moves money ends with."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg

STATE_SQL = """
SELECT md5(concat_ws('|',
    (SELECT string_agg(concat_ws(',', id, available_balance, frozen_balance, version), ';'
                       ORDER BY id) FROM exchange.accounts),
    (SELECT count(*) FROM exchange.journal), (SELECT count(*) FROM exchange.transactions),
    (SELECT string_agg(key || coalesce(result_id::text, '-'), ';' ORDER BY key)
       FROM exchange.idempotency_keys),
    (SELECT string_agg(concat_ws(',', id, status, version), ';' ORDER BY id)
       FROM exchange.withdrawals),
    (SELECT string_agg(concat_ws(',', id, amount), ';' ORDER BY id) FROM exchange.holds),
    (SELECT string_agg(concat_ws(',', id, is_active), ';' ORDER BY id) FROM exchange.assets)))
"""


def ledger_state(conn: psycopg.Connection[Any]) -> str:
    """A fingerprint of every ledger table: equal before and after means nothing changed."""
    row = conn.execute(STATE_SQL).fetchone()
    assert row is not None
    return str(row[0])


def make_users(conn: psycopg.Connection[Any], prefix: str, n: int) -> list[int]:
    rows = conn.execute(
        "INSERT INTO exchange.users (username, email, password_hash, status, kyc_level) "
        "SELECT %s || i, %s || i || '@example.com', 'x', 'ACTIVE', 2 FROM generate_series(1, %s) i "
        "RETURNING id", (prefix, prefix, n)).fetchall()
    return [r[0] for r in rows]


def assert_ledger_invariants(conn: psycopg.Connection[Any]) -> None:
    """reconcile() is empty, no user/fee balance is negative, every asset sums to zero."""
    problems = conn.execute("SELECT * FROM exchange.reconcile()").fetchall()
    assert problems == [], problems
    negative = conn.execute(
        "SELECT id FROM exchange.accounts WHERE kind <> 'EXTERNAL' "
        "AND (available_balance < 0 OR frozen_balance < 0)").fetchall()
    assert negative == []
    sums = conn.execute(
        "SELECT asset_id, sum(total_balance) FROM exchange.accounts GROUP BY asset_id "
        "HAVING sum(total_balance) <> 0").fetchall()
    assert sums == []


def external_balance(conn: psycopg.Connection[Any], symbol: str) -> Decimal:
    row = conn.execute(
        "SELECT a.available_balance FROM exchange.accounts a JOIN exchange.assets s "
        "ON s.id = a.asset_id WHERE a.kind = 'EXTERNAL' AND s.symbol = %s", (symbol,)).fetchone()
    assert row is not None
    return Decimal(row[0])
