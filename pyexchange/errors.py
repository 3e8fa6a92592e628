"""Typed errors: every project SQLSTATE (class ``EX``) maps to one exception class.

The table of codes lives in ``docs/errors.md``; ``CODES`` below is its Python side, and a test
checks that the two, and the codes raised in ``functions/``, agree. Errors raised by the
database reach callers as these classes, with the psycopg error kept as ``__cause__``.

Ranges: EX0xx foundation, EX1xx ledger, EX2xx trading, EX3xx identity and access,
EX4xx risk and clearing, EX5xx events and notifications.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


class ExchangeError(Exception):
    """Base class of every pyexchange error."""

    sqlstate: str | None = None

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        if sqlstate is not None:
            self.sqlstate = sqlstate

    def __str__(self) -> str:
        parts = [self.message]
        if self.detail:
            parts.append(f"DETAIL: {self.detail}")
        if self.hint:
            parts.append(f"HINT: {self.hint}")
        return "\n".join(parts)


class ConfigurationError(ExchangeError):
    """pyexchange cannot reach or start a database (no DSN, no server binaries, ...)."""


class MigrationError(ExchangeError):
    """The migrations folder or the migration state is not usable."""


class DatabaseError(ExchangeError):
    """A database error that is not one of the project's SQLSTATEs."""


# --- EX0xx: foundation -------------------------------------------------------------------
class InvalidArgument(ExchangeError):
    sqlstate = "EX001"


class PartitionMissing(ExchangeError):
    """A row's month has no partition (raised by PostgreSQL as 23514, translated here)."""

    sqlstate = "EX002"


class PartitionInUse(ExchangeError):
    sqlstate = "EX003"


class UnknownPartitionedTable(ExchangeError):
    """Retention named a table that is not a partitioned table of schema exchange."""

    sqlstate = "EX020"


class LedgerInvariantViolated(ExchangeError):
    """Internal guard: a movement that would break double entry (a bug, never user input)."""

    sqlstate = "EX010"


# --- EX06x: backups and restore (raised by the Python side: pgBackRest, pg_dump) ------------
class BackupNotConfigured(ExchangeError):
    """pgBackRest is missing, or its configuration or stanza is not usable."""

    sqlstate = "EX060"


class BackupFailed(ExchangeError):
    """A pgBackRest command (backup, info, check, ...) failed."""

    sqlstate = "EX061"


class BackupInvalid(ExchangeError):
    """``backup verify`` found a file of the repository that does not match its checksum."""

    sqlstate = "EX062"


class RestoreTargetNotEmpty(ExchangeError):
    """A restore would write over something: a non-empty directory or database."""

    sqlstate = "EX063"


class RestoreFailed(ExchangeError):
    """A restore (pgBackRest or pg_restore) failed, or the restored copy did not start."""

    sqlstate = "EX064"


class RestoreMismatch(ExchangeError):
    """The restored data differ from what was backed up (rows, reconcile, crossed book)."""

    sqlstate = "EX065"


class DumpIncompatible(ExchangeError):
    """Not a pyexchange dump, or a data-only dump whose migrations differ from the target's."""

    sqlstate = "EX066"


class RestoreNeedsSuperuser(ExchangeError):
    """A logical restore creates roles and superuser-only extensions (dblink)."""

    sqlstate = "EX067"


class OutcomeUnknown(ExchangeError):
    """Client side (issue 14): the connection failed while a write was committing and a retry
    would not be exact, or an exact call's retries ran out: it may or may not be applied."""

    sqlstate = "EX070"


class DatabaseUnavailable(ExchangeError):
    """Client side (issue 14): no usable server was reached within the failover timeout;
    the call was not applied."""

    sqlstate = "EX071"


# --- EX1xx: ledger -----------------------------------------------------------------------
class InsufficientFunds(ExchangeError):
    sqlstate = "EX101"


class UnknownUser(ExchangeError):
    sqlstate = "EX102"


class UnknownAsset(ExchangeError):
    sqlstate = "EX103"


class AssetInactive(ExchangeError):
    """The asset is deactivated: no deposits, transfers, holds or orders."""

    sqlstate = "EX104"


class InvalidAmount(ExchangeError):
    """Zero, negative, NaN, infinite, too large, or finer than the asset's decimals."""

    sqlstate = "EX105"


class SelfTransfer(ExchangeError):
    sqlstate = "EX106"


class BelowMinimumWithdrawal(ExchangeError):
    sqlstate = "EX107"


class IdempotencyConflict(ExchangeError):
    """The idempotency key was already used for another request."""

    sqlstate = "EX108"


class InvalidIdempotencyKey(ExchangeError):
    sqlstate = "EX109"


class AssetExists(ExchangeError):
    sqlstate = "EX110"


class InvalidAssetDefinition(ExchangeError):
    sqlstate = "EX111"


class UnknownWithdrawal(ExchangeError):
    sqlstate = "EX112"


class WithdrawalNotPending(ExchangeError):
    """The withdrawal is already completed or cancelled."""

    sqlstate = "EX113"


class WithdrawalUnderReview(ExchangeError):
    sqlstate = "EX114"


class UnknownHold(ExchangeError):
    sqlstate = "EX115"


class HoldExceeded(ExchangeError):
    """unfreeze asks for more than the hold still holds."""

    sqlstate = "EX116"


class InvalidReference(ExchangeError):
    sqlstate = "EX117"


class InvalidBatch(ExchangeError):
    """A transfer batch is empty, too large, or names an idempotency key twice."""

    sqlstate = "EX118"


# --- EX2xx: trading ----------------------------------------------------------------------
class UnknownTradingPair(ExchangeError):
    """The trading pair does not exist."""

    sqlstate = "EX201"


class TradingPairHalted(ExchangeError):
    """The pair is HALTED (it accepts cancels only)."""

    sqlstate = "EX202"


class InvalidOrderSide(ExchangeError):
    """The side is not BUY or SELL."""

    sqlstate = "EX203"


class InvalidOrderType(ExchangeError):
    """The type is not LIMIT, MARKET, STOP_LOSS, STOP_LOSS_LIMIT or LIMIT_MAKER."""

    sqlstate = "EX204"


class InvalidTimeInForce(ExchangeError):
    """The time in force is not GTC, IOC or FOK, or does not suit the order (LIMIT_MAKER is GTC only; a buy by quote amount cannot be FOK)."""

    sqlstate = "EX205"


class InvalidStpMode(ExchangeError):
    """The self-trade prevention mode is not EXPIRE_MAKER, EXPIRE_TAKER or EXPIRE_BOTH."""

    sqlstate = "EX206"


class PriceRequired(ExchangeError):
    """A LIMIT, LIMIT_MAKER or STOP_LOSS_LIMIT order has no price, or a stop order no stop price."""

    sqlstate = "EX207"


class PriceSuperfluous(ExchangeError):
    """A price, stop price or quote amount was given to an order type that takes none."""

    sqlstate = "EX208"


class InvalidOrderAmount(ExchangeError):
    """The amount (or quote amount) is missing, not positive or too large, or the client order id is malformed."""

    sqlstate = "EX209"


class InvalidPriceTick(ExchangeError):
    """A price or stop price is not positive or is finer than the pair's tick."""

    sqlstate = "EX210"


class InvalidAmountStep(ExchangeError):
    """An amount is finer than the pair's step (or a quote amount finer than the quote asset's decimals)."""

    sqlstate = "EX211"


class BelowMinAmount(ExchangeError):
    """The amount is below the pair's min_order_amount."""

    sqlstate = "EX212"


class BelowMinNotional(ExchangeError):
    """Price x amount (or the quote amount) is below the pair's min_notional."""

    sqlstate = "EX213"


class OrderWouldTakeLiquidity(ExchangeError):
    """A LIMIT_MAKER (post-only) order would cross the book."""

    sqlstate = "EX214"


class FillOrKillNotFillable(ExchangeError):
    """A FOK order cannot fill completely at once (nothing changed)."""

    sqlstate = "EX215"


class OrderNotFound(ExchangeError):
    """No such order of this user (another user's order reads as not found)."""

    sqlstate = "EX216"


class OrderNotOpen(ExchangeError):
    """The order is not open (filled, canceled or expired) and cannot be canceled."""

    sqlstate = "EX217"


class ClientOrderIdInFlight(ExchangeError):
    """A concurrent call claimed the same client order id; retry to get that order."""

    sqlstate = "EX218"


class UserCannotTrade(ExchangeError):
    """The user does not exist or is not ACTIVE."""

    sqlstate = "EX219"


class InvalidTradingPair(ExchangeError):
    """A trading pair's rules are invalid (symbol, precisions vs the assets' decimals, minimums, fee rates, STP mode), or an unknown pair status."""

    sqlstate = "EX220"


class TradingPairExists(ExchangeError):
    """A pair with that symbol or those two assets exists."""

    sqlstate = "EX221"


class UnknownPairAsset(ExchangeError):
    """Create_trading_pair names an unknown or inactive asset."""

    sqlstate = "EX222"


class InvalidKlineQuery(ExchangeError):
    """An unknown K-line interval or a bad limit."""

    sqlstate = "EX223"


class CombinedBatchTrial(ExchangeError):
    """Internal to submit_order: a combined batch met a risk rule's REJECT (never reaches a caller)."""

    sqlstate = "EX230"


class UnknownOrderRequest(ExchangeError):
    """submit_order's request is not in the inbox (never queued, or already answered)."""

    sqlstate = "EX231"



# --- EX3xx: identity and access ----------------------------------------------------------
class InvalidCredentials(ExchangeError):
    """Unknown login or wrong password (the same answer for both; ``authenticate`` returns it, the client raises it)."""

    sqlstate = "EX301"


class AccountLocked(ExchangeError):
    """The right password, but the user is locked after too many failed logins."""

    sqlstate = "EX302"


class AccountNotActive(ExchangeError):
    """The user (or the acting user) is not ACTIVE: PENDING, SUSPENDED or CLOSED."""

    sqlstate = "EX303"


class InvalidUsername(ExchangeError):
    """A username is not 3 to 50 letters, digits, ``_ . -`` starting with a letter or digit."""

    sqlstate = "EX304"


class InvalidEmail(ExchangeError):
    """An email is malformed or longer than 100 characters."""

    sqlstate = "EX305"


class WeakPassword(ExchangeError):
    """A new password is shorter than the minimum, longer than 72 bytes, or the username."""

    sqlstate = "EX306"


class UsernameTaken(ExchangeError):
    """The username is taken (case-insensitively)."""

    sqlstate = "EX307"


class EmailTaken(ExchangeError):
    """The email is registered (case-insensitively)."""

    sqlstate = "EX308"


class UserNotFound(ExchangeError):
    """No user has this id or login."""

    sqlstate = "EX309"


class InvalidStatusTransition(ExchangeError):
    """A user status change that is not allowed (CLOSED is final; see docs/security.md)."""

    sqlstate = "EX310"


class StaleVersion(ExchangeError):
    """``update_user_profile`` was given a version that is no longer current (optimistic locking)."""

    sqlstate = "EX311"


class InvalidProfile(ExchangeError):
    """A profile field (name, phone) is malformed."""

    sqlstate = "EX312"


class NotAuthenticated(ExchangeError):
    """An administrative call has no acting user (``exchange.acting_user_id`` unset), or the setting is malformed."""

    sqlstate = "EX320"


class PermissionDenied(ExchangeError):
    """The acting user lacks the resource:action permission the call needs."""

    sqlstate = "EX321"


class ActingUserMismatch(ExchangeError):
    """The user named in the call is not the acting user."""

    sqlstate = "EX322"


class RoleNotFound(ExchangeError):
    """No role has this name."""

    sqlstate = "EX323"


class LastAdmin(ExchangeError):
    """The call would leave no ACTIVE admin."""

    sqlstate = "EX324"


class AdminAlreadyExists(ExchangeError):
    """``bootstrap_admin`` when an ACTIVE admin exists."""

    sqlstate = "EX325"


class UnknownPermission(ExchangeError):
    """Internal: ``_require_permission`` was given a resource:action that does not exist (a bug in the caller)."""

    sqlstate = "EX326"


class InvalidKycLevel(ExchangeError):
    """A KYC submission for a level outside 1..2 or not above the user's level."""

    sqlstate = "EX330"


class KycAlreadyPending(ExchangeError):
    """The user already has a pending KYC verification."""

    sqlstate = "EX331"


class KycNotFound(ExchangeError):
    """No KYC verification has this id."""

    sqlstate = "EX332"


class KycNotPending(ExchangeError):
    """The KYC verification was already approved or rejected."""

    sqlstate = "EX333"


class KycSelfReview(ExchangeError):
    """A reviewer tried to approve or reject their own KYC verification."""

    sqlstate = "EX334"


class KycLevelInsufficient(ExchangeError):
    """The user's KYC level may not do this (e.g. level 0 trading or withdrawing)."""

    sqlstate = "EX335"


class KycLimitExceeded(ExchangeError):
    """The user's KYC daily limit for this action and asset would be passed."""

    sqlstate = "EX336"


class InvalidKycDocuments(ExchangeError):
    """KYC documents are not a JSON object or are larger than 64 kB."""

    sqlstate = "EX337"


class AuditLogAppendOnly(ExchangeError):
    """An UPDATE, DELETE or TRUNCATE of the audit log (it is append-only)."""

    sqlstate = "EX340"


class InvalidAuditEntity(ExchangeError):
    """``audit_trail`` was given a malformed entity name."""

    sqlstate = "EX341"


class InvalidLoginRole(ExchangeError):
    """``create_login`` was given a kind other than app, custody, worker, readonly, auditor,
    owner, or a malformed role name."""

    sqlstate = "EX350"


class UnknownActingUser(ExchangeError):
    """The acting user (``exchange.acting_user_id``) names no user; a user-scoped call is refused."""

    sqlstate = "EX360"


class FunctionNotGranted(ExchangeError):
    """The login's group may not execute this function (PostgreSQL raises 42501, translated
    here): e.g. an ``exchange_app`` login calling ``deposit`` or a worker's function."""

    sqlstate = "EX361"


class AuditGuardRemoved(ExchangeError):
    """A DDL command would drop the audit log or remove or disable one of its append-only
    guards (refused for the owner too)."""

    sqlstate = "EX380"


class UnsafeWebhookUrl(ExchangeError):
    """A webhook URL is not http(s), or its host is (or resolves to) a loopback, private,
    link-local, multicast, unspecified or reserved address and no admin allowed it."""

    sqlstate = "EX381"


class NotEncrypted(ExchangeError):
    """A phone, KYC documents or a webhook secret was given to the SQL API in plain text: these
    fields are stored as ciphertext only."""

    sqlstate = "EX382"


class EncryptionKeyMissing(ExchangeError):
    """The client has no master key for an encrypted field (none configured, or not the one
    that wrapped the value's data key)."""

    sqlstate = "EX383"



# --- EX4xx: risk and clearing ------------------------------------------------------------
class UnknownRiskRuleType(ExchangeError):
    """A risk rule's type is not one of the known types (docs/risk.md)."""

    sqlstate = "EX401"

    @property
    def field(self) -> str:
        return "type"


class InvalidRiskRule(ExchangeError):
    """A risk rule's field is malformed; :attr:`field` names it (``conditions.max_notional``)."""

    sqlstate = "EX402"

    @property
    def field(self) -> str | None:
        detail = self.detail or ""
        if detail.startswith("field "):
            return detail[len("field "):].split(":", 1)[0]
        return None


class UnknownRiskRule(ExchangeError):
    sqlstate = "EX403"


class OrderRejectedByRisk(ExchangeError):
    """A risk rule with action REJECT refused the order; its risk event was kept."""

    sqlstate = "EX404"


class WithdrawalRejectedByRisk(ExchangeError):
    """A risk rule with action REJECT refused the withdrawal; its risk event was kept."""

    sqlstate = "EX405"


class UserSuspendedByRisk(ExchangeError):
    """A SUSPEND_USER rule refused the call and suspended the user."""

    sqlstate = "EX406"


class UnknownRiskEvent(ExchangeError):
    sqlstate = "EX407"


class RiskEventClosed(ExchangeError):
    """The risk event is already RESOLVED or DISMISSED."""

    sqlstate = "EX408"


class RiskEventUnderReview(ExchangeError):
    """The risk event holds a withdrawal in REVIEW: approve or reject the withdrawal."""

    sqlstate = "EX409"


class WithdrawalNotUnderReview(ExchangeError):
    sqlstate = "EX410"


class InvalidRiskRequest(ExchangeError):
    """A missing note, an unknown level or status filter, a bad limit or statement argument."""

    sqlstate = "EX411"


class InvalidBusinessDate(ExchangeError):
    """Clearing was asked for no date or a day that has not begun (UTC)."""

    sqlstate = "EX421"


class UnknownSettlementBatch(ExchangeError):
    sqlstate = "EX422"


# --- EX5xx: events and notifications -----------------------------------------------------
class InvalidEvent(ExchangeError):
    """An event's aggregate type, event type, aggregate id or payload is malformed."""

    sqlstate = "EX501"


class InvalidCorrelationId(ExchangeError):
    """The session setting ``exchange.correlation_id`` is not a UUID."""

    sqlstate = "EX502"


class UnknownEventType(ExchangeError):
    sqlstate = "EX503"


class TemplatePlaceholderInvalid(ExchangeError):
    """A template placeholder is not a key of its event type's documented payload."""

    sqlstate = "EX504"


class NotificationNotFound(ExchangeError):
    sqlstate = "EX505"


class NotificationAccessDenied(ExchangeError):
    """The acting user is not the user whose notifications are asked for."""

    sqlstate = "EX506"



def _all_subclasses(cls: type[ExchangeError]) -> Iterator[type[ExchangeError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


#: SQLSTATE -> exception class, for every project code.
CODES: dict[str, type[ExchangeError]] = {
    c.sqlstate: c for c in _all_subclasses(ExchangeError) if c.sqlstate is not None
}


def translate(exc: psycopg.Error) -> ExchangeError:
    """The typed exception for a psycopg error (not raised; the caller raises it ``from``)."""
    diag = exc.diag
    code = exc.sqlstate or ""
    message = diag.message_primary or str(exc)
    cls: type[ExchangeError] | None = CODES.get(code)
    if cls is None and code == "23514" and message.startswith("no partition of relation"):
        cls = PartitionMissing
    if cls is None and code == "42501" and message.startswith("permission denied for function"):
        cls = FunctionNotGranted
    if cls is None:
        return DatabaseError(message, detail=diag.message_detail, hint=diag.message_hint,
                             sqlstate=code or None)
    return cls(message, detail=diag.message_detail, hint=diag.message_hint)


@contextmanager
def translating() -> Iterator[None]:
    """Re-raise psycopg errors as typed pyexchange errors, keeping the cause."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc
