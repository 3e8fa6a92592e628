"""The risk and clearing domain's methods of :class:`pyexchange.Exchange`: risk rules, risk
events, the review of withdrawals a rule held, end-of-day clearing and its reports.

Every rule lives in the SQL functions (``functions/risk/*.sql``, docs/risk.md); these methods map
rows to frozen dataclasses and let refusals surface as the typed errors of
:mod:`pyexchange.errors` (``InvalidRiskRule`` with its ``field``, ``OrderRejectedByRisk``, ...).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from pyexchange.api.ledger import Withdrawal
from pyexchange.base import ClientBase


class RiskRuleType(enum.StrEnum):
    MAX_ORDER_NOTIONAL = "MAX_ORDER_NOTIONAL"
    PRICE_BAND = "PRICE_BAND"
    ORDER_RATE = "ORDER_RATE"
    MAX_OPEN_ORDERS = "MAX_OPEN_ORDERS"
    DAILY_WITHDRAWAL_LIMIT = "DAILY_WITHDRAWAL_LIMIT"
    LARGE_WITHDRAWAL_REVIEW = "LARGE_WITHDRAWAL_REVIEW"


class RiskAction(enum.StrEnum):
    REJECT = "REJECT"
    FLAG = "FLAG"
    REVIEW = "REVIEW"
    SUSPEND_USER = "SUSPEND_USER"


class RiskLevel(enum.StrEnum):
    """``exchange.risk_level``."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class RiskEventStatus(enum.StrEnum):
    """``exchange.risk_event_status``."""

    ACTIVE = "ACTIVE"
    RESOLVED = "RESOLVED"
    DISMISSED = "DISMISSED"


class BatchStatus(enum.StrEnum):
    """``exchange.batch_status``."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class RiskRule:
    id: int
    name: str
    type: str
    conditions: dict[str, Any]
    actions: dict[str, Any]
    level: RiskLevel
    is_active: bool
    priority: int
    scope: str
    action: RiskAction
    created_by: int | None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", RiskLevel(self.level))
        object.__setattr__(self, "action", RiskAction(self.action))


@dataclass(frozen=True)
class RiskEvent:
    id: int
    user_id: int | None
    rule_id: int | None
    type: str
    level: RiskLevel
    action: RiskAction
    details: dict[str, Any]
    reference_type: str | None
    reference_id: int | None
    status: RiskEventStatus
    resolution_note: str | None
    resolved_by: int | None
    resolved_at: datetime | None
    created_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", RiskLevel(self.level))
        object.__setattr__(self, "action", RiskAction(self.action))
        object.__setattr__(self, "status", RiskEventStatus(self.status))


@dataclass(frozen=True)
class SettlementBatch:
    id: int
    business_date: date
    status: BatchStatus
    trades_count: int
    cutoff_at: datetime
    attempts: int
    started_at: datetime
    finished_at: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", BatchStatus(self.status))


@dataclass(frozen=True)
class PairTotal:
    """One pair of a settlement report: volume and the fees it earned (and swept)."""

    symbol: str
    trades_count: int
    volume: Decimal
    quote_volume: Decimal
    base_asset: str
    base_fees: Decimal
    quote_asset: str
    quote_fees: Decimal
    sweep_journal_id: int | None


@dataclass(frozen=True)
class AssetTotal:
    """One asset of a settlement report: the users' totals (net = bought - sold - fees)."""

    asset: str
    users: int
    bought: Decimal
    sold: Decimal
    fees_paid: Decimal
    net: Decimal


@dataclass(frozen=True)
class SettlementDiscrepancy:
    id: int
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class SettlementReport:
    batch_id: int
    business_date: date
    status: BatchStatus
    trades_count: int
    cutoff_at: datetime
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    pairs: list[PairTotal] = field(default_factory=list)
    assets: list[AssetTotal] = field(default_factory=list)
    discrepancies: list[SettlementDiscrepancy] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", BatchStatus(self.status))
        object.__setattr__(self, "pairs", [
            PairTotal(symbol=p["symbol"], trades_count=int(p["trades_count"]),
                      volume=Decimal(p["volume"]), quote_volume=Decimal(p["quote_volume"]),
                      base_asset=p["base_asset"], base_fees=Decimal(p["base_fees"]),
                      quote_asset=p["quote_asset"], quote_fees=Decimal(p["quote_fees"]),
                      sweep_journal_id=p["sweep_journal_id"])
            if isinstance(p, dict) else p for p in self.pairs])
        object.__setattr__(self, "assets", [
            AssetTotal(asset=a["asset"], users=int(a["users"]), bought=Decimal(a["bought"]),
                       sold=Decimal(a["sold"]), fees_paid=Decimal(a["fees_paid"]),
                       net=Decimal(a["net"]))
            if isinstance(a, dict) else a for a in self.assets])
        object.__setattr__(self, "discrepancies", [
            SettlementDiscrepancy(id=d["id"], kind=d["kind"], detail=d["detail"])
            if isinstance(d, dict) else d for d in self.discrepancies])


@dataclass(frozen=True)
class StatementLine:
    """One asset of a user's daily statement."""

    user_id: int
    business_date: date
    asset: str
    trades_count: int
    bought: Decimal
    sold: Decimal
    fees_paid: Decimal
    net: Decimal
    batch_id: int | None
    batch_status: BatchStatus | None

    def __post_init__(self) -> None:
        if self.batch_status is not None:
            object.__setattr__(self, "batch_status", BatchStatus(self.batch_status))


class RiskAPI(ClientBase):
    """Risk rules and events, withdrawal review, clearing and settlement reports."""

    # --- risk rules ---------------------------------------------------------------------
    def create_risk_rule(self, name: str, type: str, conditions: dict[str, Any],
                         actions: dict[str, Any], *, level: str = "MEDIUM",
                         priority: int = 100, is_active: bool = True) -> RiskRule:
        """``exchange.create_risk_rule`` (risk_rule:manage); the JSON is validated per type."""
        return self._one("create_risk_rule", {
            "name": name, "type": type, "conditions": Jsonb(conditions),
            "actions": Jsonb(actions), "level": level, "priority": priority,
            "is_active": is_active}, RiskRule)

    def update_risk_rule(self, rule_id: int, *, name: str | None = None,
                         conditions: dict[str, Any] | None = None,
                         actions: dict[str, Any] | None = None, level: str | None = None,
                         priority: int | None = None) -> RiskRule:
        """``exchange.update_risk_rule``: None keeps a field."""
        return self._one("update_risk_rule", {
            "rule_id": rule_id, "name": name,
            "conditions": None if conditions is None else Jsonb(conditions),
            "actions": None if actions is None else Jsonb(actions), "level": level,
            "priority": priority}, RiskRule)

    def set_risk_rule_active(self, rule_id: int, active: bool) -> RiskRule:
        return self._one("set_risk_rule_active", {"rule_id": rule_id, "active": active}, RiskRule)

    def list_risk_rules(self, include_inactive: bool = True) -> list[RiskRule]:
        return self._all("list_risk_rules", {"include_inactive": include_inactive}, RiskRule)

    # --- risk events --------------------------------------------------------------------
    def list_risk_events(self, user_id: int | None = None, level: str | None = None,
                         status: str | None = None, limit: int = 100,
                         before_id: int | None = None) -> list[RiskEvent]:
        """Newest first (report:read)."""
        return self._all("list_risk_events", {
            "user_id": user_id, "level": level, "status": status, "limit": limit,
            "before_id": before_id}, RiskEvent)

    def resolve_risk_event(self, event_id: int, note: str, *, dismiss: bool = False) -> RiskEvent:
        """RESOLVED (or DISMISSED) with a note (risk_event:resolve)."""
        return self._one("resolve_risk_event",
                         {"event_id": event_id, "note": note, "dismiss": dismiss}, RiskEvent)

    def approve_withdrawal(self, withdrawal_id: int, note: str) -> Withdrawal:
        """A withdrawal in REVIEW becomes PENDING (withdrawal:approve)."""
        return self._one("approve_withdrawal", {"withdrawal_id": withdrawal_id, "note": note},
                         Withdrawal)

    def reject_withdrawal(self, withdrawal_id: int, note: str) -> Withdrawal:
        """A withdrawal in REVIEW is cancelled and its funds released (withdrawal:approve)."""
        return self._one("reject_withdrawal", {"withdrawal_id": withdrawal_id, "note": note},
                         Withdrawal)

    # --- clearing -----------------------------------------------------------------------
    def run_clearing(self, business_date: date) -> list[SettlementBatch]:
        """Clears the day (earlier open days first); the batches made or found, in date order."""
        return self._all("run_clearing", {"business_date": business_date}, SettlementBatch)

    def list_settlement_batches(self, limit: int = 30) -> list[SettlementBatch]:
        return self._all("list_settlement_batches", {"limit": limit}, SettlementBatch)

    def settlement_report(self, batch_id: int) -> SettlementReport:
        return self._one("settlement_report", {"batch_id": batch_id}, SettlementReport)

    def user_statement(self, user_id: int, business_date: date) -> list[StatementLine]:
        return self._all("user_statement", {"user_id": user_id, "business_date": business_date},
                         StatementLine)
