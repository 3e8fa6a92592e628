"""Who may act for whom (docs/security.md, "Roles by duty" and "Acting for a user").

An attacker holding the application's credential (a login in exchange_app) tries every
user-scoped function on bob's account, acting as alice, as nobody, as a user that does not
exist, with a malformed setting, and as PENDING, SUSPENDED and CLOSED users: each call is
refused with its typed error and nothing changes. The same calls made by bob for himself (or,
where the call concerns every user, by a holder of the permission) are served. The app login
cannot credit deposits or call the workers' functions; the custody and worker logins can.

One migrated clone serves the module: refused calls change nothing (checked), and every
served call runs in a transaction that is rolled back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from pyexchange import crypto
from tests.conftest import Databases
from tests.integration._trading_support import place, setup_market

ROOT = Path(__file__).resolve().parents[2]
D = Decimal


@dataclass
class World:
    dsn: str                  # the superuser's (a DBA session)
    logins: dict[str, str]    # kind -> DSN of a login in that group
    ids: dict[str, Any]       # user and object ids; envelopes of the encrypted fields


def _login_dsn(dsn: str, name: str) -> str:
    params = conninfo_to_dict(dsn)
    params["user"] = name
    params.pop("password", None)
    return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


@pytest.fixture(scope="module")
def world(databases: Databases, template_name: str) -> Iterator[World]:
    name = databases.create("pyx_authz", template=template_name)
    dsn = databases.dsn(name)
    made: list[str] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT exchange._apply_ownership_and_grants()")
            row = conn.execute("SELECT id FROM exchange.bootstrap_admin('root', "
                               "'root@example.org', 'a long passphrase')").fetchone()
            assert row is not None
            ids: dict[str, Any] = {"admin": int(row[0])}
            ids.update(setup_market(conn, users=("alice", "bob", "sam", "sue", "cleo")))
            conn.execute("SELECT exchange.grant_role(%s, 'support')", (ids["sam"],))
            # statuses: pete never activated (PENDING), sue SUSPENDED, cleo CLOSED
            row = conn.execute("INSERT INTO exchange.users (username, email, password_hash, "
                               "kyc_level) VALUES ('pete', 'pete@example.org', 'x', 2) "
                               "RETURNING id").fetchone()
            assert row is not None
            ids["pete"] = int(row[0])
            conn.execute("UPDATE exchange.users SET status = 'SUSPENDED' WHERE id = %s", (ids["sue"],))
            conn.execute("UPDATE exchange.users SET status = 'CLOSED' WHERE id = %s", (ids["cleo"],))
            # bob: level 1 (may still ask for level 2), a password, an order, a hold, a withdrawal
            conn.execute("UPDATE exchange.users SET kyc_level = 1, password_hash = "
                         "exchange_crypto.crypt('bob-pass-123', exchange_crypto.gen_salt('bf', 4)) "
                         "WHERE id = %s", (ids["bob"],))
            ids["bob_order"] = int(place(conn, ids["bob"], "SELL", "LIMIT", "1", "50000",
                                         client_order_id="bob-1")["id"])
            conn.execute("SELECT exchange.freeze(%s, 'USDT', 5, 'MARGIN', 1, 'bob-hold')", (ids["bob"],))
            row = conn.execute("SELECT exchange.withdraw(%s, 'USDT', 10, 'bob-w')",
                               (ids["bob"],)).fetchone()
            assert row is not None
            ids["bob_withdrawal"] = int(row[0])
            row = conn.execute("SELECT version FROM exchange.users WHERE id = %s", (ids["bob"],)).fetchone()
            assert row is not None
            ids["bob_version"] = int(row[0])
            # the encrypted fields travel as envelopes, made as the client makes them (issue 13b:
            # the database refuses plaintext KYC documents and webhook secrets)
            keys: list[crypto.DataKey] = []

            def create_key(wrapped: bytes, master_id: str) -> int:
                row = conn.execute("SELECT exchange.create_data_key(%s, %s)",
                                   (wrapped, master_id)).fetchone()
                assert row is not None
                keys.append(crypto.DataKey(int(row[0]), wrapped, master_id))
                return int(row[0])

            cipher = crypto.FieldCipher(crypto.MasterKeys.parse(crypto.new_key_line(), "test"),
                                        lambda: list(keys), create_key)
            ids["kyc_documents"] = Jsonb(cipher.seal_documents({"passport": "B1"}))
            ids["webhook_secret"] = cipher.encrypt(crypto.WEBHOOK_SECRET, "sixteen-chars-secret")
            logins: dict[str, str] = {}
            for kind in ("app", "custody", "worker"):
                login = f"pyx_{kind}_{uuid.uuid4().hex[:10]}"
                conn.execute("SELECT exchange.create_login(%s, %s, NULL)", (login, kind))
                made.append(login)
                logins[kind] = _login_dsn(dsn, login)
        yield World(dsn, logins, ids)
    finally:
        with psycopg.connect(databases.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            for login in made:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


def _state(dsn: str) -> tuple[Any, ...]:
    """What a refused call must leave as it was."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return tuple(conn.execute(q).fetchone() for q in (
            "SELECT array_agg((id, available_balance, frozen_balance, version) ORDER BY id) "
            "FROM exchange.accounts",
            "SELECT array_agg((id, status, remaining_amount) ORDER BY id) FROM exchange.orders",
            "SELECT array_agg((id, status) ORDER BY id) FROM exchange.withdrawals",
            "SELECT array_agg((id, amount) ORDER BY id) FROM exchange.holds",
            "SELECT count(*) FROM exchange.journal",
            "SELECT array_agg((id, status, version, password_hash, kyc_level) ORDER BY id) "
            "FROM exchange.users",
            "SELECT count(*) FROM exchange.kyc_verifications",
            "SELECT count(*) FROM exchange.notification_preferences",
            "SELECT count(*) FROM exchange.idempotency_keys",
            "SELECT array_agg((id, status) ORDER BY id) FROM exchange.outbox_events",
        ))


def _run(dsn: str, acting: str | None, stmt: str, params: dict[str, Any]) -> str | None:
    """Run stmt in a transaction that is rolled back; the SQLSTATE it failed with, or None."""
    with psycopg.connect(dsn) as conn:
        try:
            if acting is not None:
                conn.execute("SELECT set_config('exchange.acting_user_id', %s, true)", (acting,))
            conn.execute(stmt, params).fetchall()
            return None
        except psycopg.Error as exc:
            return exc.sqlstate or "?"
        finally:
            conn.rollback()


# (name, statement on bob's account, code for alice acting on it, who is served)
# EX321: acting for another user needs a permission alice lacks; EX322: only the user may.
PROBES: list[tuple[str, str, str, str]] = [
    ("place_order", "SELECT * FROM exchange.place_order(%(bob)s, 'BTC-USDT', 'BUY', 'LIMIT', 0.1, 100)",
     "EX322", "bob"),
    ("place_orders", "SELECT * FROM exchange.place_orders(ARRAY["
     "ROW(%(bob)s, 'BTC-USDT', 'BUY', 'LIMIT', 0.1, 100, NULL, NULL, NULL, NULL, NULL),"
     "ROW(%(alice)s, 'BTC-USDT', 'BUY', 'LIMIT', 0.1, 100, NULL, NULL, NULL, NULL, NULL)"
     "]::exchange.order_request[])", "EX322", "DBA"),
    ("cancel_order", "SELECT * FROM exchange.cancel_order(%(bob)s, %(bob_order)s)", "EX321", "bob"),
    ("cancel_order_by_client_id", "SELECT * FROM exchange.cancel_order_by_client_id(%(bob)s, 'bob-1')",
     "EX321", "bob"),
    ("cancel_all_orders", "SELECT * FROM exchange.cancel_all_orders(%(bob)s)", "EX321", "bob"),
    ("transfer", "SELECT exchange.transfer(%(bob)s, %(alice)s, 'USDT', 1, 'probe-t')", "EX322", "bob"),
    ("transfers", "SELECT exchange.transfers(ARRAY["
     "ROW(%(alice)s, %(bob)s, 'USDT', 1, 'probe-t1'), ROW(%(bob)s, %(alice)s, 'USDT', 1, 'probe-t2')"
     "]::exchange.transfer_request[])", "EX322", "DBA"),
    ("withdraw", "SELECT exchange.withdraw(%(bob)s, 'USDT', 1, 'probe-w')", "EX322", "bob"),
    ("freeze", "SELECT exchange.freeze(%(bob)s, 'USDT', 1, 'MARGIN', 2, 'probe-f')", "EX321", "bob"),
    ("unfreeze", "SELECT exchange.unfreeze(%(bob)s, 'USDT', 1, 'MARGIN', 1, 'probe-u')", "EX321", "bob"),
    ("balances", "SELECT * FROM exchange.balances(%(bob)s)", "EX321", "bob"),
    ("account_history", "SELECT * FROM exchange.account_history(%(bob)s, 'USDT')", "EX321", "bob"),
    ("balance_at", "SELECT * FROM exchange.balance_at(%(bob)s, 'USDT', now())", "EX321", "bob"),
    ("get_orders", "SELECT * FROM exchange.get_orders(%(bob)s)", "EX321", "bob"),
    ("get_withdrawal", "SELECT * FROM exchange.get_withdrawal(%(bob_withdrawal)s)", "EX321", "bob"),
    ("list_withdrawals_of_bob", "SELECT * FROM exchange.list_withdrawals(%(bob)s)", "EX321", "bob"),
    ("list_withdrawals_of_all", "SELECT * FROM exchange.list_withdrawals()", "EX321", "sam"),
    ("cancel_withdrawal", "SELECT * FROM exchange.cancel_withdrawal(%(bob_withdrawal)s)", "EX321", "bob"),
    ("get_user", "SELECT * FROM exchange.get_user(%(bob)s)", "EX321", "bob"),
    ("find_user", "SELECT * FROM exchange.find_user('bob')", "EX321", "bob"),
    ("has_permission", "SELECT exchange.has_permission(%(bob)s, 'order', 'read')", "EX321", "bob"),
    ("update_user_profile", "SELECT * FROM exchange.update_user_profile(%(bob)s, %(bob_version)s, 'Robert')",
     "EX321", "bob"),
    ("change_password", "SELECT exchange.change_password(%(bob)s, 'bob-pass-123', 'new-pass-456')",
     "EX322", "bob"),
    ("submit_kyc", "SELECT * FROM exchange.submit_kyc(%(bob)s, 2, %(kyc_documents)s)", "EX322", "bob"),
    ("list_kyc_verifications", "SELECT * FROM exchange.list_kyc_verifications(%(bob)s)", "EX321", "bob"),
    ("user_statement", "SELECT * FROM exchange.user_statement(%(bob)s, current_date)", "EX321", "bob"),
    ("list_notifications", "SELECT * FROM exchange.list_notifications(%(bob)s)", "EX322", "bob"),
    ("mark_notification_read", "SELECT exchange.mark_notification_read(%(bob)s, NULL)", "EX322", "bob"),
    ("set_notification_preference",
     "SELECT exchange.set_notification_preference(%(bob)s, 'user_activated', 'EMAIL', false)",
     "EX322", "bob"),
    ("set_webhook_endpoint",
     "SELECT exchange.set_webhook_endpoint(%(bob)s, 'https://example.org/hook', %(webhook_secret)s)",
     "EX322", "bob"),
]

# acting user setting -> the code every probe gets ("alice": the probe's own code)
ACTORS: dict[str, Callable[[dict[str, int]], str | None]] = {
    "alice": lambda ids: str(ids["alice"]),
    "none": lambda ids: None,
    "unknown": lambda ids: "999999999",
    "malformed": lambda ids: "abc",
    "pending": lambda ids: str(ids["pete"]),
    "suspended": lambda ids: str(ids["sue"]),
    "closed": lambda ids: str(ids["cleo"]),
}
ACTOR_CODE = {"none": "EX320", "unknown": "EX360", "malformed": "EX320", "pending": "EX303",
              "suspended": "EX303", "closed": "EX303"}


@pytest.mark.parametrize(("name", "stmt", "alice_code", "served"), PROBES, ids=[p[0] for p in PROBES])
def test_the_app_login_cannot_act_for_bob(world: World, name: str, stmt: str, alice_code: str,
                                          served: str) -> None:
    before = _state(world.dsn)
    got = {actor: _run(world.logins["app"], setting(world.ids), stmt, world.ids)
           for actor, setting in ACTORS.items()}
    want = {actor: ACTOR_CODE.get(actor, alice_code) for actor in ACTORS}
    assert got == want
    assert _state(world.dsn) == before


OWN_ACCOUNT = [
    "SELECT exchange.transfer(%(me)s, %(alice)s, 'USDT', 1, 'own-t')",
    "SELECT exchange.withdraw(%(me)s, 'USDT', 1, 'own-w')",
    "SELECT * FROM exchange.place_order(%(me)s, 'BTC-USDT', 'SELL', 'LIMIT', 0.1, 100)",
    "SELECT * FROM exchange.balances(%(me)s)",
]


@pytest.mark.parametrize("stmt", OWN_ACCOUNT)
@pytest.mark.parametrize("who", ["pete", "sue", "cleo"])
def test_a_user_who_is_not_active_cannot_act_even_for_themselves(world: World, who: str,
                                                                 stmt: str) -> None:
    """A SUSPENDED (or PENDING, CLOSED) user can neither move their funds away nor read them."""
    before = _state(world.dsn)
    params = {**world.ids, "me": world.ids[who]}
    assert _run(world.logins["app"], str(world.ids[who]), stmt, params) == "EX303"
    assert _state(world.dsn) == before


@pytest.mark.parametrize(("name", "stmt", "alice_code", "served"), PROBES, ids=[p[0] for p in PROBES])
def test_the_rightful_caller_is_served(world: World, name: str, stmt: str, alice_code: str,
                                       served: str) -> None:
    if served == "DBA":  # a batch naming two users: the DBA path (superuser, no acting user)
        assert _run(world.dsn, None, stmt, world.ids) is None
        return
    assert _run(world.logins["app"], str(world.ids[served]), stmt, world.ids) is None


@pytest.mark.parametrize(("actor", "stmt", "code"), [
    # permissions to act for others: admin and support (sam) as documented
    ("admin", "SELECT * FROM exchange.cancel_order(%(bob)s, %(bob_order)s)", None),
    ("sam", "SELECT * FROM exchange.cancel_order(%(bob)s, %(bob_order)s)", "EX321"),
    ("sam", "SELECT * FROM exchange.balances(%(bob)s)", None),
    ("sam", "SELECT * FROM exchange.get_withdrawal(%(bob_withdrawal)s)", None),
    ("sam", "SELECT exchange.freeze(%(bob)s, 'USDT', 1, 'MARGIN', 2, 'probe-f')", "EX321"),
    ("admin", "SELECT exchange.freeze(%(bob)s, 'USDT', 1, 'MARGIN', 2, 'probe-f')", None),
    ("admin", "SELECT exchange.withdraw(%(bob)s, 'USDT', 1, 'probe-w')", "EX322"),
    ("admin", "SELECT exchange.transfer(%(bob)s, %(alice)s, 'USDT', 1, 'probe-t')", "EX322"),
    # a trader cannot rewrite the global templates; an admin can
    ("alice", "SELECT exchange.create_notification_template('user_activated', 'EMAIL', 'en', "
              "'Hi', 'Click here')", "EX321"),
    ("admin", "SELECT exchange.create_notification_template('user_activated', 'EMAIL', 'en', "
              "'Hi', 'Welcome {{username}}')", None),
    # one rule for administrative functions: an acting user needs the permission
    ("alice", "SELECT * FROM exchange.run_clearing(current_date - 1)", "EX321"),
    ("none", "SELECT * FROM exchange.run_clearing(current_date - 1)", "EX320"),
    ("none", "SELECT * FROM exchange.create_trading_pair('ETH-USDT', 'BTC', 'USDT')", "EX320"),
])
def test_acting_for_others_needs_the_permission(world: World, actor: str, stmt: str,
                                                code: str | None) -> None:
    acting = None if actor == "none" else str(world.ids[actor])
    assert _run(world.logins["app"], acting, stmt, world.ids) == code


@pytest.mark.parametrize("stmt", [
    # today (UTC): the world's activity began today, and issue 17 refuses clearing a day
    # before the exchange's first activity (EX421)
    "SELECT * FROM exchange.run_clearing((now() AT TIME ZONE 'UTC')::date)",
    "SELECT * FROM exchange.create_risk_rule('dba rule', 'MAX_ORDER_NOTIONAL', "
    "'{\"max_notional\": 1000000000}', '{\"action\": \"FLAG\"}')",
    "SELECT exchange.deposit(%(bob)s, 'USDT', 1, 'dba-deposit')",
    "SELECT * FROM exchange.place_order(%(bob)s, 'BTC-USDT', 'BUY', 'LIMIT', 0.1, 100)",
    "SELECT * FROM exchange.balances(%(bob)s)",
])
def test_the_dba_path_one_rule_for_every_administrative_function(world: World, stmt: str) -> None:
    """A superuser's (or exchange_owner member's) session without an acting user administers:
    run_clearing as create_trading_pair does (issue 18)."""
    assert _run(world.dsn, None, stmt, world.ids) is None


DEPOSIT = "SELECT exchange.deposit(%(bob)s, 'USDT', 1000000, 'mint')"
WORKER_CALLS = [
    "SELECT * FROM exchange.claim_outbox_events(10)",
    "SELECT exchange.mark_outbox_events_published(ARRAY(SELECT generate_series(1, 1000)::bigint))",
    "SELECT * FROM exchange.prune_outbox_events('0 s')",
    "SELECT exchange.retry_failed_outbox_events(NULL)",
    "SELECT exchange.record_outbox_failures(ARRAY[1]::bigint[], 'x')",
    "SELECT * FROM exchange.claim_notifications(10)",
    "SELECT exchange.mark_notifications_sent(ARRAY[1]::bigint[])",
    "SELECT exchange.record_notification_failure(1, 'x')",
]


@pytest.mark.parametrize("stmt", [DEPOSIT, "SELECT * FROM exchange.complete_withdrawal(%(bob_withdrawal)s)",
                                  *WORKER_CALLS])
@pytest.mark.parametrize("actor", ["none", "alice", "admin"])
def test_the_app_login_can_neither_mint_nor_run_the_workers(world: World, stmt: str, actor: str) -> None:
    before = _state(world.dsn)
    acting = None if actor == "none" else str(world.ids[actor])
    assert _run(world.logins["app"], acting, stmt, world.ids) == "42501"
    assert _state(world.dsn) == before


def test_custody_and_worker_logins_do_their_duty_only(world: World) -> None:
    custody, worker = world.logins["custody"], world.logins["worker"]
    assert _run(custody, None, DEPOSIT, world.ids) is None
    assert _run(custody, None, "SELECT * FROM exchange.complete_withdrawal(%(bob_withdrawal)s)",
                world.ids) is None
    assert _run(custody, None, "SELECT * FROM exchange.cancel_withdrawal(%(bob_withdrawal)s)",
                world.ids) is None
    assert _run(custody, None, "SELECT * FROM exchange.list_withdrawals()", world.ids) is None
    assert _run(custody, None, "SELECT * FROM exchange.get_withdrawal(%(bob_withdrawal)s)",
                world.ids) is None
    for stmt in WORKER_CALLS:
        assert _run(worker, None, stmt, world.ids) is None, stmt
    before = _state(world.dsn)
    for stmt, code in ((WORKER_CALLS[0], "42501"),
                       ("SELECT * FROM exchange.balances(%(bob)s)", "42501"),
                       ("SELECT * FROM exchange.place_order(%(bob)s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 1)",
                        "42501")):
        assert _run(custody, None, stmt, world.ids) == code, stmt
    for stmt, code in ((DEPOSIT, "42501"),
                       ("SELECT exchange.transfer(%(bob)s, %(alice)s, 'USDT', 1, 'w')", "42501")):
        assert _run(worker, None, stmt, world.ids) == code, stmt
    assert _state(world.dsn) == before


# --- every permission is checked somewhere ---------------------------------------------------

_GUARD = re.compile(r"_(?:require_admin|require_permission|authorize_for_user)\s*\("
                    r"[^;]*?'([a-z_]+)'\s*,\s*'([a-z_]+)'")


def test_every_permission_is_checked_by_some_function(template_dsn: str) -> None:
    with psycopg.connect(template_dsn, autocommit=True) as conn:
        perms = {(r, a) for r, a in conn.execute(
            "SELECT resource, action FROM exchange.permissions").fetchall()}
        sources = [r[0] for r in conn.execute(
            "SELECT prosrc FROM pg_proc WHERE pronamespace = 'exchange'::regnamespace").fetchall()]
    checked = {m for src in sources for m in _GUARD.findall(src)}
    assert len(perms) > 15
    assert not perms - checked, f"permissions no function checks: {sorted(perms - checked)}"
    assert not checked - perms, f"functions check permissions that do not exist: {sorted(checked - perms)}"


# --- the role x function table of docs/security.md -------------------------------------------

ROLE_COLUMNS = ("exchange_app", "exchange_custody", "exchange_worker", "exchange_readonly",
                "exchange_auditor")


def catalog_table(dsn: str) -> dict[str, tuple[bool, ...]]:
    """Function name -> whether each role of ROLE_COLUMNS may execute it, from the catalog."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(sql.SQL("""
            SELECT p.proname::text, {}
              FROM pg_proc p
             WHERE p.pronamespace = 'exchange'::regnamespace
               AND p.proname !~ '^(_|tg_)'
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                 AND d.objid = p.oid AND d.deptype = 'e')""").format(
            sql.SQL(", ").join(sql.SQL("has_function_privilege({}, p.oid, 'EXECUTE')").format(
                sql.Literal(r)) for r in ROLE_COLUMNS))).fetchall()
    table: dict[str, tuple[bool, ...]] = {}
    for name, *grants in rows:
        prev = table.get(name)
        table[name] = tuple(grants) if prev is None else tuple(a or b for a, b in zip(prev, grants, strict=True))
    return table


def docs_table() -> dict[str, tuple[bool, ...]]:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    start = text.index("<!-- role-function-table -->")
    end = text.index("<!-- /role-function-table -->")
    table: dict[str, tuple[bool, ...]] = {}
    for line in text[start:end].splitlines():
        m = re.match(r"^\|\s*`([a-z_0-9]+)`\s*\|(.*)\|\s*$", line)
        if m:
            cells = [c.strip() for c in m.group(2).split("|")]
            table[m.group(1)] = tuple(c == "x" for c in cells[:len(ROLE_COLUMNS)])
    return table


def test_the_role_function_table_in_the_docs_matches_the_grants(template_dsn: str) -> None:
    catalog, docs = catalog_table(template_dsn), docs_table()
    wrong = {name: (docs.get(name), grants) for name, grants in catalog.items()
             if docs.get(name) != grants}
    extra = sorted(set(docs) - set(catalog))
    assert not wrong and not extra, (
        f"docs/security.md disagrees with the grants (docs, catalog) in {ROLE_COLUMNS}: {wrong}; "
        f"in the docs only: {extra}")


# --- create-login, one group per duty ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["app", "custody", "worker", "readonly", "auditor", "owner"])
def test_create_login_makes_a_login_in_the_group_of_its_duty(world: World, kind: str) -> None:
    from pyexchange.client import Exchange

    name = f"pyx_{kind}_{uuid.uuid4().hex[:10]}"
    try:
        with Exchange(world.dsn) as ex:
            assert ex.create_login(name, kind, "a-secret-passphrase") == f"exchange_{kind}"
        with psycopg.connect(world.dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT r.rolcanlogin, r.rolpassword LIKE 'SCRAM-SHA-256$%%', "
                "       array(SELECT g.rolname::text FROM pg_auth_members m "
                "              JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) "
                "  FROM pg_authid r WHERE r.rolname = %s", (name,)).fetchone()
        assert row == (True, True, [f"exchange_{kind}"])
        if kind == "owner":  # a DBA login: the DBA path, without an acting user
            assert _run(_login_dsn(world.dsn, name), None,
                        "SELECT * FROM exchange.balances(%(bob)s)", world.ids) is None
    finally:
        with psycopg.connect(world.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_the_client_raises_a_typed_error_when_the_login_may_not_call_a_function(world: World) -> None:
    from pyexchange.client import Exchange
    from pyexchange.errors import FunctionNotGranted

    before = _state(world.dsn)
    with Exchange(world.logins["app"]) as ex, pytest.raises(FunctionNotGranted):
        ex.deposit(world.ids["bob"], "USDT", D("1000000"), "mint-by-client")
    assert _state(world.dsn) == before
    with Exchange(world.logins["custody"]) as ex:
        assert ex.deposit(world.ids["alice"], "USDT", D("1"), "custody-deposit") is not None
