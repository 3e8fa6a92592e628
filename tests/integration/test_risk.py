"""Risk rules: every rule type just under its limit passes, just over is handled by the rule's
action, and the risk event is exactly what it should be; a refused call leaves its risk event
(written through the loopback) and nothing else; the review flow of a held withdrawal; rule
validation names the bad field; resolving and listing events.

Each test has its own clone of the template (the loopback writes in its own transaction, so
the data it refers to must be committed)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pyexchange.errors import (
    CODES,
    InvalidRiskRule,
    UnknownRiskRuleType,
    translate,
)
from tests.integration._trading_support import balance, check_invariants, place, setup_market

D = Decimal
Conn = psycopg.Connection[Any]


class Env:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: Conn = psycopg.connect(dsn, autocommit=True)
        row = self.conn.execute(
            "SELECT id FROM exchange.bootstrap_admin('root', 'root@example.com', "
            "'a long passphrase')").fetchone()
        assert row is not None
        self.admin: int = row[0]
        self.admin_conn: Conn = psycopg.connect(dsn, autocommit=True)
        self.admin_conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)",
                                (str(self.admin),))
        self.users = setup_market(self.conn, users=("alice", "bob", "carol", "officer"),
                                  pairs=(("BTC-USDT", "BTC", "USDT"), ("ETH-USDT", "ETH", "USDT")))
        self.admin_conn.execute("SELECT exchange.grant_role(%s, 'risk_officer')",
                                (self.users["officer"],))
        self.officer_conn: Conn = psycopg.connect(dsn, autocommit=True)
        self.officer_conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)",
                                  (str(self.users["officer"]),))

    def rule(self, name: str, type_: str, conditions: dict[str, Any], action: str,
             level: str = "MEDIUM", priority: int = 100) -> int:
        row = self.admin_conn.execute(
            "SELECT id FROM exchange.create_risk_rule(%s, %s, %s, %s, %s, %s)",
            (name, type_, Jsonb(conditions), Jsonb({"action": action}), level, priority)).fetchone()
        assert row is not None
        return int(row[0])

    def events(self) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT user_id, rule_id, type, level::text, action, details, "
                        "reference_type, reference_id, status::text FROM exchange.risk_events "
                        "ORDER BY id")
            return cur.fetchall()

    def state(self) -> tuple[Any, ...]:
        """Everything but the risk events (and their outbox rows) that a refusal must keep."""
        c = self.conn
        return (
            c.execute("SELECT array_agg((id, available_balance, frozen_balance) ORDER BY id) "
                      "FROM exchange.accounts").fetchone(),
            c.execute("SELECT count(*), max(id) FROM exchange.orders").fetchone(),
            c.execute("SELECT count(*) FROM exchange.trades").fetchone(),
            c.execute("SELECT count(*) FROM exchange.order_book").fetchone(),
            c.execute("SELECT count(*) FROM exchange.journal").fetchone(),
            c.execute("SELECT count(*) FROM exchange.withdrawals").fetchone(),
            c.execute("SELECT count(*) FROM exchange.idempotency_keys").fetchone(),
            c.execute("SELECT array_agg((user_id, window_seconds, count) ORDER BY user_id) "
                      "FROM exchange.risk_order_rate").fetchone(),
            c.execute("SELECT count(*) FROM exchange.outbox_events "
                      "WHERE aggregate_type <> 'risk_event'").fetchone(),
            c.execute("SELECT array_agg((id, status) ORDER BY id) FROM exchange.users").fetchone(),
        )

    def close(self) -> None:
        for c in (self.conn, self.admin_conn, self.officer_conn):
            c.close()


@pytest.fixture
def env(clone_dsn: str) -> Iterator[Env]:
    e = Env(clone_dsn)
    try:
        yield e
    finally:
        e.close()


def refused(code: str, conn: Conn, sql: str, params: tuple[Any, ...]) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params)
    assert info.value.sqlstate == code, info.value
    return info.value


ORDER = "SELECT * FROM exchange.place_order(%s, %s, %s, %s, %s, %s)"
WITHDRAW = "SELECT exchange.withdraw(%s, %s, %s, %s)"


# --- validation ----------------------------------------------------------------------------

BAD_RULES: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("MAX_ORDER_NOTIONAL", {}, "REJECT", "HIGH", "conditions.max_notional"),
    ("MAX_ORDER_NOTIONAL", {"max_notional": -1}, "REJECT", "HIGH", "conditions.max_notional"),
    ("MAX_ORDER_NOTIONAL", {"max_notional": "1e3"}, "REJECT", "HIGH", "conditions.max_notional"),
    ("MAX_ORDER_NOTIONAL", {"max_notional": 0}, "REJECT", "HIGH", "conditions.max_notional"),
    ("MAX_ORDER_NOTIONAL", {"max_notional": 10, "symbol": "NOPE-USDT"}, "REJECT", "HIGH",
     "conditions.symbol"),
    ("MAX_ORDER_NOTIONAL", {"max_notional": 10, "extra": 1}, "REJECT", "HIGH", "conditions.extra"),
    ("PRICE_BAND", {"max_deviation_pct": 5}, "REVIEW", "HIGH", "actions.action"),
    ("PRICE_BAND", {"max_deviation_pct": 5}, "BLOCK", "HIGH", "actions.action"),
    ("ORDER_RATE", {"max_orders": 10}, "REJECT", "HIGH", "conditions.window_seconds"),
    ("ORDER_RATE", {"max_orders": 1.5, "window_seconds": 60}, "REJECT", "HIGH",
     "conditions.max_orders"),
    ("ORDER_RATE", {"max_orders": 10, "window_seconds": 86401}, "REJECT", "HIGH",
     "conditions.window_seconds"),
    ("MAX_OPEN_ORDERS", {"max_open_orders": 0}, "REJECT", "HIGH", "conditions.max_open_orders"),
    ("MAX_OPEN_ORDERS", {"max_open_orders": 5}, "SUSPEND_USER", "HIGH", "level"),
    ("DAILY_WITHDRAWAL_LIMIT", {"max_amount": 5}, "REJECT", "HIGH", "conditions.asset"),
    ("DAILY_WITHDRAWAL_LIMIT", {"asset": "BTC", "max_amount": 5, "kyc_level": 3}, "REJECT",
     "HIGH", "conditions.kyc_level"),
    ("LARGE_WITHDRAWAL_REVIEW", {"threshold": 5, "asset": "XYZ"}, "REVIEW", "HIGH",
     "conditions.asset"),
    ("LARGE_WITHDRAWAL_REVIEW", {"threshold": 5}, "REVIEW", "SEVERE", "level"),
]


def test_a_malformed_rule_is_refused_naming_the_field(env: Env) -> None:
    for type_, conditions, action, level, field in BAD_RULES:
        with pytest.raises(psycopg.Error) as info:
            env.rule("bad", type_, conditions, action, level)
        err = translate(info.value)
        assert isinstance(err, InvalidRiskRule), (type_, conditions, err)
        assert err.field == field, (type_, conditions, err)
    assert env.conn.execute("SELECT count(*) FROM exchange.risk_rules").fetchone() == (0,)


def test_unknown_type_and_updates_are_validated(env: Env) -> None:
    with pytest.raises(psycopg.Error) as info:
        env.rule("bad", "MAX_SOMETHING", {}, "REJECT")
    assert isinstance(translate(info.value), UnknownRiskRuleType)
    rid = env.rule("n", "MAX_ORDER_NOTIONAL", {"max_notional": "1000", "symbol": "BTC-USDT"},
                   "REJECT", "HIGH")
    e = refused("EX402", env.admin_conn, "SELECT exchange.update_risk_rule(%s, p_conditions => %s)",
                (rid, Jsonb({"max_notional": "x"})))
    assert translate(e).detail is not None
    refused("EX403", env.admin_conn, "SELECT exchange.set_risk_rule_active(%s, false)", (rid + 99,))
    # a trader may not manage rules
    trader = psycopg.connect(env.dsn, autocommit=True)
    trader.execute("SELECT set_config('exchange.acting_user_id', %s, false)",
                   (str(env.users["alice"]),))
    refused("EX321", trader, "SELECT exchange.set_risk_rule_active(%s, false)", (rid,))
    trader.close()
    row = env.admin_conn.execute(
        "SELECT limit_value, trading_pair_id IS NOT NULL, is_active "
        "FROM exchange.update_risk_rule(%s, p_conditions => %s)",
        (rid, Jsonb({"max_notional": 2000}))).fetchone()
    assert row == (D(2000), False, True)
    assert env.admin_conn.execute("SELECT is_active FROM exchange.set_risk_rule_active(%s, false)",
                                  (rid,)).fetchone() == (False,)
    # audited
    assert env.conn.execute("SELECT count(*) FROM exchange.audit_logs WHERE table_name = "
                            "'risk_rules'").fetchone() == (3,)


# --- order rules ---------------------------------------------------------------------------

def test_max_order_notional_rejects_just_over_and_keeps_only_the_event(env: Env) -> None:
    u = env.users
    rid = env.rule("notional 1000", "MAX_ORDER_NOTIONAL",
                   {"max_notional": "1000", "symbol": "BTC-USDT"}, "REJECT", "HIGH", 10)
    # exactly at the limit, and a market order valued at the last price, pass
    place(env.conn, u["bob"], "SELL", "LIMIT", "0.02", "50000")
    place(env.conn, u["alice"], "BUY", "LIMIT", "0.02", "50000")        # 1000: at the limit
    assert env.events() == []
    before = env.state()
    refused("EX404", env.conn, ORDER, (u["alice"], "BTC-USDT", "BUY", "LIMIT", D("0.02"),
                                        D("50000.5")))                   # 1000.01
    assert env.state() == before
    refused("EX404", env.conn, ORDER, (u["alice"], "BTC-USDT", "BUY", "MARKET", D("0.0201"), None))
    assert env.state() == before
    ev = env.events()
    assert ev[0] == {
        "user_id": u["alice"], "rule_id": rid, "type": "MAX_ORDER_NOTIONAL", "level": "HIGH",
        "action": "REJECT", "reference_type": None, "reference_id": None, "status": "ACTIVE",
        "details": {"scope": "ORDER", "rule": "notional 1000", "action": "REJECT",
                    "symbol": "BTC-USDT", "side": "BUY", "order_type": "LIMIT",
                    "amount": "0.02", "price": "50000.5", "last_price": "50000",
                    "observed": "1000.01", "limit": "1000"}}
    assert ev[1]["details"]["observed"] == "1005" and ev[1]["details"]["order_type"] == "MARKET"
    assert len(ev) == 2
    # the other pair has no such rule
    place(env.conn, u["alice"], "BUY", "LIMIT", "1", "5000", symbol="ETH-USDT")
    # the outbox got one risk_event_raised per event
    assert env.conn.execute("SELECT count(*) FROM exchange.outbox_events "
                            "WHERE event_type = 'risk_event_raised'").fetchone() == (2,)
    check_invariants(env.conn)


def test_price_band_flags_just_over(env: Env) -> None:
    u = env.users
    rid = env.rule("band 5%", "PRICE_BAND", {"max_deviation_pct": 5}, "FLAG", "LOW")
    place(env.conn, u["bob"], "SELL", "LIMIT", "0.01", "100")
    place(env.conn, u["alice"], "BUY", "LIMIT", "0.01", "100")            # last price 100
    place(env.conn, u["alice"], "BUY", "LIMIT", "0.01", "95")             # 5 %: passes
    place(env.conn, u["bob"], "SELL", "LIMIT", "0.01", "105")             # 5 %: passes
    assert env.events() == []
    o = place(env.conn, u["bob"], "SELL", "LIMIT", "0.01", "105.01")      # 5.01 %: flagged
    assert o["status"] == "NEW"
    assert env.events() == [{
        "user_id": u["bob"], "rule_id": rid, "type": "PRICE_BAND", "level": "LOW",
        "action": "FLAG", "reference_type": None, "reference_id": None, "status": "ACTIVE",
        "details": {"scope": "ORDER", "rule": "band 5%", "action": "FLAG", "symbol": "BTC-USDT",
                    "side": "SELL", "order_type": "LIMIT", "amount": "0.01", "price": "105.01",
                    "last_price": "100", "observed": "5.01", "limit": "5"}}]
    check_invariants(env.conn)


def test_order_rate_rejects_the_order_over_the_rate(env: Env) -> None:
    u = env.users
    rid = env.rule("3 per hour", "ORDER_RATE", {"max_orders": 3, "window_seconds": 3600},
                   "REJECT", "MEDIUM")
    for i in range(3):          # across pairs: the rate is per user
        place(env.conn, u["alice"], "BUY", "LIMIT", "0.01", str(100 + i),
              symbol="BTC-USDT" if i % 2 == 0 else "ETH-USDT")
    place(env.conn, u["bob"], "BUY", "LIMIT", "0.01", "100")               # bob has his own count
    before = env.state()
    refused("EX404", env.conn, ORDER, (u["alice"], "BTC-USDT", "BUY", "LIMIT", D("0.01"), D("99")))
    assert env.state() == before                                            # counter rolled back too
    (ev,) = env.events()
    assert ev["rule_id"] == rid and ev["type"] == "ORDER_RATE" and ev["action"] == "REJECT"
    assert ev["details"]["observed"] == "4" and ev["details"]["limit"] == "3"
    assert ev["details"]["window_seconds"] == 3600


def test_max_open_orders_suspends_the_user_on_a_critical_rule(env: Env) -> None:
    u = env.users
    rid = env.rule("2 open", "MAX_OPEN_ORDERS", {"max_open_orders": 2, "symbol": "BTC-USDT"},
                   "SUSPEND_USER", "CRITICAL")
    place(env.conn, u["carol"], "BUY", "LIMIT", "0.01", "100")
    env.conn.execute("SELECT * FROM exchange.place_order(%s, 'BTC-USDT', 'SELL', 'STOP_LOSS', "
                     "0.01, NULL, 'GTC', NULL, 90)", (u["carol"],))        # a waiting stop counts
    place(env.conn, u["carol"], "BUY", "LIMIT", "1", "5000", symbol="ETH-USDT")  # other pair
    before = env.state()
    refused("EX406", env.conn, ORDER, (u["carol"], "BTC-USDT", "BUY", "LIMIT", D("0.01"), D("101")))
    after = env.state()
    assert after[:8] == before[:8]
    assert env.conn.execute("SELECT count(*) FROM exchange.outbox_events WHERE event_type = "
                            "'user_locked' AND aggregate_id = %s", (str(u["carol"]),)).fetchone() == (1,)
    assert env.conn.execute("SELECT status::text FROM exchange.users WHERE id = %s",
                            (u["carol"],)).fetchone() == ("SUSPENDED",)
    (ev,) = env.events()
    assert ev["rule_id"] == rid and ev["level"] == "CRITICAL" and ev["action"] == "SUSPEND_USER"
    assert ev["details"]["observed"] == "3" and ev["details"]["limit"] == "2"
    refused("EX219", env.conn, ORDER, (u["carol"], "ETH-USDT", "BUY", "LIMIT", D("0.01"), D("1")))


def test_rules_run_in_priority_order_flag_then_reject(env: Env) -> None:
    u = env.users
    flag = env.rule("flag 500", "MAX_ORDER_NOTIONAL", {"max_notional": 500}, "FLAG", "LOW", 1)
    reject = env.rule("reject 800", "MAX_ORDER_NOTIONAL", {"max_notional": 800}, "REJECT", "HIGH", 2)
    place(env.conn, u["alice"], "BUY", "LIMIT", "6", "100")                 # 600: flagged only
    refused("EX404", env.conn, ORDER, (u["alice"], "BTC-USDT", "BUY", "LIMIT", D("9"), D("100")))
    ev = env.events()
    assert [(e["rule_id"], e["action"], e["details"]["observed"]) for e in ev] == [
        (flag, "FLAG", "600"), (flag, "FLAG", "900"), (reject, "REJECT", "900")]
    # a REJECT ahead of the FLAG stops the walk: only its event
    env.admin_conn.execute("SELECT exchange.update_risk_rule(%s, p_priority => 0)", (reject,))
    refused("EX404", env.conn, ORDER, (u["alice"], "BTC-USDT", "BUY", "LIMIT", D("9"), D("100")))
    assert [e["rule_id"] for e in env.events()[3:]] == [reject]


def test_a_batch_with_one_rejected_order_is_refused_whole(env: Env) -> None:
    u = env.users
    env.rule("notional 1000", "MAX_ORDER_NOTIONAL", {"max_notional": 1000}, "REJECT", "HIGH")
    before = env.state()
    refused("EX404", env.conn,
            "SELECT * FROM exchange.place_orders(ARRAY[ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 100, "
            "'GTC', NULL, NULL, NULL, NULL)::exchange.order_request, ROW(%s, 'BTC-USDT', 'BUY', "
            "'LIMIT', 11, 100, 'GTC', NULL, NULL, NULL, NULL)::exchange.order_request])",
            (u["alice"], u["alice"]))
    assert env.state() == before
    assert len(env.events()) == 1


# --- withdrawal rules ----------------------------------------------------------------------

def test_daily_withdrawal_limit_rejects_just_over(env: Env) -> None:
    u = env.users
    env.conn.execute("UPDATE exchange.users SET kyc_level = 1 WHERE id = %s", (u["alice"],))
    rid = env.rule("10 BTC a day at level 1", "DAILY_WITHDRAWAL_LIMIT",
                   {"asset": "BTC", "max_amount": "10", "kyc_level": 1}, "REJECT", "HIGH")
    env.conn.execute(WITHDRAW, (u["alice"], "BTC", D("6"), "w1"))
    w2 = env.conn.execute(WITHDRAW, (u["alice"], "BTC", D("4"), "w2")).fetchone()
    assert w2 is not None
    env.conn.execute(WITHDRAW, (u["bob"], "BTC", D("11"), "w3"))            # level 0: no rule
    env.conn.execute(WITHDRAW, (u["alice"], "ETH", D("11"), "w4"))          # other asset
    before = env.state()
    refused("EX405", env.conn, WITHDRAW, (u["alice"], "BTC", D("0.01"), "w5"))
    assert env.state() == before                                            # the key too
    (ev,) = env.events()
    assert ev == {
        "user_id": u["alice"], "rule_id": rid, "type": "DAILY_WITHDRAWAL_LIMIT", "level": "HIGH",
        "action": "REJECT", "reference_type": None, "reference_id": None, "status": "ACTIVE",
        "details": {"scope": "WITHDRAWAL", "rule": "10 BTC a day at level 1", "action": "REJECT",
                    "asset": "BTC", "amount": "0.01", "kyc_level": 1, "observed": "10.01",
                    "limit": "10"}}
    # a cancelled withdrawal no longer counts
    env.conn.execute("SELECT exchange.cancel_withdrawal(%s)", (w2[0],))
    env.conn.execute(WITHDRAW, (u["alice"], "BTC", D("4"), "w6"))
    check_invariants(env.conn)


def test_large_withdrawal_review_flow_approve(env: Env) -> None:
    u = env.users
    rid = env.rule("over 5 BTC", "LARGE_WITHDRAWAL_REVIEW", {"threshold": 5, "asset": "BTC"},
                   "REVIEW", "MEDIUM")
    w1 = env.conn.execute(WITHDRAW, (u["alice"], "BTC", D("5"), "r1")).fetchone()
    assert w1 is not None and env.events() == []
    w2 = env.conn.execute(WITHDRAW, (u["alice"], "BTC", D("5.01"), "r2")).fetchone()
    assert w2 is not None
    wid = w2[0]
    assert env.conn.execute("SELECT status::text FROM exchange.withdrawals WHERE id = %s",
                            (wid,)).fetchone() == ("REVIEW",)
    assert balance(env.conn, u["alice"], "BTC") == (D("89.99"), D("10.01"))  # still frozen
    (ev,) = env.events()
    kyc = env.conn.execute("SELECT kyc_level FROM exchange.users WHERE id = %s",
                           (u["alice"],)).fetchone()
    assert kyc is not None
    assert ev == {
        "user_id": u["alice"], "rule_id": rid, "type": "LARGE_WITHDRAWAL_REVIEW",
        "level": "MEDIUM", "action": "REVIEW", "reference_type": "WITHDRAWAL",
        "reference_id": wid, "status": "ACTIVE",
        "details": {"scope": "WITHDRAWAL", "rule": "over 5 BTC", "action": "REVIEW",
                    "withdrawal_id": wid, "asset": "BTC", "amount": "5.01", "kyc_level": kyc[0],
                    "observed": "5.01", "limit": "5"}}
    refused("EX114", env.conn, "SELECT exchange.complete_withdrawal(%s)", (wid,))
    event_id = env.conn.execute("SELECT max(id) FROM exchange.risk_events").fetchone()
    assert event_id is not None
    refused("EX409", env.officer_conn, "SELECT exchange.resolve_risk_event(%s, 'ok')", (event_id[0],))
    # a trader may not approve
    trader = psycopg.connect(env.dsn, autocommit=True)
    trader.execute("SELECT set_config('exchange.acting_user_id', %s, false)", (str(u["bob"]),))
    refused("EX321", trader, "SELECT exchange.approve_withdrawal(%s, 'fine')", (wid,))
    trader.close()
    refused("EX411", env.officer_conn, "SELECT exchange.approve_withdrawal(%s, ' ')", (wid,))
    row = env.officer_conn.execute(
        "SELECT status::text, note FROM exchange.approve_withdrawal(%s, 'known customer')",
        (wid,)).fetchone()
    assert row == ("PENDING", "approved: known customer")
    refused("EX410", env.officer_conn, "SELECT exchange.approve_withdrawal(%s, 'again')", (wid,))
    ev = env.events()[0]
    assert ev["status"] == "RESOLVED"
    assert env.conn.execute("SELECT resolution_note, resolved_by FROM exchange.risk_events "
                            "WHERE id = %s", (event_id[0],)).fetchone() == (
        "approved: known customer", u["officer"])
    env.conn.execute("SELECT exchange.complete_withdrawal(%s, 'tx1')", (wid,))
    assert balance(env.conn, u["alice"], "BTC") == (D("89.99"), D("5"))
    check_invariants(env.conn)


def test_large_withdrawal_review_flow_reject_releases_the_funds(env: Env) -> None:
    u = env.users
    env.rule("over 5 BTC", "LARGE_WITHDRAWAL_REVIEW", {"threshold": 5}, "REVIEW", "HIGH")
    w = env.conn.execute(WITHDRAW, (u["bob"], "BTC", D("7"), "x1")).fetchone()
    assert w is not None
    assert balance(env.conn, u["bob"], "BTC") == (D("93"), D("7"))
    row = env.officer_conn.execute(
        "SELECT status::text, note FROM exchange.reject_withdrawal(%s, 'unknown address')",
        (w[0],)).fetchone()
    assert row == ("CANCELLED", "rejected: unknown address")
    assert balance(env.conn, u["bob"], "BTC") == (D("100"), D("0"))
    assert [e["status"] for e in env.events()] == ["RESOLVED"]
    check_invariants(env.conn)


# --- events --------------------------------------------------------------------------------

def test_resolve_and_list_risk_events(env: Env) -> None:
    u = env.users
    env.rule("flag 500", "MAX_ORDER_NOTIONAL", {"max_notional": 500}, "FLAG", "LOW")
    env.rule("reject 800", "MAX_ORDER_NOTIONAL", {"max_notional": 800}, "REJECT", "HIGH")
    place(env.conn, u["alice"], "BUY", "LIMIT", "6", "100")
    place(env.conn, u["bob"], "BUY", "LIMIT", "6", "100")
    refused("EX404", env.conn, ORDER, (u["bob"], "BTC-USDT", "BUY", "LIMIT", D("9"), D("100")))

    def listed(user: int | None = None, level: str | None = None,
               status: str | None = None) -> list[int]:
        return [r[0] for r in env.officer_conn.execute(
            "SELECT user_id FROM exchange.list_risk_events(%s, %s, %s)",
            (user, level, status)).fetchall()]

    assert listed() == [u["bob"], u["bob"], u["bob"], u["alice"]]
    assert listed(user=u["alice"]) == [u["alice"]]
    assert listed(level="HIGH") == [u["bob"]]
    refused("EX411", env.officer_conn, "SELECT * FROM exchange.list_risk_events(NULL, 'HUGE')", ())
    first = env.conn.execute("SELECT min(id) FROM exchange.risk_events").fetchone()
    assert first is not None
    refused("EX411", env.officer_conn, "SELECT exchange.resolve_risk_event(%s, '')", (first[0],))
    row = env.officer_conn.execute(
        "SELECT status::text, resolution_note, resolved_by FROM "
        "exchange.resolve_risk_event(%s, 'large but normal for this client', true)",
        (first[0],)).fetchone()
    assert row == ("DISMISSED", "large but normal for this client", u["officer"])
    refused("EX408", env.officer_conn, "SELECT exchange.resolve_risk_event(%s, 'again')", (first[0],))
    refused("EX407", env.officer_conn, "SELECT exchange.resolve_risk_event(%s, 'x')", (first[0] + 99,))
    assert listed(status="ACTIVE") == [u["bob"], u["bob"], u["bob"]]
    assert listed(status="DISMISSED") == [u["alice"]]
    trader = psycopg.connect(env.dsn, autocommit=True)
    trader.execute("SELECT set_config('exchange.acting_user_id', %s, false)", (str(u["bob"]),))
    refused("EX321", trader, "SELECT * FROM exchange.list_risk_events()", ())
    trader.close()


def test_every_risk_code_is_mapped() -> None:
    for code in ("EX401", "EX402", "EX403", "EX404", "EX405", "EX406", "EX407", "EX408",
                 "EX409", "EX410", "EX411", "EX421", "EX422"):
        assert code in CODES


# --- the Python client and the CLI ---------------------------------------------------------

def test_client_methods_and_cli(env: Env) -> None:
    from click.testing import CliRunner

    from pyexchange.api.risk import RiskAction, RiskEventStatus, RiskLevel
    from pyexchange.cli import main as cli
    from pyexchange.client import Exchange
    from pyexchange.errors import OrderRejectedByRisk, WithdrawalUnderReview

    u = env.users
    with Exchange(env.dsn, acting_user_id=env.admin) as admin, \
            Exchange(env.dsn) as app, \
            Exchange(env.dsn, acting_user_id=u["officer"]) as officer:
        rule = admin.create_risk_rule("notional 1000", "MAX_ORDER_NOTIONAL",
                                      {"max_notional": "1000"}, {"action": "REJECT"},
                                      level="HIGH", priority=5)
        assert (rule.action, rule.level, rule.scope) == (RiskAction.REJECT, RiskLevel.HIGH, "ORDER")
        with pytest.raises(InvalidRiskRule) as bad:
            admin.update_risk_rule(rule.id, conditions={"max_notional": "1000", "symbol": 7})
        assert bad.value.field == "conditions.symbol"
        review = admin.create_risk_rule("review 5", "LARGE_WITHDRAWAL_REVIEW", {"threshold": 5},
                                        {"action": "REVIEW"})
        with pytest.raises(OrderRejectedByRisk):
            app.place_order(u["alice"], "BTC-USDT", "BUY", "LIMIT", D("1"), D("1000.01"))
        w = app.withdraw(u["bob"], "BTC", D("6"), "cli-w1")
        assert w.status.value == "REVIEW"
        with pytest.raises(WithdrawalUnderReview):
            app.complete_withdrawal(w.id)
        events = officer.list_risk_events(status="ACTIVE")
        assert [(e.rule_id, e.action) for e in events] == [
            (review.id, RiskAction.REVIEW), (rule.id, RiskAction.REJECT)]
        assert events[1].details["observed"] == "1000.01"
        approved = officer.approve_withdrawal(w.id, "checked by phone")
        assert approved.status.value == "PENDING"
        closed = officer.resolve_risk_event(events[1].id, "customer warned")
        assert closed.status == RiskEventStatus.RESOLVED
        assert [r.id for r in admin.list_risk_rules()] == [rule.id, review.id]

    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["--dsn", env.dsn, "--as", str(env.admin), *args],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("risk", "rule", "add", "band", "PRICE_BAND", '{"max_deviation_pct": 10}', "--action",
        "FLAG", "--level", "LOW")
    listed = run("risk", "rule", "list")
    assert "band" in listed and "review 5" in listed
    assert "no" in run("risk", "rule", "disable", str(rule.id))
    assert env.conn.execute("SELECT is_active FROM exchange.risk_rules WHERE id = %s",
                            (rule.id,)).fetchone() == (False,)
    resolved = run("risk", "events", "--status", "RESOLVED").splitlines()
    assert sum(1 for line in resolved if line.startswith("│ ") and line[2].isdigit()) == 2
    bad_cli = runner.invoke(cli, ["--dsn", env.dsn, "--as", str(env.admin), "risk", "rule", "add",
                                  "x", "ORDER_RATE", '{"max_orders": 1}', "--action", "REJECT"])
    assert bad_cli.exit_code == 1 and "EX402" in bad_cli.output


def test_concurrent_withdrawals_cannot_slip_under_the_daily_limit(env: Env) -> None:
    """Eight sessions withdraw 2 BTC each at once under a 10 BTC daily limit: the user's
    account lock serialises them, so exactly five pass and three are refused, each refusal
    with its own event (each session its own loopback)."""
    import threading

    u = env.users
    env.rule("10 BTC a day", "DAILY_WITHDRAWAL_LIMIT", {"asset": "BTC", "max_amount": 10},
             "REJECT", "HIGH")
    barrier = threading.Barrier(8)
    codes: list[str | None] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        with psycopg.connect(env.dsn, autocommit=True) as conn:
            barrier.wait()
            try:
                conn.execute(WITHDRAW, (u["alice"], "BTC", D("2"), f"c{i}"))
                code = None
            except psycopg.Error as exc:
                code = exc.sqlstate
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (codes.count(None), codes.count("EX405"), len(codes)) == (5, 3, 8), codes
    assert balance(env.conn, u["alice"], "BTC") == (D("90"), D("10"))
    events = env.events()
    assert [e["details"]["observed"] for e in events] == ["12"] * 3
    check_invariants(env.conn)


def test_a_refusal_whose_event_cannot_be_written_is_still_refused_with_the_event_in_detail(
        env: Env) -> None:
    u = env.users
    rid = env.rule("notional 1000", "MAX_ORDER_NOTIONAL", {"max_notional": 1000}, "REJECT", "HIGH")
    env.conn.execute("UPDATE exchange.risk_settings SET loopback_conninfo = "
                     "'host=127.0.0.1 port=1 connect_timeout=2 user=exchange_risk_writer'")
    before = env.state()
    err = refused("EX404", env.conn, ORDER,
                  (u["alice"], "BTC-USDT", "BUY", "LIMIT", D("11"), D("100")))
    assert env.state() == before
    assert env.events() == []
    detail = translate(err).detail or ""
    assert "NOT recorded" in detail and f'"rule_id": {rid}' in detail
    # repaired, the next refusal records its event again
    env.conn.execute("UPDATE exchange.risk_settings SET loopback_conninfo = NULL")
    refused("EX404", env.conn, ORDER, (u["alice"], "BTC-USDT", "BUY", "LIMIT", D("11"), D("100")))
    assert len(env.events()) == 1
