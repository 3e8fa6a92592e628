"""The ledger domain's methods of :class:`pyexchange.Exchange`: assets, deposits, two-phase
withdrawals, transfers (single and batch), holds, balances, history and reconciliation.

Every rule lives in the SQL functions (``functions/ledger/*.sql``); these methods pass ``Decimal``
amounts in, map rows to frozen dataclasses and let refusals surface as the typed errors of
:mod:`pyexchange.errors` (``InsufficientFunds``, ``IdempotencyConflict``, ...).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pyexchange.base import ClientBase
from pyexchange.errors import InvalidAmount


class AssetType(enum.StrEnum):
    """``exchange.asset_type``."""

    CRYPTO = "CRYPTO"
    FIAT = "FIAT"


class WithdrawalStatus(enum.StrEnum):
    """``exchange.withdrawal_status``: PENDING and REVIEW hold funds; the others are final."""

    PENDING = "PENDING"
    REVIEW = "REVIEW"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class Bucket(enum.StrEnum):
    """``exchange.balance_bucket``."""

    AVAILABLE = "AVAILABLE"
    FROZEN = "FROZEN"


@dataclass(frozen=True)
class Asset:
    id: int
    symbol: str
    name: str
    type: AssetType
    decimals: int
    min_withdraw_amount: Decimal
    withdraw_fee: Decimal
    is_active: bool
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", AssetType(self.type))


@dataclass(frozen=True)
class Receipt:
    """What a deposit or a transfer returns: its journal record (the transfer id)."""

    journal_id: int


@dataclass(frozen=True)
class HoldRef:
    """What freeze and unfreeze return: the hold of (user, asset, reference)."""

    hold_id: int


@dataclass(frozen=True)
class TransferRequest:
    """One transfer of :meth:`LedgerAPI.transfers`."""

    from_user_id: int
    to_user_id: int
    asset: str
    amount: Decimal
    idempotency_key: str


@dataclass(frozen=True)
class Withdrawal:
    id: int
    user_id: int
    asset: str
    amount: Decimal
    fee: Decimal
    status: WithdrawalStatus
    external_ref: str | None
    note: str | None
    version: int
    created_at: datetime
    finished_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", WithdrawalStatus(self.status))


@dataclass(frozen=True)
class Balance:
    asset: str
    available: Decimal
    frozen: Decimal
    total: Decimal
    version: int
    updated_at: datetime


@dataclass(frozen=True)
class BalanceAt:
    available: Decimal
    frozen: Decimal
    total: Decimal


@dataclass(frozen=True)
class HistoryEntry:
    """One journal entry of an account: a movement's effect on one bucket."""

    entry_id: int
    journal_id: int
    created_at: datetime
    type: str
    bucket: Bucket
    amount: Decimal
    balance_before: Decimal
    balance_after: Decimal
    reference_type: str | None
    reference_id: int | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "bucket", Bucket(self.bucket))


@dataclass(frozen=True)
class Discrepancy:
    """One row of ``exchange.reconcile()``: an invariant that does not hold."""

    check_name: str
    asset: str | None
    account_id: int | None
    user_id: int | None
    journal_id: int | None
    expected: Decimal | None
    actual: Decimal | None
    detail: str


# PostgreSQL's numeric holds at most 131072 digits before the point and 16383 after it; a
# Decimal beyond that cannot even be sent, so it is refused here with the database's code.
_MAX_ADJUSTED = 131071
_MIN_EXPONENT = -16383


def _amount(value: Decimal | None, *, allow_none: bool = False) -> Decimal | None:
    """Type discipline, not a business rule: amounts are Decimal (never float) and must be
    representable as a PostgreSQL numeric; the database judges everything else."""
    if value is None and allow_none:
        return None
    if not isinstance(value, Decimal):
        raise TypeError(f"amounts are decimal.Decimal, not {type(value).__name__}")
    if value.is_nan():
        return Decimal("NaN")  # sNaN cannot be sent; the database refuses NaN (EX105)
    if value.is_finite() and value != 0 and (
            value.adjusted() > _MAX_ADJUSTED or value.as_tuple().exponent < _MIN_EXPONENT  # type: ignore[operator]
    ):
        raise InvalidAmount(f"invalid amount {value:.6e}: outside PostgreSQL's numeric range",
                            hint="Pass a positive amount rounded to the asset's decimals.")
    return value


class LedgerAPI(ClientBase):
    """Assets, deposits, withdrawals, transfers, holds, balances, history, reconcile."""

    # --- assets ---------------------------------------------------------------------------
    def create_asset(
        self,
        symbol: str,
        name: str,
        type: AssetType | str,
        decimals: int,
        min_withdraw_amount: Decimal = Decimal(0),
        withdraw_fee: Decimal = Decimal(0),
    ) -> Asset:
        """``exchange.create_asset``: a new active asset with its system accounts."""
        return self._one("create_asset", {
            "symbol": symbol, "name": name, "type": str(type), "decimals": decimals,
            "min_withdraw_amount": _amount(min_withdraw_amount),
            "withdraw_fee": _amount(withdraw_fee)}, Asset)

    def deactivate_asset(self, symbol: str) -> Asset:
        """``exchange.deactivate_asset``: no new deposits, transfers, holds or orders."""
        return self._one("deactivate_asset", {"symbol": symbol}, Asset)

    def activate_asset(self, symbol: str) -> Asset:
        """``exchange.activate_asset``."""
        return self._one("activate_asset", {"symbol": symbol}, Asset)

    def list_assets(self) -> list[Asset]:
        """``exchange.list_assets``: every asset, by symbol."""
        return self._all("list_assets", None, Asset)

    # --- movements ------------------------------------------------------------------------
    def deposit(self, user_id: int, asset: str, amount: Decimal, idempotency_key: str) -> Receipt:
        """``exchange.deposit``: credit funds that arrived from outside (idempotent by key)."""
        return self._one("deposit", {"user_id": user_id, "asset": asset,
                                     "amount": _amount(amount),
                                     "idempotency_key": idempotency_key}, Receipt)

    def transfer(self, from_user_id: int, to_user_id: int, asset: str, amount: Decimal,
                 idempotency_key: str) -> Receipt:
        """``exchange.transfer``: move available funds between two users (idempotent)."""
        return self._one("transfer", {"from_user_id": from_user_id, "to_user_id": to_user_id,
                                      "asset": asset, "amount": _amount(amount),
                                      "idempotency_key": idempotency_key}, Receipt)

    def transfers(self, requests: Sequence[TransferRequest]) -> list[Receipt]:
        """``exchange.transfers``: many transfers in one call, all or none, in order."""
        return self._all("transfers", {
            "from_user_ids": [r.from_user_id for r in requests],
            "to_user_ids": [r.to_user_id for r in requests],
            "assets": [r.asset for r in requests],
            "amounts": [_amount(r.amount) for r in requests],
            "keys": [r.idempotency_key for r in requests]}, Receipt)

    def withdraw(self, user_id: int, asset: str, amount: Decimal,
                 idempotency_key: str) -> Withdrawal:
        """``exchange.withdraw``: freeze amount + fee and record a PENDING withdrawal."""
        withdrawal_id: int = self._scalar("withdraw", {  # by key: exact to retry
            "user_id": user_id, "asset": asset, "amount": _amount(amount),
            "idempotency_key": idempotency_key})
        return self.get_withdrawal(withdrawal_id)

    def complete_withdrawal(self, withdrawal_id: int,
                            external_ref: str | None = None) -> Withdrawal:
        """``exchange.complete_withdrawal``: pay out a PENDING withdrawal."""
        return self._one("complete_withdrawal",
                         {"withdrawal_id": withdrawal_id, "external_ref": external_ref},
                         Withdrawal)

    def cancel_withdrawal(self, withdrawal_id: int, reason: str | None = None) -> Withdrawal:
        """``exchange.cancel_withdrawal``: release a PENDING or REVIEW withdrawal."""
        return self._one("cancel_withdrawal",
                         {"withdrawal_id": withdrawal_id, "reason": reason}, Withdrawal)

    def get_withdrawal(self, withdrawal_id: int) -> Withdrawal:
        """``exchange.get_withdrawal``."""
        return self._one("get_withdrawal", {"withdrawal_id": withdrawal_id}, Withdrawal)

    def list_withdrawals(self, user_id: int | None = None,
                         status: WithdrawalStatus | str | None = None,
                         limit: int = 100) -> list[Withdrawal]:
        """``exchange.list_withdrawals``: newest first."""
        return self._all("list_withdrawals", {
            "user_id": user_id, "status": None if status is None else str(status),
            "limit": limit}, Withdrawal)

    def freeze(self, user_id: int, asset: str, amount: Decimal, reference_type: str,
               reference_id: int, idempotency_key: str) -> HoldRef:
        """``exchange.freeze``: hold available funds under a reference."""
        return self._one("freeze", {
            "user_id": user_id, "asset": asset, "amount": _amount(amount),
            "reference_type": reference_type, "reference_id": reference_id,
            "idempotency_key": idempotency_key}, HoldRef)

    def unfreeze(self, user_id: int, asset: str, amount: Decimal | None, reference_type: str,
                 reference_id: int, idempotency_key: str) -> HoldRef:
        """``exchange.unfreeze``: release (part of, or with ``None`` all of) a hold."""
        return self._one("unfreeze", {
            "user_id": user_id, "asset": asset, "amount": _amount(amount, allow_none=True),
            "reference_type": reference_type, "reference_id": reference_id,
            "idempotency_key": idempotency_key}, HoldRef)

    # --- reading --------------------------------------------------------------------------
    def balances(self, user_id: int) -> list[Balance]:
        """``exchange.balances``: the user's balance per asset."""
        return self._all("balances", {"user_id": user_id}, Balance)

    def balance_at(self, user_id: int, asset: str, at: datetime) -> BalanceAt:
        """``exchange.balance_at``: the balance at a time, from the journal."""
        return self._one("balance_at", {"user_id": user_id, "asset": asset, "at": at}, BalanceAt)

    def account_history(self, user_id: int, asset: str, from_time: datetime | None = None,
                        to_time: datetime | None = None, *, limit: int = 1000,
                        after_id: int | None = None,
                        before_id: int | None = None) -> list[HistoryEntry]:
        """``exchange.account_history``: the account's entries in [from_time, to_time),
        oldest first, at most ``limit``; ``after_id`` pages to later entries (pass the last
        entry_id of a page), ``before_id`` to earlier ones."""
        return self._all("account_history", {"user_id": user_id, "asset": asset,
                                             "from_time": from_time, "to_time": to_time,
                                             "limit": limit, "after_id": after_id,
                                             "before_id": before_id},
                         HistoryEntry)

    def reconcile(self) -> list[Discrepancy]:
        """``exchange.reconcile``: one row per broken invariant; empty when all hold."""
        return self._all("reconcile", None, Discrepancy)
