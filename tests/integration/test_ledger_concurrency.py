"""The ledger under real concurrency: 8 connections doing random deposits, transfers (single
and batched), freezes, unfreezes and withdrawals (request, complete, cancel) among 20 users on
2 assets for a bounded time. Afterwards reconcile() is empty, no balance is negative, every
asset is conserved (what users, fee and revenue accounts hold = deposits - paid-out
withdrawals, counted by the test itself), and no call failed with anything but a typed
refusal (no deadlock, no serialization failure). Also: two concurrent calls with one
idempotency key move the funds once."""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from pyexchange.api.ledger import TransferRequest
from pyexchange.client import Exchange
from pyexchange.errors import (
    CODES,
    ExchangeError,
    HoldExceeded,
    InsufficientFunds,
    UnknownHold,
    WithdrawalNotPending,
)
from tests.integration._ledger_support import (
    assert_ledger_invariants,
    external_balance,
    make_users,
)

DURATION = float(os.environ.get("PYEXCHANGE_LEDGER_STRESS_SECONDS", "12"))
THREADS = 8
ASSETS = {"CCA": 8, "CCB": 2}
# Refusals that random traffic is expected to meet; anything else fails the test.
EXPECTED = (InsufficientFunds, HoldExceeded, UnknownHold, WithdrawalNotPending)


def _amount(rng: random.Random, decimals: int, top: int) -> Decimal:
    return Decimal(rng.randint(1, top * 10**decimals)).scaleb(-decimals)


@pytest.mark.slow
def test_random_concurrent_movements_keep_every_invariant(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        users = make_users(conn, "cc", 20)
        for sym, dec in ASSETS.items():
            conn.execute("SELECT exchange.create_asset(%s, %s, 'CRYPTO', %s, 0, %s)",
                         (sym, sym, dec, Decimal(1).scaleb(-dec)))

    deposited: dict[str, Decimal] = defaultdict(Decimal)
    paid_out: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    unexpected: list[BaseException] = []
    lock = threading.Lock()
    open_withdrawals: list[int] = []
    holds: list[tuple[int, str, int]] = []
    deadline = time.monotonic() + DURATION

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        with Exchange(clone_dsn, min_size=1, max_size=1) as ex:
            while time.monotonic() < deadline:
                sym = rng.choice(list(ASSETS))
                dec = ASSETS[sym]
                user = rng.choice(users)
                op = rng.choices(["deposit", "transfer", "batch", "freeze", "unfreeze",
                                  "withdraw", "complete", "cancel", "replay"],
                                 [2, 6, 2, 2, 2, 2, 1, 1, 1])[0]
                try:
                    if op == "deposit":
                        amount = _amount(rng, dec, 100)
                        ex.deposit(user, sym, amount, str(uuid.uuid4()))
                        with lock:
                            deposited[sym] += amount
                    elif op == "transfer":
                        other = rng.choice([u for u in users if u != user])
                        ex.transfer(user, other, sym, _amount(rng, dec, 20), str(uuid.uuid4()))
                    elif op == "batch":
                        reqs = []
                        for _ in range(rng.randint(2, 4)):
                            a, b = rng.sample(users, 2)
                            reqs.append(TransferRequest(a, b, sym, _amount(rng, dec, 5),
                                                        str(uuid.uuid4())))
                        ex.transfers(reqs)
                    elif op == "freeze":
                        ref = rng.randint(1, 5)
                        ex.freeze(user, sym, _amount(rng, dec, 10), "STRESS", ref,
                                  str(uuid.uuid4()))
                        with lock:
                            holds.append((user, sym, ref))
                    elif op == "unfreeze":
                        with lock:
                            if not holds:
                                continue
                            h_user, h_sym, ref = rng.choice(holds)
                        amount = None if rng.random() < 0.3 else _amount(rng, ASSETS[h_sym], 3)
                        ex.unfreeze(h_user, h_sym, amount, "STRESS", ref, str(uuid.uuid4()))
                    elif op == "withdraw":
                        w = ex.withdraw(user, sym, _amount(rng, dec, 10), str(uuid.uuid4()))
                        with lock:
                            open_withdrawals.append(w.id)
                    elif op in ("complete", "cancel"):
                        with lock:
                            if not open_withdrawals:
                                continue
                            wid = rng.choice(open_withdrawals)
                        if op == "complete":
                            w = ex.complete_withdrawal(wid, f"tx-{wid}")
                            with lock:
                                paid_out[w.asset] += w.amount
                        else:
                            ex.cancel_withdrawal(wid, "stress")
                    else:  # replay: the same key and request twice, sequentially
                        other = rng.choice([u for u in users if u != user])
                        key = str(uuid.uuid4())
                        amount = _amount(rng, dec, 1)
                        first = ex.transfer(user, other, sym, amount, key)
                        again = ex.transfer(user, other, sym, amount, key)
                        assert first == again
                    with lock:
                        counts[op] += 1
                except EXPECTED:
                    with lock:
                        counts["refused"] += 1
                except BaseException as exc:
                    with lock:
                        unexpected.append(exc)
                    return

    with Exchange(clone_dsn, min_size=1, max_size=1) as ex:
        for u in users:
            for sym in ASSETS:
                amount = Decimal(1000)
                ex.deposit(u, sym, amount, f"seed-{u}-{sym}")
                deposited[sym] += amount

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DURATION + 60)
    assert not any(t.is_alive() for t in threads), "a worker hung (a lock wait that never ends?)"
    assert not unexpected, [f"{type(e).__name__}: {e}" for e in unexpected]
    assert counts["transfer"] > 50 and counts["deposit"] > 10, dict(counts)
    for name in ("batch", "freeze", "withdraw", "replay"):
        assert counts[name] > 0, dict(counts)

    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert_ledger_invariants(conn)
        for sym in ASSETS:
            # EXTERNAL holds minus what came in plus what went out.
            assert external_balance(conn, sym) == -(deposited[sym] - paid_out[sym]), sym
            inside = conn.execute(
                "SELECT sum(a.total_balance) FROM exchange.accounts a JOIN exchange.assets s "
                "ON s.id = a.asset_id WHERE s.symbol = %s AND a.kind <> 'EXTERNAL'",
                (sym,)).fetchone()
            assert inside is not None and inside[0] == deposited[sym] - paid_out[sym], sym


def _waits_until(release: Callable[[], None], call: Callable[[], None], message: str) -> None:
    """Runs ``call`` in a thread, checks that it is still waiting half a second later, then
    runs ``release`` (the commit it waits for) and lets it finish."""
    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.5)
    assert t.is_alive(), message
    release()
    t.join(10)


def test_concurrent_duplicate_key_moves_once(clone_dsn: str) -> None:
    """The second call with a key waits for the first; once it commits, the second returns
    the same journal id and moves nothing."""
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        a, b = make_users(conn, "dup", 2)
        conn.execute("SELECT exchange.create_asset('DUPA', 'dup', 'CRYPTO', 8)")
        conn.execute("SELECT exchange.deposit(%s, 'DUPA', 10, 'dup-seed')", (a,))
    first = psycopg.connect(clone_dsn)
    try:
        first_id = first.execute(
            "SELECT exchange.transfer(%s, %s, 'DUPA', 3, 'dup-key')", (a, b)).fetchone()
        result: dict[str, Any] = {}

        def second() -> None:
            with psycopg.connect(clone_dsn, autocommit=True) as conn:
                result["id"] = conn.execute(
                    "SELECT exchange.transfer(%s, %s, 'DUPA', 3, 'dup-key')", (a, b)).fetchone()

        _waits_until(first.commit, second, "the duplicate did not wait for the first call")
        assert result["id"] == first_id
    finally:
        first.close()
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT available FROM exchange.balances(%s)", (b,)).fetchone()
        assert row is not None and row[0] == 3
        assert_ledger_invariants(conn)


@pytest.mark.parametrize("movement", ["transfer", "freeze"])
def test_a_debit_that_waits_for_a_credit_sees_it(clone_dsn: str, movement: str) -> None:
    """A debit larger than the balance its statement's snapshot shows, but not than the
    balance after a concurrent credit it waits for (the account row is locked by the credit),
    goes through once the credit commits: the posting computes the new balance under the
    lock, not from the snapshot (which would refuse it, EX101, or fail the CHECK). (withdraw
    refuses early from what it reads, before any lock: it does not wait.)"""
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        a, b = make_users(conn, "wait" + movement, 2)
        conn.execute("SELECT exchange.create_asset('WTA', 'wait', 'CRYPTO', 8)")
        conn.execute("SELECT exchange.deposit(%s, 'WTA', 5, 'wait-seed')", (a,))
        conn.execute("SELECT exchange.deposit(%s, 'WTA', 1, 'wait-seed-b')", (b,))
    calls = {
        "transfer": ("SELECT exchange.transfer(%s, %s, 'WTA', 50, 'wait-debit')", (a, b)),
        "freeze": ("SELECT exchange.freeze(%s, 'WTA', 50, 'TEST', 1, 'wait-debit')", (a,)),
    }
    credit = psycopg.connect(clone_dsn)
    result: dict[str, Any] = {}
    try:
        credit.execute("SELECT exchange.deposit(%s, 'WTA', 100, 'wait-credit')", (a,))

        def debit() -> None:
            try:
                with psycopg.connect(clone_dsn, autocommit=True) as conn:
                    result["row"] = conn.execute(*calls[movement]).fetchone()
            except psycopg.Error as exc:
                result["error"] = exc

        _waits_until(credit.commit, debit, "the debit did not wait for the credit's lock")
        assert "error" not in result, result.get("error")
        assert result["row"] is not None
    finally:
        credit.close()
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT available, frozen FROM exchange.balances(%s) "
                           "WHERE asset = 'WTA'", (a,)).fetchone()
        assert row is not None and row[0] == 55 and row[1] == (0 if movement == "transfer" else 50)
        assert_ledger_invariants(conn)


def test_codes_are_typed() -> None:
    """Every refusal the stress test accepts is a project code."""
    for cls in EXPECTED:
        assert issubclass(cls, ExchangeError) and CODES[cls.sqlstate or ""] is cls
