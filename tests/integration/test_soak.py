"""The soak's short form (benchmarks/soak.py; ``make soak`` runs the long one): every kind of
call from several connections at once, the invariants checked while it runs and at the end.
And the checks themselves can fail: each broken invariant planted afterwards is reported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from benchmarks.soak import ORDER_TYPES, SoakReport, check, soak


@pytest.fixture(scope="module")
def soaked(databases: Any, template_name: str) -> Iterator[tuple[str, SoakReport]]:
    name = databases.create("pyx_soak", template=template_name)
    try:
        dsn = databases.dsn(name)
        yield dsn, soak(dsn, duration=4.0, clients=4, users=8, check_every=1.2)
    finally:
        databases.drop(name)


def test_a_short_soak_serves_every_kind_of_call_and_breaks_nothing(
        soaked: tuple[str, SoakReport]) -> None:
    _, report = soaked
    assert report.failures == [] and report.violations == []
    assert report.checks >= 3, "checked while running and at the end"
    kinds = {k.split(" ")[0] for k in report.ops}
    assert {"deposit", "transfer", "withdrawal", "order", "batch", "cancel"} <= kinds
    placed = {k for k in report.ops if k.startswith("order ")}
    assert len(placed) >= len(ORDER_TYPES) - 1  # each type and time in force, most runs all
    assert report.trades > 20


@pytest.mark.parametrize(("corruption", "problem"), [
    ("UPDATE exchange.accounts SET available_balance = available_balance + 1 "
     "WHERE id = (SELECT min(id) FROM exchange.accounts WHERE kind = 'USER')", "ledger:"),
    ("DELETE FROM exchange.outbox_events WHERE id = (SELECT min(id) FROM exchange.outbox_events "
     "WHERE event_type = 'trade_executed')", "outbox: trade"),
    ("UPDATE exchange.klines SET volume = volume + 1 WHERE (trading_pair_id, interval, open_time) "
     "= (SELECT trading_pair_id, interval, open_time FROM exchange.klines LIMIT 1)", "k-lines"),
    ("UPDATE exchange.orders SET hold_amount = hold_amount + 1 WHERE id = (SELECT min(id) "
     "FROM exchange.orders WHERE status IN ('NEW', 'PARTIALLY_FILLED'))", "hold differs"),
])
def test_the_checks_report_each_broken_invariant(soaked: tuple[str, SoakReport],
                                                 corruption: str, problem: str) -> None:
    dsn, _ = soaked
    with psycopg.connect(dsn) as conn:
        conn.execute("ALTER TABLE exchange.accounts DISABLE TRIGGER USER")
        conn.execute(corruption)
        conn.execute("ALTER TABLE exchange.accounts ENABLE TRIGGER USER")
        conn.commit()
        try:
            found = check(dsn, SoakReport())
        finally:
            conn.rollback()
    assert any(v.startswith(problem) for v in found), found
