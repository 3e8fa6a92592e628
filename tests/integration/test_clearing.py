"""Clearing: after a simulated day with many users and pairs, the batch's totals equal sums
computed here from the trades, the fees are swept to REVENUE with balanced records, the
trades are marked; running it again clears nothing; earlier open days are cleared first, in
order; a journal entry corrupted by the test (as superuser) makes the batch FAIL with a
discrepancy naming it, and nothing is swept; the reports and the CLI."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pyexchange.cli import main as cli
from pyexchange.client import Exchange
from tests.integration._trading_support import check_invariants, setup_market

D = Decimal
Conn = psycopg.Connection[Any]
PAIRS = (("BTC-USDT", "BTC", "USDT"), ("ETH-USDT", "ETH", "USDT"), ("ETH-BTC", "ETH", "BTC"))
USERS = tuple(f"trader{i}" for i in range(8))
PRICES = {"BTC-USDT": 50000, "ETH-USDT": 3000, "ETH-BTC": D("0.06")}


def today() -> date:
    return datetime.now(UTC).date()


class Day:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: Conn = psycopg.connect(dsn, autocommit=True)
        row = self.conn.execute("SELECT id FROM exchange.bootstrap_admin('root', "
                                "'root@example.com', 'a long passphrase')").fetchone()
        assert row is not None
        self.admin: int = row[0]
        self.admin_conn: Conn = psycopg.connect(dsn, autocommit=True)
        self.admin_conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)",
                                (str(self.admin),))
        self.users = setup_market(self.conn, users=USERS, pairs=PAIRS, price_precision=4,
                                  amount_precision=4,
                                  funds={"BTC": "1000", "ETH": "10000", "USDT": "100000000"})

    def trade(self, n_orders: int, seed: int = 7) -> None:
        """Random limit orders around each pair's price, in batches: many of them cross."""
        rnd = random.Random(seed)
        ids = list(self.users.values())
        for start in range(0, n_orders, 20):
            rows = []
            for _ in range(min(20, n_orders - start)):
                symbol = rnd.choice([p[0] for p in PAIRS])
                mid = D(str(PRICES[symbol]))
                price = (mid * (1 + D(rnd.randint(-20, 20)) / 1000)).quantize(D("0.0001"))
                amount = D(rnd.randint(1, 300)) / 100
                rows.append((rnd.choice(ids), symbol, rnd.choice(["BUY", "SELL"]), price, amount))
            self.conn.execute(
                "SELECT count(*) FROM exchange.place_orders(ARRAY(SELECT ROW(u, s, sd, 'LIMIT', a, "
                "p, 'GTC', NULL, NULL, NULL, NULL)::exchange.order_request FROM unnest("
                "%s::bigint[], %s::text[], %s::text[], %s::numeric[], %s::numeric[]) "
                "WITH ORDINALITY AS r(u, s, sd, p, a, o) ORDER BY o))",
                ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                 [r[3] for r in rows], [r[4] for r in rows]))

    def clear(self, day: date) -> list[tuple[Any, ...]]:
        return self.admin_conn.execute(
            "SELECT id, business_date, status::text, trades_count FROM exchange.run_clearing(%s)",
            (day,)).fetchall()

    def close(self) -> None:
        self.conn.close()
        self.admin_conn.close()


@pytest.fixture
def day(clone_dsn: str) -> Iterator[Day]:
    d = Day(clone_dsn)
    try:
        yield d
    finally:
        d.close()


def expected_from_trades(conn: Conn, batch_id: int) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Per (user, asset): [bought, sold, fees]; per pair: [count, volume, quote, base fees,
    quote fees], computed in Python from the batch's trades."""
    users: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [D(0)] * 3)
    pairs: dict[str, list[Decimal]] = defaultdict(lambda: [D(0)] * 5)
    rows = conn.execute(
        "SELECT tp.symbol, ba.symbol, qa.symbol, t.buyer_user_id, t.seller_user_id, t.amount, "
        "t.quote_amount, t.buyer_fee, t.seller_fee FROM exchange.trades t "
        "JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id "
        "JOIN exchange.assets ba ON ba.id = tp.base_asset_id "
        "JOIN exchange.assets qa ON qa.id = tp.quote_asset_id "
        "WHERE t.settlement_batch_id = %s", (batch_id,)).fetchall()
    for symbol, base, quote, buyer, seller, amount, quote_amount, bfee, sfee in rows:
        users[(buyer, base)][0] += amount
        users[(buyer, base)][2] += bfee
        users[(buyer, quote)][1] += quote_amount
        users[(seller, base)][1] += amount
        users[(seller, quote)][0] += quote_amount
        users[(seller, quote)][2] += sfee
        p = pairs[symbol]
        p[0] += 1
        p[1] += amount
        p[2] += quote_amount
        p[3] += bfee
        p[4] += sfee
    return dict(users), dict(pairs)


def test_a_day_clears_into_totals_computed_from_its_trades(day: Day) -> None:
    day.trade(300)
    n_trades = day.conn.execute("SELECT count(*) FROM exchange.trades").fetchone()
    assert n_trades is not None and n_trades[0] > 50, "the simulated day should trade a lot"
    fees_before = dict(day.conn.execute(
        "SELECT a.symbol, sum(acc.available_balance) FROM exchange.accounts acc "
        "JOIN exchange.assets a ON a.id = acc.asset_id WHERE acc.kind = 'FEE' "
        "AND acc.trading_pair_id IS NOT NULL GROUP BY a.symbol").fetchall())

    ((batch_id, bdate, status, count),) = day.clear(today())
    assert (bdate, status, count) == (today(), "COMPLETED", n_trades[0])

    users, pairs = expected_from_trades(day.conn, batch_id)
    assert sum(int(p[0]) for p in pairs.values()) == n_trades[0]   # every trade is in the batch
    details = {(u, a): [b, s, f, n] for u, a, b, s, f, n in day.conn.execute(
        "SELECT d.user_id, a.symbol, d.bought, d.sold, d.fees_paid, d.net "
        "FROM exchange.settlement_details d JOIN exchange.assets a ON a.id = d.asset_id "
        "WHERE d.batch_id = %s", (batch_id,)).fetchall()}
    assert {k: v[:3] for k, v in details.items()} == users
    assert all(v[3] == v[0] - v[1] - v[2] for v in details.values())
    totals = {s: [c, v, q, bf, qf] for s, c, v, q, bf, qf in day.conn.execute(
        "SELECT tp.symbol, pt.trades_count, pt.volume, pt.quote_volume, pt.base_fees, "
        "pt.quote_fees FROM exchange.settlement_pair_totals pt "
        "JOIN exchange.trading_pairs tp ON tp.id = pt.trading_pair_id WHERE pt.batch_id = %s",
        (batch_id,)).fetchall()}
    assert totals == pairs

    # the sweep: every pair's fees moved to REVENUE, one balanced record per pair
    fees_by_asset: dict[str, Decimal] = defaultdict(D)
    for symbol, base, quote in PAIRS:
        fees_by_asset[base] += pairs[symbol][3]
        fees_by_asset[quote] += pairs[symbol][4]
    assert fees_by_asset == {k: v for k, v in fees_before.items()}
    revenue = dict(day.conn.execute(
        "SELECT a.symbol, acc.available_balance FROM exchange.accounts acc "
        "JOIN exchange.assets a ON a.id = acc.asset_id WHERE acc.kind = 'REVENUE'").fetchall())
    assert revenue == fees_by_asset
    assert day.conn.execute("SELECT sum(available_balance) FROM exchange.accounts "
                            "WHERE kind = 'FEE' AND trading_pair_id IS NOT NULL").fetchone() == (0,)
    sweeps = day.conn.execute(
        "SELECT count(DISTINCT j.id) FROM exchange.journal j WHERE j.type = 'FEE_SWEEP' "
        "AND j.reference_type = 'SETTLEMENT_BATCH' AND j.reference_id = %s",
        (batch_id,)).fetchone()
    assert sweeps == (len(PAIRS),)
    assert day.conn.execute("SELECT count(*) FROM exchange.trades WHERE settlement_batch_id "
                            "IS DISTINCT FROM %s", (batch_id,)).fetchone() == (0,)
    check_invariants(day.conn)

    # running it again clears nothing and returns the batch
    journal = day.conn.execute("SELECT count(*) FROM exchange.journal").fetchone()
    assert day.clear(today()) == [(batch_id, today(), "COMPLETED", n_trades[0])]
    assert day.conn.execute("SELECT count(*) FROM exchange.journal").fetchone() == journal

    # the report and a statement, through the client
    with Exchange(day.dsn, acting_user_id=day.admin) as ex:
        report = ex.settlement_report(batch_id)
        assert report.status.value == "COMPLETED" and report.discrepancies == []
        assert {p.symbol: [p.trades_count, p.volume, p.quote_volume, p.base_fees, p.quote_fees]
                for p in report.pairs} == pairs
        assert all(p.sweep_journal_id is not None for p in report.pairs)
        assert {a.asset: a.net for a in report.assets} == {
            asset: -fees_by_asset[asset] for asset in fees_by_asset}
        user = day.users["trader3"]
        lines = ex.user_statement(user, today())
        assert {ln.asset: [ln.bought, ln.sold, ln.fees_paid] for ln in lines} == {
            a: v for (u, a), v in users.items() if u == user}
        assert {ln.batch_id for ln in lines} == {batch_id}

    # the CLI statement as CSV, and the report
    runner = CliRunner()
    out = runner.invoke(cli, ["--dsn", day.dsn, "--as", str(day.admin), "clearing", "statement",
                              str(user), "--date", today().isoformat(), "--csv"],
                        catch_exceptions=False)
    assert out.exit_code == 0, out.output
    parsed = list(csv.DictReader(io.StringIO(out.output)))
    assert {r["asset"]: D(r["net"]) for r in parsed} == {
        a: v[0] - v[1] - v[2] for (u, a), v in users.items() if u == user}
    out = runner.invoke(cli, ["--dsn", day.dsn, "--as", str(day.admin), "clearing", "report",
                              str(batch_id)], catch_exceptions=False)
    assert out.exit_code == 0 and "COMPLETED" in out.output, out.output


def test_earlier_open_days_are_cleared_first_in_order(day: Day) -> None:
    yesterday = today() - timedelta(days=1)
    day.conn.execute("SELECT exchange.create_monthly_partitions(0, %s)", (yesterday,))
    day.trade(120, seed=3)
    # move the first half of the trades (and their journal records) to yesterday, as if
    # yesterday had not been cleared
    day.conn.execute("""
        WITH moved AS (
            UPDATE exchange.trades SET created_at = created_at - interval '1 day'
             WHERE id <= (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY id) FROM exchange.trades)
            RETURNING id)
        UPDATE exchange.journal SET created_at = created_at - interval '1 day'
         WHERE reference_type = 'TRADE' AND reference_id IN (SELECT id FROM moved)""")
    per_day = dict(day.conn.execute(
        "SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FROM exchange.trades "
        "GROUP BY 1").fetchall())
    batches = day.clear(today())
    assert [(b[1], b[2], b[3]) for b in batches] == [
        (yesterday, "COMPLETED", per_day[yesterday]), (today(), "COMPLETED", per_day[today()])]
    assert batches[0][0] < batches[1][0]
    # asking for yesterday now returns its batch; nothing is cleared twice
    assert day.clear(yesterday) == [batches[0]]
    # tomorrow has not begun
    with pytest.raises(psycopg.Error) as info:
        day.clear(today() + timedelta(days=1))
    assert info.value.sqlstate == "EX421"
    check_invariants(day.conn)


def test_a_corrupted_journal_entry_fails_the_batch_and_sweeps_nothing(day: Day) -> None:
    day.trade(80, seed=11)
    # as superuser: change one trade's journal entry (a user's leg), keeping its own arithmetic
    row = day.conn.execute(
        "SELECT e.id, j.id, j.reference_id FROM exchange.transactions e "
        "JOIN exchange.journal j ON j.id = e.journal_id "
        "WHERE j.reference_type = 'TRADE' AND e.user_id IS NOT NULL ORDER BY e.id LIMIT 1 "
        "OFFSET 5").fetchone()
    assert row is not None
    entry_id, journal_id, trade_id = row
    day.conn.execute("UPDATE exchange.transactions SET amount = amount + 0.5, "
                     "balance_after = balance_after + 0.5 WHERE id = %s", (entry_id,))
    journal = day.conn.execute("SELECT count(*) FROM exchange.journal").fetchone()

    ((batch_id, _, status, _),) = day.clear(today())
    assert status == "FAILED"
    mismatches = day.conn.execute(
        "SELECT detail FROM exchange.settlement_discrepancies WHERE batch_id = %s "
        "AND kind = 'TRADE_JOURNAL_MISMATCH'", (batch_id,)).fetchall()
    assert len(mismatches) == 1
    (detail,) = mismatches[0]
    assert detail["trade_id"] == trade_id and entry_id in detail["entry_ids"]
    assert detail["journal_ids"] == [journal_id]
    assert D(detail["posted"]) - D(detail["expected"]) == D("0.5")
    kinds = {k for (k,) in day.conn.execute(
        "SELECT DISTINCT kind FROM exchange.settlement_discrepancies WHERE batch_id = %s",
        (batch_id,)).fetchall()}
    assert "RECONCILE" in kinds                        # the ledger no longer replays either
    # nothing swept, nothing marked
    assert day.conn.execute("SELECT count(*) FROM exchange.journal").fetchone() == journal
    assert day.conn.execute("SELECT count(*) FROM exchange.trades "
                            "WHERE settlement_batch_id IS NOT NULL").fetchone() == (0,)
    assert day.conn.execute("SELECT count(*) FROM exchange.accounts WHERE kind = 'REVENUE' "
                            "AND available_balance <> 0").fetchone() == (0,)
    with Exchange(day.dsn, acting_user_id=day.admin) as ex:
        report = ex.settlement_report(batch_id)
        assert report.status.value == "FAILED"
        assert any(entry_id in d.detail.get("entry_ids", []) for d in report.discrepancies)

    # repaired, the day clears on the next run (same batch, second attempt)
    day.conn.execute("UPDATE exchange.transactions SET amount = amount - 0.5, "
                     "balance_after = balance_after - 0.5 WHERE id = %s", (entry_id,))
    ((again, _, status, _),) = day.clear(today())
    assert (again, status) == (batch_id, "COMPLETED")
    assert day.conn.execute("SELECT attempts FROM exchange.settlement_batches WHERE id = %s",
                            (batch_id,)).fetchone() == (2,)
    assert day.conn.execute("SELECT count(*) FROM exchange.settlement_discrepancies "
                            "WHERE batch_id = %s", (batch_id,)).fetchone() == (0,)
    check_invariants(day.conn)


def test_clearing_needs_the_permission(day: Day) -> None:
    # (an application login without an acting user gets EX320: test_authorization.py; a DBA
    # session without one clears, as it creates pairs: the DBA path, below)
    trader = psycopg.connect(day.dsn, autocommit=True)
    trader.execute("SELECT set_config('exchange.acting_user_id', %s, false)",
                   (str(day.users["trader1"]),))
    with pytest.raises(psycopg.Error) as info:
        trader.execute("SELECT * FROM exchange.run_clearing(%s)", (today(),))
    assert info.value.sqlstate == "EX321"
    # a user reads their own statement, not another's
    trader.execute("SELECT * FROM exchange.user_statement(%s, %s)", (day.users["trader1"], today()))
    with pytest.raises(psycopg.Error) as info:
        trader.execute("SELECT * FROM exchange.user_statement(%s, %s)",
                       (day.users["trader2"], today()))
    assert info.value.sqlstate == "EX321"
    trader.close()
    [batch] = day.conn.execute("SELECT status::text, run_by FROM exchange.run_clearing(%s)",
                               (today(),)).fetchall()
    assert batch == ("COMPLETED", None)
