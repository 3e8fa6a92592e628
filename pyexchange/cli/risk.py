"""CLI commands of the risk and clearing domain:

``pyexchange risk rule add|list|enable|disable``, ``pyexchange risk events [--status ...]``,
``pyexchange risk resolve ID``, ``pyexchange risk review WITHDRAWAL --approve|--reject``;
``pyexchange clearing run [--date D]``, ``pyexchange clearing report BATCH``,
``pyexchange clearing batches``, ``pyexchange clearing statement USER --date D [--csv]``.
Administrative commands need an acting user (``--as``). Rule JSON shapes: docs/risk.md.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from pyexchange.api.risk import (
    RiskAction,
    RiskEvent,
    RiskEventStatus,
    RiskLevel,
    RiskRule,
    RiskRuleType,
    SettlementBatch,
    SettlementReport,
)
from pyexchange.cli import AppContext, console, pass_app, print_table
from pyexchange.cli.output import Section, current_format, output_format, print_record
from pyexchange.cli.trading import _fmt
from pyexchange.cli.users import USER


def _json_object(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise click.BadParameter("must be a JSON object")
    return parsed


def _print_rules(rows: list[RiskRule]) -> None:
    print_table("risk rules", ["id", "name", "type", "conditions", "action", "level", "priority",
                               "active"],
                [(r.id, r.name, r.type, json.dumps(r.conditions, sort_keys=True),
                  r.action.value, r.level.value, r.priority, "yes" if r.is_active else "no")
                 for r in rows])


def _print_events(rows: list[RiskEvent]) -> None:
    print_table("risk events", ["id", "created", "user", "rule", "type", "level", "action",
                                "observed", "limit", "reference", "status", "note"],
                [(e.id, e.created_at.strftime("%Y-%m-%d %H:%M:%S"), e.user_id, e.rule_id,
                  e.type, e.level.value, e.action.value, e.details.get("observed"),
                  e.details.get("limit"),
                  f"{e.reference_type} {e.reference_id}" if e.reference_type else "",
                  e.status.value, e.resolution_note) for e in rows])


def _print_batches(rows: list[SettlementBatch]) -> None:
    print_table("settlement batches", ["id", "business date", "status", "trades", "cutoff",
                                       "attempts", "finished"],
                [(b.id, b.business_date, b.status.value, b.trades_count, b.cutoff_at,
                  b.attempts, b.finished_at) for b in rows])


def _print_report(r: SettlementReport) -> None:
    sections = [
        Section("pairs", ["pair", "trades", "volume", "quote volume", "base fees",
                          "base asset", "quote fees", "quote asset", "sweep journal"],
                [(p.symbol, p.trades_count, _fmt(p.volume), _fmt(p.quote_volume),
                  _fmt(p.base_fees), p.base_asset, _fmt(p.quote_fees), p.quote_asset,
                  p.sweep_journal_id) for p in r.pairs]),
        Section("users by asset", ["asset", "users", "bought", "sold", "fees paid", "net"],
                [(a.asset, a.users, _fmt(a.bought), _fmt(a.sold), _fmt(a.fees_paid),
                  _fmt(a.net)) for a in r.assets]),
        Section("discrepancies", ["id", "kind", "detail"],
                [(d.id, d.kind, d.detail) for d in r.discrepancies]),
    ]
    print_record(f"settlement batch {r.batch_id}", [
        ("batch", r.batch_id), ("business date", r.business_date), ("status", r.status.value),
        ("trades", r.trades_count), ("cutoff", r.cutoff_at), ("attempts", r.attempts)],
        sections if current_format() != "table" or r.discrepancies else sections[:2])


# --- pyexchange risk -----------------------------------------------------------------------
@click.group()
def risk() -> None:
    """Risk rules and events, and the review of withdrawals a rule held."""


@risk.group()
def rule() -> None:
    """Risk rules: add, list, enable, disable."""


@rule.command("add")
@click.argument("name")
@click.argument("type_", metavar="TYPE", type=click.Choice([t.value for t in RiskRuleType]))
@click.argument("conditions", callback=_json_object)
@click.option("--action", type=click.Choice([a.value for a in RiskAction]), required=True)
@click.option("--level", type=click.Choice([lv.value for lv in RiskLevel]), default="MEDIUM",
              show_default=True)
@click.option("--priority", type=int, default=100, show_default=True,
              help="Lower runs first.")
@click.option("--inactive", is_flag=True, help="Create it disabled.")
@output_format
@pass_app
def rule_add(app: AppContext, name: str, type_: str, conditions: dict[str, Any], action: str,
             level: str, priority: int, inactive: bool) -> None:
    """Add a rule: CONDITIONS is its JSON, e.g. '{"max_notional": "100000"}' (docs/risk.md)."""
    _print_rules([app.exchange.create_risk_rule(name, type_, conditions, {"action": action},
                                                level=level, priority=priority,
                                                is_active=not inactive)])


@rule.command("list")
@click.option("--active-only", is_flag=True)
@output_format
@pass_app
def rule_list(app: AppContext, active_only: bool) -> None:
    """The rules in evaluation order."""
    _print_rules(app.exchange.list_risk_rules(include_inactive=not active_only))


@rule.command("enable")
@click.argument("rule_id", type=int)
@output_format
@pass_app
def rule_enable(app: AppContext, rule_id: int) -> None:
    _print_rules([app.exchange.set_risk_rule_active(rule_id, True)])


@rule.command("disable")
@click.argument("rule_id", type=int)
@output_format
@pass_app
def rule_disable(app: AppContext, rule_id: int) -> None:
    _print_rules([app.exchange.set_risk_rule_active(rule_id, False)])


@risk.command("events")
@click.option("--status", type=click.Choice([s.value for s in RiskEventStatus]))
@click.option("--level", type=click.Choice([lv.value for lv in RiskLevel]))
@click.option("--user", "user_id", type=USER, help="Id or username.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@output_format
@pass_app
def risk_events(app: AppContext, status: str | None, level: str | None, user_id: int | None,
                limit: int) -> None:
    """Risk events, newest first."""
    _print_events(app.exchange.list_risk_events(user_id=user_id, level=level, status=status,
                                                limit=limit))


@risk.command("resolve")
@click.argument("event_id", type=int)
@click.option("--note", required=True, help="What was done (or why it is a false positive).")
@click.option("--dismiss", is_flag=True, help="Close it as DISMISSED (a false positive).")
@output_format
@pass_app
def risk_resolve(app: AppContext, event_id: int, note: str, dismiss: bool) -> None:
    """Close a risk event with a note."""
    _print_events([app.exchange.resolve_risk_event(event_id, note, dismiss=dismiss)])


@risk.command("review")
@click.argument("withdrawal_id", type=int)
@click.option("--approve/--reject", "approve", required=True)
@click.option("--note", required=True)
@pass_app
def risk_review(app: AppContext, withdrawal_id: int, approve: bool, note: str) -> None:
    """Approve (-> PENDING) or reject (cancelled) a withdrawal held for REVIEW."""
    ex = app.exchange
    w = (ex.approve_withdrawal(withdrawal_id, note) if approve
         else ex.reject_withdrawal(withdrawal_id, note))
    console.print(f"withdrawal {w.id}: {w.status.value} ({w.note})")


# --- pyexchange clearing -------------------------------------------------------------------
@click.group()
def clearing() -> None:
    """End-of-day clearing and settlement reports."""


def _yesterday() -> date:
    return (datetime.now(UTC) - timedelta(days=1)).date()


@clearing.command("run")
@click.option("--date", "business_date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The UTC business day (default: yesterday, UTC).")
@output_format
@pass_app
def clearing_run(app: AppContext, business_date: datetime | None) -> None:
    """Clear a business day (and earlier open days first). Exits 1 when a batch FAILED."""
    day = business_date.date() if business_date else _yesterday()
    batches = app.exchange.run_clearing(day)
    _print_batches(batches)
    if any(b.status.value == "FAILED" for b in batches):
        failed = next(b for b in batches if b.status.value == "FAILED")
        _print_report(app.exchange.settlement_report(failed.id))
        sys.exit(1)


@clearing.command("batches")
@click.option("--limit", type=click.IntRange(1, 1000), default=30, show_default=True)
@output_format
@pass_app
def clearing_batches(app: AppContext, limit: int) -> None:
    """The latest batches."""
    _print_batches(app.exchange.list_settlement_batches(limit))


@clearing.command("report")
@click.argument("batch_id", type=int)
@output_format
@pass_app
def clearing_report(app: AppContext, batch_id: int) -> None:
    """A batch's settlement report: pairs, users by asset, discrepancies."""
    _print_report(app.exchange.settlement_report(batch_id))


@clearing.command("statement")
@click.argument("user_id", metavar="USER", type=USER)
@click.option("--date", "business_date", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--csv", "as_csv", is_flag=True, help="The same as --format csv.")
@output_format
@pass_app
def clearing_statement(app: AppContext, user_id: int, business_date: datetime,
                       as_csv: bool) -> None:
    """A user's daily statement per asset."""
    lines = app.exchange.user_statement(user_id, business_date.date())
    columns = ["user_id", "business_date", "asset", "trades_count", "bought", "sold",
               "fees_paid", "net", "batch_id", "batch_status"]
    rows = [(s.user_id, s.business_date.isoformat(), s.asset, s.trades_count, _fmt(s.bought),
             _fmt(s.sold), _fmt(s.fees_paid), _fmt(s.net), s.batch_id or "",
             s.batch_status.value if s.batch_status else "") for s in lines]
    if as_csv:
        click.get_current_context().meta["pyexchange.output_format"] = "csv"
    print_table(f"statement of user {user_id} for {business_date.date()}", columns, rows)


COMMANDS: list[click.Command] = [risk, clearing]
