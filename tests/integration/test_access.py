"""Least privilege, tested by logging in as each database role (docs/security.md).

Login roles are cluster-wide: each test makes uniquely named ones and drops them after.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.client import Exchange
from pyexchange.errors import (
    InvalidAuditEntity,
    InvalidEmail,
    InvalidKycDocuments,
    InvalidUsername,
    NotAuthenticated,
    PermissionDenied,
    RoleNotFound,
)

# Tables whose row counts must not move when an attack is refused.
WATCHED = ("users", "user_roles", "roles", "permissions", "role_permissions", "accounts",
           "transactions", "journal", "assets", "kyc_verifications", "audit_logs")

Login = Callable[[str], str]


@pytest.fixture
def login_as(clone_dsn: str) -> Iterator[Login]:
    """``login_as('app')`` makes a login role in exchange_app (readonly, auditor) through
    exchange.create_login and returns a DSN that connects as it."""
    made: list[str] = []
    # Database-level privileges (no TEMPORARY for PUBLIC) are not copied by CREATE DATABASE
    # ... TEMPLATE, so the clone gets them again, as an operator would after cloning.
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("SELECT exchange._apply_ownership_and_grants()")

    def make(kind: str) -> str:
        name = f"pyx_{kind}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            conn.execute("SELECT exchange.create_login(%s, %s, NULL)", (name, kind))
        made.append(name)
        params = conninfo_to_dict(clone_dsn)
        params["user"] = name
        params.pop("password", None)
        return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})

    try:
        yield make
    finally:
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            dbname = conn.info.dbname
            for name in made:
                conn.execute(sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE usename = {} AND datname = {}").format(
                                         sql.Literal(name), sql.Literal(dbname)))
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def _counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        out: dict[str, int] = {}
        for t in WATCHED:
            row = conn.execute(sql.SQL("SELECT count(*) FROM exchange.{}").format(
                sql.Identifier(t))).fetchone()
            out[t] = int(row[0]) if row else -1
        return out


def _refused(dsn: str, statement: str, params: Any = None) -> str:
    """Run ``statement`` as the role of ``dsn``; return the SQLSTATE it was refused with."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as err:
            conn.execute(statement, params)
        return err.value.sqlstate or ""


def _seed(dsn: str) -> dict[str, int]:
    """An admin, an active trader with an account, an asset, an audit trail."""
    with Exchange(dsn) as ex:
        admin = ex.bootstrap_admin("root", "root@example.org", "root-pass-1")
        user = ex.register_user("henry", "henry@example.org", "henry-pass-1")
        ex.activate_user(user.id)
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("INSERT INTO exchange.assets (symbol, name, type) "
                           "VALUES ('TSTX', 'Test', 'CRYPTO') RETURNING id").fetchone()
        assert row is not None
        asset_id = int(row[0])
        acc = conn.execute("SELECT exchange._user_account(%s, %s)", (user.id, asset_id)).fetchone()
        assert acc is not None
    return {"admin": admin.id, "user": user.id, "asset": asset_id, "account": int(acc[0])}


def test_app_role_reaches_api_functions_only(clone_dsn: str, login_as: Login) -> None:
    ids = _seed(clone_dsn)
    app = login_as("app")
    before = _counts(clone_dsn)
    insufficient = "42501"
    assert _refused(app, "UPDATE exchange.accounts SET available_balance = 1e6") == insufficient
    assert _refused(app, "SELECT password_hash FROM exchange.users") == insufficient
    assert _refused(app, "SELECT * FROM exchange.user_profiles") == insufficient
    assert _refused(app, "INSERT INTO exchange.transactions (journal_id, account_id, asset_id, "
                         "bucket, type, amount, balance_before, balance_after) "
                         "VALUES (1, %s, %s, 'AVAILABLE', 'X', 1, 0, 1)",
                    (ids["account"], ids["asset"])) == insufficient
    assert _refused(app, "INSERT INTO exchange.journal (type) VALUES ('X')") == insufficient
    assert _refused(app, "CREATE TABLE exchange.evil (id int)") == insufficient
    assert _refused(app, "CREATE TABLE public.evil (id int)") == insufficient
    assert _refused(app, "CREATE TEMP TABLE evil (id int)") == insufficient
    assert _refused(app, "SELECT exchange._post_journal('X', NULL, NULL, ARRAY[1]::bigint[], "
                         "ARRAY['AVAILABLE']::exchange.balance_bucket[], ARRAY[1]::numeric[])"
                    ) == insufficient
    assert _refused(app, "SELECT exchange._require_permission('asset', 'create')") == insufficient
    assert _refused(app, "SELECT exchange._check_kyc_limit(1, 'TRADE', 1, 1)") == insufficient
    assert _refused(app, "SELECT exchange._apply_ownership_and_grants()") == insufficient
    assert _refused(app, "SELECT exchange.bootstrap_admin('evil', 'evil@example.org', "
                         "'evil-pass-1')") == insufficient
    assert _refused(app, "SELECT exchange_crypto.crypt('x', 'y')") == insufficient
    assert _refused(app, "DELETE FROM exchange.audit_logs") == insufficient
    assert _refused(app, "UPDATE exchange.audit_logs SET operation = 'X'") == insufficient
    assert _refused(app, "SELECT exchange.create_login('evil', 'app', NULL)") == insufficient
    assert _refused(app, "SET ROLE exchange_owner") == insufficient
    assert _counts(clone_dsn) == before

    # ... while the API works, and the client sets the acting user for it.
    with Exchange(app) as ex:
        user = ex.register_user("iris", "iris@example.org", "iris-pass-1")
        assert ex.activate_user(user.id).status.value == "ACTIVE"
        assert ex.login("iris", "iris-pass-1").user_id == user.id
    with Exchange(app, acting_user_id=ids["admin"]) as ex:
        assert ex.grant_role(user.id, "support")
        trail = ex.audit_trail("user_roles", f"{user.id}:"
                               f"{_scalar(clone_dsn, 'SELECT id FROM exchange.roles WHERE name = %s', 'support')}")
        assert trail[-1].app_user_id == ids["admin"]
        assert trail[-1].db_role.startswith("pyx_app_")
    with Exchange(app, acting_user_id=ids["user"]) as ex, pytest.raises(PermissionDenied):
        ex.grant_role(ids["user"], "admin")


def _scalar(dsn: str, query: str, *params: Any) -> Any:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return None if row is None else row[0]


def test_owner_and_superuser_still_cannot_rewrite_the_audit_log(clone_dsn: str) -> None:
    _seed(clone_dsn)
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("SET ROLE exchange_owner")
        for stmt in ("DELETE FROM exchange.audit_logs", "UPDATE exchange.audit_logs SET db_role = 'x'",
                     "TRUNCATE exchange.audit_logs"):
            with pytest.raises(psycopg.Error) as err:
                conn.execute(stmt)
            assert err.value.sqlstate == "EX340"


def test_readonly_and_auditor_roles(clone_dsn: str, login_as: Login) -> None:
    ids = _seed(clone_dsn)
    readonly, auditor = login_as("readonly"), login_as("auditor")
    with psycopg.connect(readonly, autocommit=True) as conn:
        conn.execute("SELECT * FROM exchange.user_balances").fetchall()
        conn.execute("SELECT * FROM exchange.trading_pair_stats").fetchall()
    for stmt in ("SELECT * FROM exchange.users", "SELECT * FROM exchange.accounts",
                 "SELECT * FROM exchange.audit_logs", "SELECT * FROM exchange.user_profiles",
                 "SELECT exchange.register_user('x1x', 'x@example.org', 'x-pass-123')",
                 "SELECT * FROM exchange.audit_trail('users', '1')"):
        assert _refused(readonly, stmt) == "42501", stmt

    with psycopg.connect(auditor, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM exchange.audit_logs").fetchone() != (0,)
        conn.execute("SELECT username FROM exchange.user_profiles").fetchall()
        rows = conn.execute("SELECT operation FROM exchange.audit_trail('users', %s)",
                            (str(ids["user"]),)).fetchall()
        assert [r[0] for r in rows] == ["INSERT", "UPDATE"]
    for stmt in ("SELECT password_hash FROM exchange.users", "DELETE FROM exchange.audit_logs",
                 "INSERT INTO exchange.audit_logs (table_name, operation) VALUES ('x', 'X')",
                 "SELECT exchange.register_user('x1x', 'x@example.org', 'x-pass-123')"):
        assert _refused(auditor, stmt) == "42501", stmt


def test_injection_attempts_change_nothing_and_raise_typed_errors(
        clone_dsn: str, login_as: Login) -> None:
    ids = _seed(clone_dsn)
    app = login_as("app")
    before = _counts(clone_dsn)
    payloads = ["x'); DELETE FROM exchange.users; --", "root' OR '1'='1", "a\\'; DROP TABLE exchange.accounts; --",
                "$$; DROP SCHEMA exchange CASCADE; $$", "TSTX'; UPDATE exchange.accounts SET available_balance = 1e9; --"]
    with Exchange(app) as ex:
        for p in payloads:
            with pytest.raises(InvalidUsername):
                ex.register_user(p, "ok@example.org", "good-pass-1")
            with pytest.raises(InvalidEmail):
                ex.register_user("okname", p, "good-pass-1")
            # as a login, an injection is just an unknown user
            assert ex.authenticate(p, p).error_code == "EX301"
            assert ex.authenticate("root", p).error_code == "EX301"
    with Exchange(app, acting_user_id=ids["user"]) as ex, pytest.raises(InvalidKycDocuments):
        ex.submit_kyc(ids["user"], 1, ["not", "an", "object"])  # type: ignore[arg-type]
    with Exchange(app, acting_user_id=ids["admin"]) as ex:
        for p in payloads:
            with pytest.raises(InvalidAuditEntity):
                ex.audit_trail(p, "1")
            assert ex.audit_trail("users", p) == []
            with pytest.raises(RoleNotFound):
                ex.grant_role(ids["user"], p)
    # symbols: an asset symbol carrying SQL is refused by create_asset (when it exists)
    if _scalar(clone_dsn, "SELECT to_regprocedure('exchange.create_asset(text, text, text, integer, numeric, numeric)') IS NOT NULL"):
        with psycopg.connect(app) as conn:
            for p in payloads:
                conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)",
                             (str(ids["admin"]),))
                with pytest.raises(psycopg.Error) as perr:
                    conn.execute("SELECT exchange.create_asset(%s, 'x', 'CRYPTO', 8)", (p,))
                assert (perr.value.sqlstate or "").startswith("EX")
                conn.rollback()
    # ... and a pair symbol carrying SQL is an unknown pair to place_order (when it exists)
    if _scalar(clone_dsn, "SELECT to_regproc('exchange.place_order') IS NOT NULL"):
        with psycopg.connect(app) as conn:
            for p in payloads:
                with pytest.raises(psycopg.Error) as perr:
                    conn.execute("SELECT * FROM exchange.place_order(%s, %s, 'BUY', 'LIMIT', 1, 1)",
                                 (ids["user"], p))
                assert (perr.value.sqlstate or "").startswith("EX")
                conn.rollback()
    # JSON fields are data: odd documents are stored as given and run nothing
    with Exchange(app, acting_user_id=ids["user"]) as ex:
        docs = {"name": payloads[0], "nested": {"sql": payloads[3]}, "list": payloads}
        kyc = ex.submit_kyc(ids["user"], 1, docs)
        assert kyc.documents == docs
    after = _counts(clone_dsn)
    assert after["kyc_verifications"] == before["kyc_verifications"] + 1
    assert {k: v for k, v in after.items() if k not in ("kyc_verifications", "audit_logs", "users")} == \
        {k: v for k, v in before.items() if k not in ("kyc_verifications", "audit_logs", "users")}
    assert after["users"] == before["users"]
    with pytest.raises(NotAuthenticated), Exchange(app) as ex:
        ex.grant_role(ids["user"], "admin")


# --- the catalog: ownership and grants -------------------------------------------------------

def test_every_function_follows_the_privilege_rules(template_dsn: str) -> None:
    """Internal (``_``) and trigger (``tg_``) functions are not executable by the roles;
    every function exchange_app may execute is SECURITY DEFINER with a pinned search_path;
    every function outside those two groups pins its search_path. A procedure that commits
    (exchange.submit_order) can be neither SECURITY DEFINER nor carry a SET clause: it runs as
    its caller and reaches data only through SECURITY DEFINER functions (checked in
    test_trading_submit.py)."""
    with psycopg.connect(template_dsn, autocommit=True) as conn:
        rows = conn.execute("""
            SELECT p.oid::regprocedure::text, p.proname::text, p.prosecdef OR p.prokind = 'p',
                   coalesce(array_to_string(p.proconfig, ','), '') AS config,
                   has_function_privilege('exchange_app', p.oid, 'EXECUTE')
                   OR has_function_privilege('exchange_custody', p.oid, 'EXECUTE')
                   OR has_function_privilege('exchange_worker', p.oid, 'EXECUTE') AS app,
                   has_function_privilege('exchange_readonly', p.oid, 'EXECUTE') AS ro,
                   p.proowner::regrole::text AS owner
              FROM pg_proc p
             WHERE p.pronamespace = 'exchange'::regnamespace
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                 AND d.objid = p.oid AND d.deptype = 'e')""").fetchall()
    assert len(rows) > 20
    problems: list[str] = []
    for name, proname, secdef, config, app, ro, owner in rows:
        internal = proname.startswith("_") or proname.startswith("tg_")
        if owner != "exchange_owner":
            problems.append(f"{name}: owned by {owner}")
        if internal and (app or ro):
            problems.append(f"{name}: internal but executable by exchange_app/custody/worker/readonly")
        if app and not secdef:
            problems.append(f"{name}: executable by exchange_app/custody/worker but not SECURITY DEFINER")
        if not internal and "search_path=exchange, pg_catalog, pg_temp" not in config \
                and not name.startswith("exchange.submit_order("):
            problems.append(f"{name}: search_path not pinned ({config!r})")
    assert not problems, "\n".join(problems)


def test_everything_is_owned_by_a_non_superuser_owner(template_dsn: str) -> None:
    with psycopg.connect(template_dsn, autocommit=True) as conn:
        owner = conn.execute("SELECT rolsuper, rolcanlogin, rolcreaterole FROM pg_roles "
                             "WHERE rolname = 'exchange_owner'").fetchone()
        assert owner == (False, False, False)
        wrong = conn.execute("""
            SELECT c.oid::regclass::text, c.relowner::regrole::text
              FROM pg_class c
             WHERE c.relnamespace = 'exchange'::regnamespace AND c.relkind IN ('r','p','v','m','S')
               AND c.relowner <> 'exchange_owner'::regrole
            UNION ALL
            SELECT t.oid::regtype::text, t.typowner::regrole::text FROM pg_type t
             WHERE t.typnamespace = 'exchange'::regnamespace AND t.typtype IN ('e', 'd')
               AND t.typowner <> 'exchange_owner'::regrole
            UNION ALL
            SELECT 'schema exchange', nspowner::regrole::text FROM pg_namespace
             WHERE nspname = 'exchange' AND nspowner <> 'exchange_owner'::regrole""").fetchall()
        assert not wrong, wrong
        leaks = conn.execute("""
            SELECT c.oid::regclass::text, r.role
              FROM pg_class c,
                   unnest(ARRAY['exchange_app', 'PUBLIC']) AS r(role)
             WHERE c.relnamespace = 'exchange'::regnamespace AND c.relkind IN ('r','p','v','m','S')
               AND CASE WHEN r.role = 'PUBLIC'
                        THEN EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0)
                        ELSE has_table_privilege(r.role, c.oid,
                                 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                   END""").fetchall()
        assert not leaks, leaks


def test_cli_create_login_sends_a_scram_verifier(clone_dsn: str) -> None:
    from click.testing import CliRunner

    from pyexchange.cli import main
    from pyexchange.errors import InvalidLoginRole

    name = f"pyx_ro_{uuid.uuid4().hex[:10]}"
    try:
        result = CliRunner().invoke(
            main, ["--dsn", clone_dsn, "db", "create-login", name, "--role", "readonly"],
            env={"PYEXCHANGE_LOGIN_PASSWORD": "a-secret-passphrase"}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT r.rolcanlogin, r.rolpassword LIKE 'SCRAM-SHA-256$%%', "
                "       pg_has_role(r.rolname, 'exchange_readonly', 'MEMBER'), "
                "       pg_has_role(r.rolname, 'exchange_app', 'MEMBER') "
                "  FROM pg_authid r WHERE r.rolname = %s", (name,)).fetchone()
        assert row == (True, True, True, False)
        with Exchange(clone_dsn) as ex:
            for bad_name, kind in ((name + "x", "superuser"), ("Robert'); DROP ROLE postgres; --", "app"),
                                   ("exchange_owner2", "app")):
                with pytest.raises(InvalidLoginRole):
                    ex.create_login(bad_name, kind, None)
    finally:
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
