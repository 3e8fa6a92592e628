"""Identity through the Python client and the CLI: typed errors, committed failed logins,
the lockout under concurrent wrong passwords, and the acting user in the audit log."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from pyexchange.api.identity import KycStatus, User, UserStatus
from pyexchange.cli import main
from pyexchange.client import Exchange
from pyexchange.errors import (
    AccountLocked,
    AccountNotActive,
    InvalidCredentials,
    PermissionDenied,
    StaleVersion,
    UsernameTaken,
    WeakPassword,
)


def _admin(dsn: str) -> User:
    with Exchange(dsn) as ex:
        admin: User = ex.bootstrap_admin("root", "root@example.org", "root-pass-1")
        return admin


def test_register_activate_login_and_typed_refusals(clone_dsn: str) -> None:
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("carol", "Carol@Example.org", "carol-pass-1", first_name="Carol")
        assert user.status is UserStatus.PENDING and user.roles == ["trader"]
        with pytest.raises(UsernameTaken) as err:
            ex.register_user("CAROL", "c2@example.org", "carol-pass-1")
        assert err.value.sqlstate == "EX307" and isinstance(err.value.__cause__, psycopg.Error)
        with pytest.raises(AccountNotActive):
            ex.login("carol", "carol-pass-1")
        assert ex.activate_user(user.id).status is UserStatus.ACTIVE
        ok = ex.login("carol@example.org", "carol-pass-1")
        assert ok.authenticated and ok.user_id == user.id
        with pytest.raises(InvalidCredentials):
            ex.login("carol", "nope")
        with pytest.raises(InvalidCredentials):
            ex.login("nobody-here", "nope")
        # the failed attempt was committed although the client raised
        assert ex.get_user(user.id).failed_login_attempts == 1
        # bcrypt reads 72 bytes: a longer password is refused at login as at registration
        with pytest.raises(WeakPassword):
            ex.register_user("carol72", "c72@example.org", "p" * 73)
        long_user = ex.register_user("carol72", "c72@example.org", "p" * 72)
        ex.activate_user(long_user.id)
        assert ex.login("carol72", "p" * 72).authenticated
        with pytest.raises(WeakPassword):
            ex.login("carol72", "p" * 72 + "anything")
        with pytest.raises(WeakPassword):
            ex.login("nobody-here", "p" * 73)
        assert ex.get_user(long_user.id).failed_login_attempts == 0

        current = ex.get_user(user.id)
        changed = ex.update_user_profile(user.id, current.version, phone="+1 555 0100")
        assert changed.phone == "+1 555 0100" and changed.version == current.version + 1
        with pytest.raises(StaleVersion):
            ex.update_user_profile(user.id, current.version, phone="+1 555 0199")
        assert ex.get_user(user.id).phone == "+1 555 0100"


def test_lockout_after_consecutive_failures(clone_dsn: str) -> None:
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("dave", "dave@example.org", "dave-pass-1")
        ex.activate_user(user.id)
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                ex.login("dave", "wrong")
        with pytest.raises(AccountLocked):
            ex.login("dave", "dave-pass-1")
        locked = ex.get_user(user.id)
        assert locked.failed_login_attempts == 5 and locked.locked_until is not None


@pytest.mark.slow
@pytest.mark.parametrize("max_failed", [1000, 5])
def test_concurrent_wrong_passwords_are_each_counted(clone_dsn: str, max_failed: int) -> None:
    """Real concurrent connections: every wrong password counts, none is lost; with the
    default limit the user ends locked with the full count."""
    attempts = 24
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("UPDATE exchange.auth_settings SET max_failed_logins = %s", (max_failed,))
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("erin", "erin@example.org", "erin-pass-1")
        ex.activate_user(user.id)

    barrier = threading.Barrier(attempts)
    codes: list[str | None] = []
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            with psycopg.connect(clone_dsn, autocommit=True) as conn:
                barrier.wait(timeout=30)
                row = conn.execute("SELECT error_code FROM exchange.authenticate(%s, %s)",
                                   ("erin", "wrong-password")).fetchone()
                codes.append(None if row is None else row[0])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert codes == ["EX301"] * attempts
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT failed_login_attempts, locked_until IS NOT NULL "
                           "FROM exchange.users WHERE id = %s", (user.id,)).fetchone()
        audit = conn.execute("SELECT count(*) FROM exchange.audit_logs WHERE table_name = 'users' "
                             "AND entity_key = %s AND operation = 'UPDATE' "
                             "AND (new_values ->> 'failed_login_attempts')::int "
                             "  = (old_values ->> 'failed_login_attempts')::int + 1",
                             (str(user.id),)).fetchone()
    assert row == (attempts, max_failed <= attempts)
    assert audit is not None and audit[0] == attempts


def test_rbac_kyc_and_audit_with_the_acting_user(clone_dsn: str) -> None:
    admin = _admin(clone_dsn)
    with Exchange(clone_dsn) as anon:
        frank = anon.register_user("frank", "frank@example.org", "frank-pass-1")
        anon.activate_user(frank.id)
    with Exchange(clone_dsn, acting_user_id=frank.id) as as_frank:
        with pytest.raises(PermissionDenied):
            as_frank.grant_role(frank.id, "admin")
        kyc = as_frank.submit_kyc(frank.id, 1, {"passport": "X1", "nested": {"a": [1, 2]}})
        assert kyc.status is KycStatus.PENDING and kyc.documents["nested"] == {"a": [1, 2]}
    with Exchange(clone_dsn, acting_user_id=admin.id) as as_admin:
        assert as_admin.grant_role(frank.id, "support")
        assert as_admin.has_permission(frank.id, "kyc", "review")
        approved = as_admin.approve_kyc(admin.id, kyc.id, "documents checked")
        assert approved.status is KycStatus.APPROVED and approved.reviewer_id == admin.id
        assert as_admin.get_user(frank.id).kyc_level == 1
        assert as_admin.revoke_role(frank.id, "support")
        trail = as_admin.audit_trail("user_roles", f"{frank.id}:"
                                     f"{_role_id(clone_dsn, 'support')}")
        assert [e.operation for e in trail] == ["INSERT", "DELETE"]
        assert {e.app_user_id for e in trail} == {admin.id}
        user_trail = as_admin.audit_trail("user", frank.id)
        assert all("password_hash" not in (e.new_values or {}) for e in user_trail)
        assert [k.status for k in as_admin.list_kyc_verifications(frank.id)] == [
            KycStatus.APPROVED]


def _role_id(dsn: str, name: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT id FROM exchange.roles WHERE name = %s", (name,)).fetchone()
    assert row is not None
    return int(row[0])


def test_cli_user_kyc_and_audit(clone_dsn: str) -> None:
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None, code: int = 0) -> Any:
        result = runner.invoke(main, ["--dsn", clone_dsn, *args], env=env,
                               catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    run("user", "create-admin", "root", "root@example.org",
        env={"PYEXCHANGE_PASSWORD": "root-pass-1"})
    run("user", "register", "gina", "gina@example.org", env={"PYEXCHANGE_PASSWORD": "gina-pass-1"})
    run("user", "activate", "2")
    assert "authenticated: user 2" in run("user", "login", "gina",
                                          env={"PYEXCHANGE_PASSWORD": "gina-pass-1"}).output
    assert "EX301" in run("user", "login", "gina", env={"PYEXCHANGE_PASSWORD": "bad-pass"},
                          code=1).output
    # the DBA path: a superuser's session without --as administers (docs/security.md)
    run("user", "grant", "2", "support")
    run("--as", "1", "user", "grant", "2", "auditor")
    assert "auditor" in run("--as", "2", "user", "show", "gina").output
    run("--as", "2", "kyc", "submit", "2", "1", "--documents", '{"passport": "G1"}')
    run("--as", "1", "kyc", "reject", "1", "--note", "blurry")
    run("--as", "2", "kyc", "submit", "2", "1")
    run("--as", "1", "kyc", "approve", "2")
    out = run("--as", "2", "audit", "kyc", "2").output
    assert "APPROVED" in out and "UPDATE" in out
    assert "EX321" in run("--as", "2", "user", "revoke", "1", "admin", code=1).output


# --- KYC inside place_order and withdraw ------------------------------------------------------

def _sqlstate(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...]) -> str:
    with pytest.raises(psycopg.Error) as err:
        conn.execute(query, params)
    return err.value.sqlstate or ""


def test_kyc_levels_gate_place_order_and_withdraw(clone_dsn: str) -> None:
    from decimal import Decimal

    from tests.integration._trading_support import check_invariants, setup_market, snapshot

    place = "SELECT 1 FROM exchange.place_order(%s, 'BTC-USDT', %s, 'LIMIT', %s, %s)"
    withdraw = "SELECT exchange.withdraw(%s, %s, %s, %s)"
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=("kyc0", "kyc1", "kyc2"))
        btc = _scalar_of(conn, "SELECT id FROM exchange.assets WHERE symbol = 'BTC'")
        conn.execute("UPDATE exchange.users SET kyc_level = 0 WHERE id = %s", (ids["kyc0"],))
        conn.execute("UPDATE exchange.users SET kyc_level = 1 WHERE id = %s", (ids["kyc1"],))
        # level 1: at most 1 BTC traded and 0.5 BTC withdrawn per day
        conn.execute("INSERT INTO exchange.kyc_limits (level, action, asset_id, allowed, daily_limit) "
                     "VALUES (1, 'TRADE', %s, true, 1), (1, 'WITHDRAW', %s, true, 0.5)", (btc, btc))

        before = snapshot(conn)
        assert _sqlstate(conn, place, (ids["kyc0"], "SELL", Decimal("0.1"), Decimal("100"))) == "EX335"
        assert _sqlstate(conn, withdraw, (ids["kyc0"], "BTC", Decimal("0.1"), "k0-w")) == "EX335"
        assert snapshot(conn) == before, "a refused call changes nothing"

        conn.execute(place, (ids["kyc1"], "SELL", Decimal("0.6"), Decimal("100")))
        before = snapshot(conn)
        assert _sqlstate(conn, place, (ids["kyc1"], "SELL", Decimal("0.5"), Decimal("100"))) == "EX336"
        assert snapshot(conn) == before
        conn.execute(place, (ids["kyc1"], "SELL", Decimal("0.4"), Decimal("100")))  # exactly 1
        conn.execute(withdraw, (ids["kyc1"], "BTC", Decimal("0.5"), "k1-w1"))
        assert _sqlstate(conn, withdraw, (ids["kyc1"], "BTC", Decimal("0.01"), "k1-w2")) == "EX336"
        # the other asset falls back to the level's default (10 000 a day)
        conn.execute(withdraw, (ids["kyc1"], "USDT", Decimal("5000"), "k1-w3"))

        # level 2: no trade limit, and its counter is never written
        conn.execute(place, (ids["kyc2"], "BUY", Decimal("50"), Decimal("99")))
        assert _scalar_of(conn, "SELECT count(*) FROM exchange.kyc_daily_usage "
                                "WHERE user_id = %s AND action = 'TRADE'", ids["kyc2"]) == 0
        assert _scalar_of(conn, "SELECT used FROM exchange.kyc_daily_usage "
                                "WHERE user_id = %s AND action = 'TRADE'", ids["kyc1"]) == 1
        check_invariants(conn)


def _scalar_of(conn: psycopg.Connection[Any], query: str, *params: Any) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]
