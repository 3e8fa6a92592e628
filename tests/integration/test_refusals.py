"""Refusals (issue 17): each bad input gets its typed EX code, changes nothing, and quotes at
most a bounded prefix of its arguments; and the reads page by keyset.

One committed market (assets, a pair, users, a few trades, an outbox event, a risk rule) in a
private clone; every case runs in its own transaction, rolled back afterwards, between two
fingerprints of every table of the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from tests.integration._trading_support import place, setup_market

D = Decimal
BIG = "x" * 100_000

def fingerprint(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """md5 of every table's rows (partitioned tables through their parent), in one query."""
    tables = [r[0] for r in conn.execute(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'exchange' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " AND c.relpersistence = 'p' ORDER BY 1")]
    query = " UNION ALL ".join(
        f"SELECT '{t}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {t} AS t"
        for t in tables)
    return dict(conn.execute(query).fetchall())


@dataclass(frozen=True)
class World:
    dsn: str
    admin: int
    alice: int
    bob: int
    pending: int
    rule_id: int
    trades: list[int]
    orders: list[int]


@pytest.fixture(scope="module")
def world(databases: Any, template_name: str) -> Iterator[World]:
    name = databases.create("pyx_refusals", template=template_name)
    dsn = databases.dsn(name)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT id FROM exchange.bootstrap_admin('root17', "
                               "'root17@example.com', 'a long passphrase')").fetchone()
            assert row is not None
            admin = row[0]
            ids = setup_market(conn, users=("alice", "bob"),
                               pairs=(("TA-TB", "TA", "TB"),))
            row = conn.execute("SELECT id FROM exchange.register_user('pending17', "
                               "'pending17@example.com', 'a long passphrase')").fetchone()
            assert row is not None
            pending = row[0]
            orders = []
            for i in range(6):  # six trades, alice's resting orders filled by bob
                orders.append(place(conn, ids["alice"], "SELL", "LIMIT", "1", str(100 + i),
                                    symbol="TA-TB")["id"])
                place(conn, ids["bob"], "BUY", "LIMIT", "1", str(100 + i), symbol="TA-TB")
            conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)", (str(admin),))
            row = conn.execute(
                "SELECT id FROM exchange.create_risk_rule('rate 17', 'ORDER_RATE', "
                "'{\"max_orders\": 1000, \"window_seconds\": 60}', '{\"action\": \"FLAG\"}')"
            ).fetchone()
            assert row is not None
            trades = [r[0] for r in conn.execute("SELECT id FROM exchange.trades ORDER BY id")]
        assert len(trades) == 6
        yield World(dsn, admin, ids["alice"], ids["bob"], pending, row[0], trades, orders)
    finally:
        databases.drop(name)


def _call(world: World, sql: str, args: dict[str, Any], acting: int
          ) -> tuple[psycopg.Error | None, dict[str, str], dict[str, str]]:
    with psycopg.connect(world.dsn) as conn:
        conn.execute("SELECT set_config('exchange.acting_user_id', %s, true)", (str(acting),))
        before = fingerprint(conn)
        error: psycopg.Error | None = None
        try:
            conn.execute("SAVEPOINT s")
            conn.execute(sql, args).fetchall()
        except psycopg.Error as exc:
            error = exc
            conn.execute("ROLLBACK TO SAVEPOINT s")
        after = fingerprint(conn)
        conn.rollback()
    return error, before, after


# (id, sql, code): the arguments are named after the world (alice, bob, pending, admin, rule,
# trade0, order0, big) and bound by psycopg.
CASES: list[tuple[str, str, str]] = [
    # item 2: the untyped errors of the issue
    ("claim-max-int", "SELECT * FROM exchange.claim_outbox_events(2147483647)", "EX001"),
    ("pair-precision-overflow",
     "SELECT exchange.create_trading_pair('TB-TA', 'TB', 'TA', 2147483647)", "EX220"),
    ("kyc-limit-infinity",
     "SELECT exchange.set_kyc_limit(1, 'TRADE', NULL, true, 'Infinity')", "EX001"),
    ("kyc-limit-nan", "SELECT exchange.set_kyc_limit(1, 'TRADE', NULL, true, 'NaN')", "EX001"),
    ("kyc-limit-too-fine",
     "SELECT exchange.set_kyc_limit(1, 'TRADE', NULL, true, 1e-19)", "EX001"),
    ("risk-rule-huge-name",
     "SELECT exchange.create_risk_rule(%(big)s, 'ORDER_RATE', "
     "'{\"max_orders\": 5, \"window_seconds\": 60}', '{\"action\": \"FLAG\"}')", "EX402"),
    ("risk-rule-update-huge-name",
     "SELECT exchange.update_risk_rule(%(rule)s, %(big)s)", "EX402"),
    ("template-huge-event-type",
     "SELECT exchange.create_notification_template(%(big)s, 'IN_APP', 'en', 's', 'b')", "EX503"),
    ("orders-limit-negative",
     "SELECT * FROM exchange.get_orders(%(alice)s, NULL, false, -1)", "EX001"),
    ("trades-limit-negative", "SELECT * FROM exchange.get_recent_trades('TA-TB', -1)", "EX001"),
    ("partitions-from-infinity",
     "SELECT * FROM exchange.create_monthly_partitions(3, 'infinity')", "EX001"),
    ("partitions-from-far-future",
     "SELECT * FROM exchange.create_monthly_partitions(3, '5874897-12-31')", "EX001"),
    ("prune-huge-age", "SELECT * FROM exchange.prune_outbox_events('178000000 years')", "EX001"),
    ("failures-huge-negative-delay",
     "SELECT * FROM exchange.record_outbox_failures('{1}', 'e', 10, '-178000000 years')", "EX001"),
    ("failures-huge-max-delay",
     "SELECT * FROM exchange.record_outbox_failures('{1}', 'e', 10, '1 s', '178000000 years')",
     "EX001"),
    ("statement-far-future",
     "SELECT * FROM exchange.user_statement(%(alice)s, '5874897-12-31')", "EX411"),
    # item 3: accepted, and wrong
    ("clearing-minus-infinity", "SELECT * FROM exchange.run_clearing('-infinity')", "EX421"),
    ("clearing-bc", "SELECT * FROM exchange.run_clearing('4713-01-01 BC')", "EX421"),
    ("clearing-year-one", "SELECT * FROM exchange.run_clearing('0001-01-01')", "EX421"),
    ("clearing-epoch", "SELECT * FROM exchange.run_clearing('1970-01-01')", "EX421"),
    ("pair-symbol-not-base-quote",
     "SELECT exchange.create_trading_pair('TX-TY', 'TB', 'TA')", "EX220"),
    ("pair-symbol-reversed", "SELECT exchange.create_trading_pair('TA-TB', 'TB', 'TA')", "EX220"),
    ("freeze-order-reference",
     "SELECT exchange.freeze(%(alice)s, 'TA', 1, 'ORDER', 1, 'f17-1')", "EX117"),
    ("freeze-withdrawal-reference",
     "SELECT exchange.freeze(%(alice)s, 'TA', 1, 'WITHDRAWAL', 1, 'f17-2')", "EX117"),
    ("asset-blank-name", "SELECT exchange.create_asset('TC', E' \\t\\n ', 'CRYPTO', 8)", "EX111"),
    ("deposit-blank-key", "SELECT exchange.deposit(%(alice)s, 'TA', 1, E' \\t ')", "EX109"),
    ("order-blank-client-order-id",
     "SELECT * FROM exchange.place_order(%(alice)s, 'TA-TB', 'SELL', 'LIMIT', 1, 200, "
     "p_client_order_id => E' \\t ')", "EX209"),
    ("transfer-blank-key",
     "SELECT exchange.transfer(%(alice)s, %(bob)s, 'TA', 1, '   ')", "EX109"),
    ("transfer-to-pending",
     "SELECT exchange.transfer(%(alice)s, %(pending)s, 'TA', 1, 't17-1')", "EX303"),
    ("transfers-batch-to-pending",
     "SELECT exchange.transfers(ARRAY[ROW(%(alice)s, %(bob)s, 'TA', 1, 't17-2'), "
     "ROW(%(alice)s, %(pending)s, 'TA', 1, 't17-3')]::exchange.transfer_request[])", "EX303"),
    ("book-depth-negative", "SELECT * FROM exchange.get_order_book('TA-TB', -1)", "EX001"),
    ("book-depth-max-int", "SELECT * FROM exchange.get_order_book('TA-TB', 2147483647)", "EX001"),
    # free texts, bounded
    ("template-long-subject", "SELECT exchange.create_notification_template("
     "'order_placed', 'IN_APP', 'en', repeat('s', 201), 'b')", "EX001"),
    ("template-long-body", "SELECT exchange.create_notification_template("
     "'order_placed', 'IN_APP', 'en', 's', repeat('b', 10001))", "EX001"),
    # the secret is stored as an envelope (pyxenc:1:<key id>:<base64url>): one over 1024
    # characters is refused by its bound, before its form is checked
    ("webhook-long-secret", "SELECT exchange.set_webhook_endpoint(%(alice)s, 'https://a.example', "
     "'pyxenc:1:1:' || repeat('A', 1014))", "EX001"),
    ("webhook-long-url", "SELECT exchange.set_webhook_endpoint(%(alice)s, 'https://' || "
     "repeat('u', 2000), repeat('s', 16))", "EX001"),
    ("kyc-review-long-note",
     "SELECT * FROM exchange.approve_kyc(%(admin)s, 1, repeat('n', 1001))", "EX001"),
    ("status-long-reason",
     "SELECT * FROM exchange.set_user_status(%(bob)s, 'SUSPENDED', repeat('r', 501))", "EX001"),
    ("withdrawal-review-long-note",
     "SELECT * FROM exchange.approve_withdrawal(1, repeat('n', 1001))", "EX411"),
    ("risk-event-long-note",
     "SELECT * FROM exchange.resolve_risk_event(1, repeat('n', 1001))", "EX411"),
    ("withdrawal-cancel-long-reason",
     "SELECT * FROM exchange.cancel_withdrawal(1, repeat('r', 2001))", "EX001"),
    ("withdrawal-complete-long-ref",
     "SELECT * FROM exchange.complete_withdrawal(1, repeat('r', 201))", "EX001"),
    # a 100 kB argument: refused, and quoted in the error by a bounded prefix only
    ("huge-pair-trades", "SELECT * FROM exchange.get_recent_trades(%(big)s)", "EX201"),
    ("huge-pair-book", "SELECT * FROM exchange.get_order_book(%(big)s)", "EX201"),
    ("huge-pair-symbol", "SELECT exchange.create_trading_pair(%(big)s, 'TA', 'TB')", "EX220"),
    ("huge-asset-symbol", "SELECT exchange.create_asset(%(big)s, 'n', 'CRYPTO', 8)", "EX111"),
    ("huge-deposit-asset", "SELECT exchange.deposit(%(alice)s, %(big)s, 1, 'k17-big')", "EX103"),
    ("huge-deposit-key", "SELECT exchange.deposit(%(alice)s, 'TA', 1, %(big)s)", "EX109"),
    ("huge-hold-reference",
     "SELECT exchange.freeze(%(alice)s, 'TA', 1, %(big)s, 1, 'f17-big')", "EX117"),
    ("huge-history-asset", "SELECT * FROM exchange.account_history(%(alice)s, %(big)s)", "EX103"),
    ("huge-template-body", "SELECT exchange.create_notification_template("
     "'order_placed', 'IN_APP', 'en', 's', %(big)s)", "EX001"),
    # item 4: paging arguments
    ("orders-limit-over", "SELECT * FROM exchange.get_orders(%(alice)s, NULL, false, 1001)",
     "EX001"),
    ("orders-both-cursors", "SELECT * FROM exchange.get_orders(%(alice)s, NULL, false, 10, "
     "NULL, %(order0)s, %(order0)s)", "EX001"),
    ("orders-cursor-of-another-user", "SELECT * FROM exchange.get_orders(%(bob)s, NULL, false, "
     "10, NULL, %(order0)s)", "EX001"),
    ("trades-unknown-cursor", "SELECT * FROM exchange.get_recent_trades(NULL, 10, -5)", "EX001"),
    ("history-limit-zero",
     "SELECT * FROM exchange.account_history(%(alice)s, 'TA', NULL, NULL, 0)", "EX001"),
    ("history-unknown-cursor",
     "SELECT * FROM exchange.account_history(%(alice)s, 'TA', NULL, NULL, 10, -1)", "EX001"),
]


def _args(world: World) -> dict[str, Any]:
    return {"alice": world.alice, "bob": world.bob, "pending": world.pending,
            "admin": world.admin, "rule": world.rule_id, "trade0": world.trades[0],
            "order0": world.orders[0], "big": BIG}


@pytest.mark.parametrize(("sql", "code"), [(s, c) for _, s, c in CASES],
                         ids=[i for i, _, _ in CASES])
def test_bad_input_gets_its_typed_error_and_changes_nothing(
        world: World, sql: str, code: str) -> None:
    args = {k: v for k, v in _args(world).items() if f"%({k})s" in sql}
    # the acting user: the admin, except where only the user may act for themselves (their
    # own settings; moving their own funds): there alice, the rightful caller, so that the
    # input's check is what refuses, not the authorization that runs first
    own = ("set_webhook_endpoint", "exchange.transfer", "exchange.place_order")
    acting = world.alice if any(f in sql for f in own) else world.admin
    error, before, after = _call(world, sql, args, acting)
    assert error is not None, "accepted"
    assert error.sqlstate == code, f"{error.sqlstate}: {error}"
    assert error.diag.message_detail and error.diag.message_hint, "detail and hint"
    assert before == after
    # A 100 kB argument never comes back whole.
    text = f"{error.diag.message_primary} {error.diag.message_detail}"
    assert len(text) < 1000


def test_the_right_input_passes_the_same_checks(world: World) -> None:
    """The same calls with good arguments are served (the checks are not blanket refusals)."""
    with psycopg.connect(world.dsn) as conn:
        conn.execute("SELECT set_config('exchange.acting_user_id', %s, true)", (str(world.admin),))
        conn.execute("SELECT exchange.create_asset('TC', 'tc', 'CRYPTO', 8)")
        conn.execute("SELECT exchange.create_trading_pair('TC-TB', 'TC', 'TB')")
        conn.execute("SELECT exchange.freeze(%s, 'TA', 1, 'MARGIN', 1, 'f17-ok')", (world.alice,))
        conn.execute("SELECT exchange.set_kyc_limit(1, 'TRADE', NULL, true, 1000)")
        # only the sender moves their funds: alice acts for this one
        conn.execute("SELECT set_config('exchange.acting_user_id', %s, true)", (str(world.alice),))
        conn.execute("SELECT exchange.transfer(%s, %s, 'TA', 1, 't17-ok')",
                     (world.alice, world.bob))
        conn.execute("SELECT set_config('exchange.acting_user_id', %s, true)", (str(world.admin),))
        assert conn.execute("SELECT count(*) FROM exchange.run_clearing(current_date)"
                            ).fetchone() == (1,)
        book = conn.execute("SELECT bids FROM exchange.get_order_book('TA-TB', 1000)").fetchone()
        assert book is not None
        conn.execute("SELECT exchange.update_risk_rule(%s, 'renamed 17')", (world.rule_id,))
        conn.rollback()


def test_the_ticker_table_is_gone_and_the_ticker_is_computed(world: World) -> None:
    with psycopg.connect(world.dsn) as conn:
        assert conn.execute("SELECT to_regclass('exchange.ticker_24hr')").fetchone() == (None,)
        row = conn.execute("SELECT trades_count, volume FROM exchange.get_ticker_24hr('TA-TB')"
                           ).fetchone()
        assert row is not None and row[0] == 6 and D(row[1]) == 6


# --- keyset pages ----------------------------------------------------------------------------
def _pages(fetch: Any, cursor_of: Any, size: int) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    while True:
        rows = fetch(cursor, size)
        if not rows:
            return pages
        pages.append([r[0] for r in rows])
        cursor = cursor_of(rows)


def test_orders_and_trades_page_backwards_and_forwards(world: World) -> None:
    with psycopg.connect(world.dsn) as conn:
        all_orders = [r[0] for r in conn.execute(
            "SELECT id FROM exchange.get_orders(%s, NULL, false, 1000)", (world.alice,))]
        assert sorted(all_orders, reverse=True) == all_orders and len(all_orders) == 6
        pages = _pages(lambda c, n: conn.execute(
            "SELECT id FROM exchange.get_orders(%s, 'TA-TB', false, %s, NULL, %s)",
            (world.alice, n, c)).fetchall(), lambda rows: rows[-1][0], 4)
        assert pages == [all_orders[:4], all_orders[4:]]
        newer = [r[0] for r in conn.execute(
            "SELECT id FROM exchange.get_orders(%s, NULL, false, 2, NULL, NULL, %s)",
            (world.alice, all_orders[-1]))]
        assert newer == all_orders[-3:-1]  # the two just newer, still newest first

        trades = list(reversed(world.trades))
        pages = _pages(lambda c, n: conn.execute(
            "SELECT id FROM exchange.get_recent_trades(NULL, %s, %s)", (n, c)).fetchall(),
            lambda rows: rows[-1][0], 4)
        assert pages == [trades[:4], trades[4:]]
        back = [r[0] for r in conn.execute(
            "SELECT id FROM exchange.get_recent_trades('TA-TB', 3, NULL, %s)", (trades[-1],))]
        assert back == trades[-4:-1]


def test_account_history_pages_in_time_order(world: World) -> None:
    with psycopg.connect(world.dsn) as conn:
        every = [r[0] for r in conn.execute(
            "SELECT entry_id FROM exchange.account_history(%s, 'TB')", (world.bob,))]
        assert len(every) >= 7
        pages = _pages(lambda c, n: conn.execute(
            "SELECT entry_id FROM exchange.account_history(%s, 'TB', NULL, NULL, %s, %s)",
            (world.bob, n, c)).fetchall(), lambda rows: rows[-1][0], 3)
        assert [i for p in pages for i in p] == every and all(len(p) <= 3 for p in pages)
        before = [r[0] for r in conn.execute(
            "SELECT entry_id FROM exchange.account_history(%s, 'TB', NULL, NULL, 2, NULL, %s)",
            (world.bob, every[-1]))]
        assert before == every[-3:-1]


@pytest.mark.parametrize(("sql", "index"), [
    ("SELECT * FROM exchange.trades t ORDER BY t.created_at DESC, t.id DESC LIMIT 5",
     "trades_created_at_idx"),
    ("SELECT * FROM exchange.trades t WHERE t.trading_pair_id = 1 "
     "ORDER BY t.created_at DESC, t.id DESC LIMIT 5", "trades_pair_created_at_idx"),
    ("SELECT * FROM exchange.orders o WHERE o.user_id = 1 "
     "ORDER BY o.created_at DESC, o.id DESC LIMIT 5", "orders_user_created_at_idx"),
    ("SELECT * FROM exchange.orders o WHERE o.user_id = 1 AND o.trading_pair_id = 1 "
     "ORDER BY o.created_at DESC, o.id DESC LIMIT 5", "orders_user_pair_created_at_idx"),
    ("SELECT * FROM exchange.transactions t WHERE t.account_id = 1 AND t.created_at >= now() "
     "ORDER BY t.created_at, t.id LIMIT 5", "transactions_account_created_at_idx"),
])
def test_pages_read_an_index_in_order_without_sorting(world: World, sql: str, index: str) -> None:
    with psycopg.connect(world.dsn) as conn:
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql))
        conn.rollback()
    assert not re.search(r"(^|->\s+)(Incremental )?Sort\s+\(", plan, re.M), plan
    # partitions name their copies of the index <partition>_<columns>_idx: match the columns
    assert index in plan or _partition_index(index) in plan, plan


def _partition_index(index: str) -> str:
    return {"trades_created_at_idx": "created_at_id_idx",
            "trades_pair_created_at_idx": "trading_pair_id_created_at_id_idx",
            "orders_user_created_at_idx": "user_id_created_at_id_idx",
            "orders_user_pair_created_at_idx": "user_id_trading_pair_id_created_at_id_idx",
            }.get(index, index)


def test_the_client_and_the_command_line_page_too(world: World,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from pyexchange import cli
    from pyexchange.cli import main
    from pyexchange.client import Exchange
    from pyexchange.errors import InvalidArgument

    with Exchange(world.dsn) as ex:
        first = ex.get_orders(world.alice, "TA-TB", limit=4)
        rest = ex.get_orders(world.alice, "TA-TB", limit=4, before_id=first[-1].id)
        assert [o.id for o in first + rest] == sorted(world.orders, reverse=True)
        assert [o.id for o in ex.get_orders(world.alice, limit=4, after_id=rest[0].id)] == [
            o.id for o in first]
        trades = ex.get_recent_trades(None, 2, before_id=world.trades[2])
        assert [t.id for t in trades] == [world.trades[1], world.trades[0]]
        assert [t.symbol for t in trades] == ["TA-TB", "TA-TB"]
        page = ex.account_history(world.bob, "TB", limit=2)
        after = ex.account_history(world.bob, "TB", limit=2, after_id=page[-1].entry_id)
        every = ex.account_history(world.bob, "TB")
        assert [h.entry_id for h in page + after] == [h.entry_id for h in every[:4]]
        with pytest.raises(InvalidArgument):
            ex.get_recent_trades("TA-TB", 0)

    monkeypatch.setattr(cli.console, "width", 250)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, ["--dsn", world.dsn, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = run("trades", "--limit", "2", "--before", str(world.trades[2]))
    assert f" {world.trades[1]} " in out and f" {world.trades[0]} " in out
    assert f" {world.trades[3]} " not in out
    out = run("order", "list", "--user", str(world.alice), "--limit", "2", "--before",
              str(world.orders[2]))
    assert f" {world.orders[1]} " in out and f" {world.orders[3]} " not in out
    out = run("history", str(world.bob), "TB", "--limit", "1", "--after", str(every[0].entry_id))
    assert f" {every[1].entry_id} " in out and f" {every[2].entry_id} " not in out
