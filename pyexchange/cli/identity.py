"""CLI commands of the identity domain: ``pyexchange user ...``, ``pyexchange kyc ...``,
``pyexchange audit ENTITY ID`` and ``pyexchange db create-login``.

Passwords are prompted for (hidden) unless given in ``PYEXCHANGE_PASSWORD`` (users) or
``PYEXCHANGE_LOGIN_PASSWORD`` (database logins); they are never accepted as arguments, so
they do not land in shell history. Administrative commands act for ``--as USER_ID``.
"""

from __future__ import annotations

import json
from typing import Any

import click

from pyexchange.api.identity import AuditEntry, KycVerification, User, UserStatus
from pyexchange.cli import AppContext, console, pass_app, print_table
from pyexchange.cli.db import db
from pyexchange.cli.output import output_format, print_record
from pyexchange.cli.users import USER

_PASSWORD = click.option("--password", envvar="PYEXCHANGE_PASSWORD", prompt=True,
                         hide_input=True, confirmation_prompt=False, show_envvar=True,
                         help="Read from PYEXCHANGE_PASSWORD or prompted for.")


def _print_user(user: User) -> None:
    print_record(f"user {user.id}", [
        ("id", user.id), ("uuid", user.uuid), ("username", user.username),
        ("email", user.email), ("name", " ".join(p for p in (user.first_name, user.last_name)
                                                  if p)),
        ("phone", user.phone), ("status", user.status.value), ("kyc level", user.kyc_level),
        ("roles", ", ".join(user.roles)), ("last login", user.last_login_at),
        ("failed logins", user.failed_login_attempts), ("locked until", user.locked_until),
        ("version", user.version), ("created", user.created_at)])


def _print_kyc(rows: list[KycVerification]) -> None:
    print_table("KYC verifications",
                ["id", "user", "level", "status", "reviewer", "note", "submitted", "reviewed"],
                [(k.id, k.user_id, k.requested_level, k.status.value, k.reviewer_id,
                  k.review_note, k.submitted_at, k.reviewed_at) for k in rows])


def _user(app: AppContext, ref: str) -> User:
    ex: Any = app.exchange
    user: User = ex.get_user(int(ref)) if ref.isdigit() else ex.find_user(ref)
    return user


# --- pyexchange user ---------------------------------------------------------------------
@click.group()
def user() -> None:
    """Users: register, activate, log in, show, grant and revoke roles."""


@user.command()
@click.argument("username")
@click.argument("email")
@_PASSWORD
@click.option("--first-name")
@click.option("--last-name")
@click.option("--phone")
@output_format
@pass_app
def register(app: AppContext, username: str, email: str, password: str,
             first_name: str | None, last_name: str | None, phone: str | None) -> None:
    """Register USERNAME with EMAIL (status PENDING until activated)."""
    _print_user(app.exchange.register_user(username, email, password, first_name=first_name,
                                           last_name=last_name, phone=phone))


@user.command("create-admin")
@click.argument("username")
@click.argument("email")
@_PASSWORD
@output_format
@pass_app
def create_admin(app: AppContext, username: str, email: str, password: str) -> None:
    """Make the first admin of a fresh database (database owner only)."""
    _print_user(app.exchange.bootstrap_admin(username, email, password))


@user.command()
@click.argument("user_id", metavar="USER", type=USER)
@output_format
@pass_app
def activate(app: AppContext, user_id: int) -> None:
    """Activate a PENDING user."""
    _print_user(app.exchange.activate_user(user_id))


@user.command("set-status")
@click.argument("user_id", metavar="USER", type=USER)
@click.argument("status", type=click.Choice([s.value for s in UserStatus]))
@click.option("--reason")
@output_format
@pass_app
def set_status(app: AppContext, user_id: int, status: str, reason: str | None) -> None:
    """Suspend, reinstate or close a user (needs user:suspend)."""
    _print_user(app.exchange.set_user_status(user_id, status, reason))


@user.command()
@click.argument("login")
@_PASSWORD
@pass_app
def login(app: AppContext, login: str, password: str) -> None:
    """Check LOGIN's (username or email) password; exit 1 when refused."""
    result = app.exchange.login(login, password)
    console.print(f"authenticated: user {result.user_id} ({result.username}), "
                  f"KYC level {result.kyc_level}")


@user.command()
@click.argument("user_ref")
@output_format
@pass_app
def show(app: AppContext, user_ref: str) -> None:
    """Show a user by id, username or email."""
    _print_user(_user(app, user_ref))


@user.command()
@click.argument("user_id", metavar="USER", type=USER)
@click.argument("role")
@pass_app
def grant(app: AppContext, user_id: int, role: str) -> None:
    """Give ROLE to a user (needs role:grant)."""
    changed = app.exchange.grant_role(user_id, role)
    console.print(f"user {user_id}: {role} {'granted' if changed else 'already held'}")


@user.command()
@click.argument("user_id", metavar="USER", type=USER)
@click.argument("role")
@pass_app
def revoke(app: AppContext, user_id: int, role: str) -> None:
    """Take ROLE from a user (needs role:grant)."""
    changed = app.exchange.revoke_role(user_id, role)
    console.print(f"user {user_id}: {role} {'revoked' if changed else 'was not held'}")


# --- pyexchange kyc ----------------------------------------------------------------------
@click.group()
def kyc() -> None:
    """KYC verifications: submit, approve, reject, list."""


@kyc.command()
@click.argument("user_id", metavar="USER", type=USER)
@click.argument("level", type=click.IntRange(1, 2))
@click.option("--documents", default="{}", help="A JSON object describing the documents.")
@output_format
@pass_app
def submit(app: AppContext, user_id: int, level: int, documents: str) -> None:
    """Ask for KYC LEVEL for a user."""
    try:
        docs = json.loads(documents)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--documents") from exc
    if not isinstance(docs, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--documents")
    _print_kyc([app.exchange.submit_kyc(user_id, level, docs)])


def _reviewer(app: AppContext, reviewer: int | None) -> int:
    rid = reviewer if reviewer is not None else app.acting_user_id
    if rid is None:
        raise click.UsageError("give --reviewer or act --as a reviewer")
    return rid


@kyc.command()
@click.argument("verification_id", type=int)
@click.option("--reviewer", type=USER, help="Reviewer user id or username (default: --as).")
@click.option("--note")
@output_format
@pass_app
def approve(app: AppContext, verification_id: int, reviewer: int | None,
            note: str | None) -> None:
    """Approve a pending verification (needs kyc:review)."""
    _print_kyc([app.exchange.approve_kyc(_reviewer(app, reviewer), verification_id, note)])


@kyc.command()
@click.argument("verification_id", type=int)
@click.option("--note", required=True, help="Why it is rejected.")
@click.option("--reviewer", type=USER, help="Reviewer user id or username (default: --as).")
@output_format
@pass_app
def reject(app: AppContext, verification_id: int, note: str, reviewer: int | None) -> None:
    """Reject a pending verification (needs kyc:review)."""
    _print_kyc([app.exchange.reject_kyc(_reviewer(app, reviewer), verification_id, note)])


@kyc.command("list")
@click.argument("user_id", metavar="USER", type=USER)
@output_format
@pass_app
def list_(app: AppContext, user_id: int) -> None:
    """A user's KYC history."""
    _print_kyc(app.exchange.list_kyc_verifications(user_id))


# --- pyexchange audit --------------------------------------------------------------------
def _changes(entry: AuditEntry) -> str:
    old, new = entry.old_values or {}, entry.new_values or {}
    if entry.operation == "UPDATE":
        keys = sorted(k for k in set(old) | set(new)
                      if old.get(k) != new.get(k) and k != "updated_at")
        return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys)
    return json.dumps(new or old, default=str, sort_keys=True)


@click.command()
@click.argument("entity")
@click.argument("entity_id")
@click.option("--limit", type=int, default=1000, show_default=True)
@output_format
@pass_app
def audit(app: AppContext, entity: str, entity_id: str, limit: int) -> None:
    """The audit trail of ENTITY (users, assets, trading_pairs, kyc, ...) with key ENTITY_ID."""
    rows = app.exchange.audit_trail(entity, entity_id, limit)
    print_table(f"audit {entity} {entity_id}",
                ["at", "operation", "db role", "acting user", "changes"],
                [(e.created_at, e.operation, e.db_role, e.app_user_id, _changes(e))
                 for e in rows])


# --- pyexchange db create-login ----------------------------------------------------------
@db.command("create-login")
@click.argument("name")
@click.option("--role", "kind",
              type=click.Choice(["app", "custody", "worker", "readonly", "auditor", "owner"]),
              required=True, help="The group the login joins (docs/security.md, roles by duty).")
@click.option("--password", envvar="PYEXCHANGE_LOGIN_PASSWORD", prompt=True, hide_input=True,
              confirmation_prompt=True, show_envvar=True,
              help="Read from PYEXCHANGE_LOGIN_PASSWORD or prompted for; sent as a SCRAM verifier.")
@pass_app
def create_login(app: AppContext, name: str, kind: str, password: str) -> None:
    """Create a database login role NAME in one group by duty: app (the web application),
    custody (deposit watcher, withdrawal processor), worker (relay, notification worker),
    readonly, auditor or owner (a DBA).

    A PostgreSQL role belongs to the whole server, not to this database: it outlives the
    database (DROP DATABASE and `server reset` leave it; DROP ROLE removes it)."""
    group = app.exchange.create_login(name, kind, password)
    console.print(f"login role {name} created in {group} (a server-wide role: it outlives "
                  f"this database; DROP ROLE {name} removes it)", soft_wrap=True)


COMMANDS: list[click.Command] = [user, kyc, audit]
