"""The ledger's Python and CLI doors: typed methods with frozen dataclasses and typed errors,
and `pyexchange asset|deposit|withdraw|transfer|balances|history|reconcile` (reconcile exits
1 when it finds a discrepancy)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from click.testing import CliRunner

from pyexchange.api.ledger import AssetType, TransferRequest, WithdrawalStatus
from pyexchange.cli import main as cli
from pyexchange.client import Exchange
from pyexchange.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    SelfTransfer,
    UnknownAsset,
    WithdrawalNotPending,
)
from tests.integration._ledger_support import assert_ledger_invariants, make_users

D = Decimal


def test_methods(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        a, b, c = make_users(conn, "lc", 3)
    with Exchange(clone_dsn) as ex:
        asset = ex.create_asset("LCA", "Client asset", AssetType.CRYPTO, 8, D("0.01"), D("0.001"))
        assert asset.type is AssetType.CRYPTO and asset.withdraw_fee == D("0.001")
        with pytest.raises(FrozenInstanceError):
            asset.symbol = "X"  # type: ignore[misc]
        assert [x.symbol for x in ex.list_assets()] == ["LCA"]
        first = ex.deposit(a, "LCA", D(10), "lc-d1")
        assert ex.deposit(a, "LCA", D("10.00"), "lc-d1") == first
        with pytest.raises(IdempotencyConflict):
            ex.deposit(a, "LCA", D(11), "lc-d1")
        with pytest.raises(InvalidAmount):
            ex.deposit(a, "LCA", D("0.000000001"), "lc-d2")
        with pytest.raises(UnknownAsset):
            ex.deposit(a, "NOPE", D(1), "lc-d3")
        t = ex.transfer(a, b, "LCA", D("2.5"), "lc-t1")
        assert t.journal_id > first.journal_id
        with pytest.raises(SelfTransfer):
            ex.transfer(a, a, "LCA", D(1), "lc-t2")
        with pytest.raises(InsufficientFunds):
            ex.transfer(b, c, "LCA", D(3), "lc-t3")
        batch = ex.transfers([TransferRequest(a, c, "LCA", D(1), "lc-b1"),
                              TransferRequest(c, b, "LCA", D("0.5"), "lc-b2")])
        assert len(batch) == 2 and batch[0].journal_id < batch[1].journal_id
        w = ex.withdraw(b, "LCA", D(1), "lc-w1")
        assert w.status is WithdrawalStatus.PENDING and w.asset == "LCA" and w.fee == D("0.001")
        assert ex.complete_withdrawal(w.id, "tx-1").status is WithdrawalStatus.COMPLETED
        with pytest.raises(WithdrawalNotPending):
            ex.cancel_withdrawal(w.id)
        hold = ex.freeze(a, "LCA", D(1), "MARGIN", 9, "lc-f1")
        assert ex.unfreeze(a, "LCA", None, "MARGIN", 9, "lc-u1") == hold
        balances = {x.asset: x for x in ex.balances(b)}
        assert balances["LCA"].available == D("1.999") and balances["LCA"].frozen == 0
        history = ex.account_history(b, "LCA")
        assert [h.type for h in history] == ["TRANSFER", "TRANSFER", "WITHDRAWAL_REQUEST",
                                             "WITHDRAWAL_REQUEST", "WITHDRAWAL"]
        now = ex.balance_at(b, "LCA", datetime.now(UTC) + timedelta(seconds=1))
        assert now.total == D("1.999")
        assert ex.balance_at(b, "LCA", datetime.now(UTC) - timedelta(days=1)).total == 0
        assert [w.id for w in ex.list_withdrawals(user_id=b)] == [w.id]
        assert ex.reconcile() == []
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert_ledger_invariants(conn)


def test_cli(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        a, b = make_users(conn, "lcc", 2)
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--dsn", clone_dsn, *args])
        return result.exit_code, result.output

    code, out = run("asset", "create", "LCC", "CLI coin", "--decimals", "2", "--min-withdraw",
                    "1", "--withdraw-fee", "0.5")
    assert code == 0 and "LCC" in out
    assert run("asset", "list")[0] == 0
    code, out = run("deposit", str(a), "LCC", "100", "--key", "cli-d1")
    assert code == 0 and "key cli-d1" in out
    assert run("transfer", str(a), str(b), "LCC", "25.5")[0] == 0
    code, out = run("transfer", str(a), str(a), "LCC", "1")
    assert code == 1 and "EX106" in out
    assert run("withdraw", str(b), "LCC", "10")[0] == 0

    def last_withdrawal() -> tuple[int, str]:
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            row = conn.execute("SELECT id, status::text FROM exchange.withdrawals "
                               "ORDER BY id DESC LIMIT 1").fetchone()
            assert row is not None
            return int(row[0]), str(row[1])

    wid, status = last_withdrawal()
    assert status == "PENDING"
    assert run("withdraw", "complete", str(wid), "--ref", "tx-9")[0] == 0
    assert last_withdrawal() == (wid, "COMPLETED")
    assert run("withdraw", "cancel", str(wid))[0] == 1
    code, out = run("balances", str(b))
    assert code == 0 and "15" in out
    code, out = run("history", str(b), "LCC")
    assert code == 0 and f"history of user {b} in LCC" in out
    code, out = run("reconcile")
    assert code == 0 and "every invariant holds" in out
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("UPDATE exchange.accounts SET available_balance = available_balance + 1 "
                     "WHERE user_id = %s", (a,))
    code, out = run("reconcile")
    assert code == 1 and "ASSET_NOT_ZERO" in out and "REPLAY_MISMATCH" in out
