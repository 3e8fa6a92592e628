"""CLI commands of the ledger domain: ``pyexchange asset create|list|deactivate|activate``,
``pyexchange deposit``, ``pyexchange withdraw [complete|cancel|list]``, ``pyexchange
transfer``, ``pyexchange balances USER``, ``pyexchange history USER ASSET`` and
``pyexchange reconcile`` (exits 1 when it finds a discrepancy). Amounts are parsed as
Decimal; a movement without ``--key`` gets a fresh UUID key, printed so it can be retried."""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from datetime import datetime
from decimal import Decimal

import click

from pyexchange.api.ledger import Asset, AssetType, Withdrawal, WithdrawalStatus
from pyexchange.cli import AppContext, console, pass_app, print_table
from pyexchange.cli.output import current_format, note, output_format
from pyexchange.cli.trading import DECIMAL, _fmt
from pyexchange.cli.users import USER

_KEY = click.option("--key", "idempotency_key", default=None,
                    help="Idempotency key (default: a new UUID, printed). Retrying with the "
                         "same key and arguments moves nothing twice.")


RECONCILE_COLUMNS = ["check", "asset", "account", "user", "journal", "expected", "actual",
                     "detail"]


def _key(value: str | None) -> str:
    return value if value is not None else str(uuid.uuid4())


def _print_assets(rows: list[Asset]) -> None:
    print_table("assets", ["id", "symbol", "name", "type", "decimals", "min withdraw",
                           "withdraw fee", "active"],
                [(a.id, a.symbol, a.name, a.type, a.decimals, _fmt(a.min_withdraw_amount),
                  _fmt(a.withdraw_fee), "yes" if a.is_active else "no") for a in rows])


def _print_withdrawals(rows: list[Withdrawal]) -> None:
    print_table("withdrawals", ["id", "user", "asset", "amount", "fee", "status", "external ref",
                                "note", "created", "finished"],
                [(w.id, w.user_id, w.asset, _fmt(w.amount), _fmt(w.fee), w.status,
                  w.external_ref, w.note, w.created_at, w.finished_at) for w in rows])


@click.group()
def asset() -> None:
    """Assets: create, list, deactivate, activate."""


@asset.command("create")
@click.argument("symbol")
@click.argument("name")
@click.option("--type", "type_", type=click.Choice([t.value for t in AssetType]),
              default="CRYPTO", show_default=True)
@click.option("--decimals", type=click.IntRange(0, 18), default=8, show_default=True)
@click.option("--min-withdraw", type=DECIMAL, default="0", show_default=True)
@click.option("--withdraw-fee", type=DECIMAL, default="0", show_default=True)
@output_format
@pass_app
def asset_create(app: AppContext, symbol: str, name: str, type_: str, decimals: int,
                 min_withdraw: Decimal, withdraw_fee: Decimal) -> None:
    """Create an asset (and its EXTERNAL, FEE and REVENUE accounts)."""
    _print_assets([app.exchange.create_asset(symbol, name, type_, decimals, min_withdraw,
                                             withdraw_fee)])


@asset.command("list")
@output_format
@pass_app
def asset_list(app: AppContext) -> None:
    """List every asset."""
    _print_assets(app.exchange.list_assets())


@asset.command("deactivate")
@click.argument("symbol")
@output_format
@pass_app
def asset_deactivate(app: AppContext, symbol: str) -> None:
    """Retire an asset: no deposits, transfers, holds or orders; withdrawals still allowed."""
    _print_assets([app.exchange.deactivate_asset(symbol)])


@asset.command("activate")
@click.argument("symbol")
@output_format
@pass_app
def asset_activate(app: AppContext, symbol: str) -> None:
    """Re-activate a retired asset."""
    _print_assets([app.exchange.activate_asset(symbol)])


@click.command()
@click.argument("user_id", metavar="USER", type=USER)
@click.argument("asset_symbol", metavar="ASSET")
@click.argument("amount", type=DECIMAL)
@_KEY
@pass_app
def deposit(app: AppContext, user_id: int, asset_symbol: str, amount: Decimal,
            idempotency_key: str | None) -> None:
    """Credit USER with AMOUNT of ASSET from outside."""
    key = _key(idempotency_key)
    receipt = app.exchange.deposit(user_id, asset_symbol, amount, key)
    console.print(f"deposit journal {receipt.journal_id} (key {key})")


class _DefaultGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to ``request``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["request", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup)
def withdraw() -> None:
    """Withdrawals: `withdraw USER ASSET AMOUNT` requests one (freezing amount + fee);
    `withdraw complete ID` pays it out, `withdraw cancel ID` releases it."""


@withdraw.command("request")
@click.argument("user_id", metavar="USER", type=USER)
@click.argument("asset_symbol", metavar="ASSET")
@click.argument("amount", type=DECIMAL)
@_KEY
@output_format
@pass_app
def withdraw_request(app: AppContext, user_id: int, asset_symbol: str, amount: Decimal,
                     idempotency_key: str | None) -> None:
    """Request a withdrawal of AMOUNT (the asset's fee is frozen on top)."""
    key = _key(idempotency_key)
    _print_withdrawals([app.exchange.withdraw(user_id, asset_symbol, amount, key)])
    note(f"(key {key})")


@withdraw.command("complete")
@click.argument("withdrawal_id", metavar="ID", type=int)
@click.option("--ref", "external_ref", default=None, help="External reference (tx hash...).")
@output_format
@pass_app
def withdraw_complete(app: AppContext, withdrawal_id: int, external_ref: str | None) -> None:
    """Pay out a PENDING withdrawal."""
    _print_withdrawals([app.exchange.complete_withdrawal(withdrawal_id, external_ref)])


@withdraw.command("cancel")
@click.argument("withdrawal_id", metavar="ID", type=int)
@click.option("--reason", default=None)
@output_format
@pass_app
def withdraw_cancel(app: AppContext, withdrawal_id: int, reason: str | None) -> None:
    """Cancel a PENDING or REVIEW withdrawal and release its funds."""
    _print_withdrawals([app.exchange.cancel_withdrawal(withdrawal_id, reason)])


@withdraw.command("list")
@click.option("--user", "user_id", type=USER, default=None, help="Id or username.")
@click.option("--status", type=click.Choice([s.value for s in WithdrawalStatus]), default=None)
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@output_format
@pass_app
def withdraw_list(app: AppContext, user_id: int | None, status: str | None, limit: int) -> None:
    """List withdrawals, newest first."""
    _print_withdrawals(app.exchange.list_withdrawals(user_id, status, limit))


@click.command()
@click.argument("from_user_id", metavar="FROM_USER", type=USER)
@click.argument("to_user_id", metavar="TO_USER", type=USER)
@click.argument("asset_symbol", metavar="ASSET")
@click.argument("amount", type=DECIMAL)
@_KEY
@pass_app
def transfer(app: AppContext, from_user_id: int, to_user_id: int, asset_symbol: str,
             amount: Decimal, idempotency_key: str | None) -> None:
    """Move AMOUNT of ASSET from FROM_USER's to TO_USER's available balance."""
    key = _key(idempotency_key)
    receipt = app.exchange.transfer(from_user_id, to_user_id, asset_symbol, amount, key)
    console.print(f"transfer journal {receipt.journal_id} (key {key})")


@click.command()
@click.argument("user_id", metavar="USER", type=USER)
@output_format
@pass_app
def balances(app: AppContext, user_id: int) -> None:
    """USER's balances per asset."""
    print_table(f"balances of user {user_id}",
                ["asset", "available", "frozen", "total", "version", "updated"],
                [(b.asset, _fmt(b.available), _fmt(b.frozen), _fmt(b.total), b.version,
                  b.updated_at) for b in app.exchange.balances(user_id)])


@click.command()
@click.argument("user_id", metavar="USER", type=USER)
@click.argument("asset_symbol", metavar="ASSET")
@click.option("--from", "from_time", type=click.DateTime(), default=None)
@click.option("--to", "to_time", type=click.DateTime(), default=None)
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--after", "after_id", type=int, help="After this entry id (next page).")
@click.option("--before", "before_id", type=int, help="Before this entry id (previous page).")
@output_format
@pass_app
def history(app: AppContext, user_id: int, asset_symbol: str, from_time: datetime | None,
            to_time: datetime | None, limit: int, after_id: int | None,
            before_id: int | None) -> None:
    """USER's journal entries for ASSET, oldest first (page with --after LAST_ENTRY)."""
    rows = app.exchange.account_history(user_id, asset_symbol, from_time, to_time, limit=limit,
                                        after_id=after_id, before_id=before_id)
    print_table(f"history of user {user_id} in {asset_symbol}",
                ["entry", "journal", "time", "type", "bucket", "amount", "before", "after",
                 "reference"],
                [(h.entry_id, h.journal_id, h.created_at, h.type, h.bucket, _fmt(h.amount),
                  _fmt(h.balance_before), _fmt(h.balance_after),
                  f"{h.reference_type} {h.reference_id}" if h.reference_type else "")
                 for h in rows])


@click.command()
@output_format
@pass_app
def reconcile(app: AppContext) -> None:
    """Check the ledger's invariants; print each discrepancy and exit 1 if there is any."""
    rows = app.exchange.reconcile()
    if not rows:
        if current_format() == "table":
            console.print("reconcile: every invariant holds")
        else:
            print_table("discrepancies", RECONCILE_COLUMNS, [])
        return
    print_table("discrepancies", RECONCILE_COLUMNS,
                [(r.check_name, r.asset, r.account_id, r.user_id, r.journal_id,
                  _fmt(r.expected), _fmt(r.actual), r.detail) for r in rows])
    counts = Counter(r.check_name for r in rows)
    note(f"reconcile: {len(rows)} discrepancies: "
         + ", ".join(f"{name} x{n}" for name, n in sorted(counts.items())))
    sys.exit(1)


COMMANDS: list[click.Command] = [asset, deposit, withdraw, transfer, balances, history,
                                 reconcile]
