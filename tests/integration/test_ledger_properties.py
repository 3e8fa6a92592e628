"""Property-based tests (hypothesis) of the ledger's refusals: random and hostile inputs (NaN,
infinities, negative, zero, too many decimals, huge, unknown user or asset, an inactive
asset, self-transfers, bad or reused idempotency keys) either succeed, leaving every
invariant true, or are refused with a typed project error and leave every ledger table
exactly as it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyexchange.client import Exchange
from pyexchange.errors import CODES, ExchangeError
from tests.conftest import Databases
from tests.integration._ledger_support import assert_ledger_invariants, ledger_state, make_users

pytestmark = pytest.mark.slow

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


class World:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.admin = psycopg.connect(dsn, autocommit=True)
        self.users = make_users(self.admin, "prop", 4)
        self.admin.execute("SELECT exchange.create_asset('PRA', 'prop A', 'CRYPTO', 8, 0.001, 0.0001)")
        self.admin.execute("SELECT exchange.create_asset('PRF', 'prop fiat', 'FIAT', 2, 1, 0.5)")
        self.admin.execute("SELECT exchange.create_asset('PRX', 'retired', 'CRYPTO', 8)")
        self.ex = Exchange(dsn, min_size=1, max_size=1)
        for u in self.users[:3]:
            for sym in ("PRA", "PRF", "PRX"):
                self.ex.deposit(u, sym, Decimal(100), f"prop-seed-{u}-{sym}")
        self.ex.freeze(self.users[0], "PRA", Decimal(5), "PROP", 1, "prop-seed-hold")
        self.ex.deposit(self.users[0], "PRA", Decimal(1), "prop-used-key")
        self.admin.execute("SELECT exchange.deactivate_asset('PRX')")

    def close(self) -> None:
        self.ex.close()
        self.admin.close()


@pytest.fixture(scope="module")
def world(databases: Databases, template_name: str) -> Iterator[World]:
    name = databases.create("pyx_ledger_prop", template=template_name)
    w = World(databases.dsn(name))
    try:
        yield w
    finally:
        w.close()
        databases.drop(name)


def _decimals() -> st.SearchStrategy[Decimal]:
    return st.one_of(
        st.sampled_from([Decimal("NaN"), Decimal("-NaN"), Decimal("Infinity"),
                         Decimal("-Infinity"), Decimal(0), Decimal("-0"), Decimal("-1"),
                         Decimal("1e18"), Decimal("1e-19"), Decimal("123456789012345678"),
                         Decimal("0.000000001"), Decimal("0.001"), Decimal("1e400"),
                         Decimal("1e-400"), Decimal("1E+131072")]),
        st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e20"),
                    max_value=Decimal("1e20"), places=None),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(200), places=2),
        st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(50), places=8),
    )


def _user(world: World) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(world.users), st.sampled_from([0, -1, 2**62]))


ASSETS = st.sampled_from(["PRA", "PRF", "PRX", "NOPE", "pra", "", "PRA; DROP TABLE x"])
KEYS = st.one_of(st.just("prop-used-key"), st.sampled_from(["", "k" * 201]),
                 st.builds(lambda: str(uuid.uuid4())))
REFS = st.sampled_from([("PROP", 1), ("PROP", 2), ("prop", 1), ("", 1), ("X" * 41, 1)])


OUTCOMES: dict[str, int] = {"accepted": 0, "refused": 0}


def _call_and_check(world: World, call: Any) -> None:
    before = ledger_state(world.admin)
    try:
        call()
    except ExchangeError as exc:
        OUTCOMES["refused"] += 1
        assert exc.sqlstate is not None and exc.sqlstate.startswith("EX"), repr(exc)
        assert CODES[exc.sqlstate] is type(exc)
        assert ledger_state(world.admin) == before, f"{exc!r} changed the ledger"
    except TypeError:
        assert ledger_state(world.admin) == before
    else:
        OUTCOMES["accepted"] += 1
        assert_ledger_invariants(world.admin)


@SETTINGS
@given(data=st.data())
def test_deposit_refusals_are_typed_and_change_nothing(world: World, data: st.DataObject) -> None:
    user, asset, amount, key = (data.draw(_user(world)), data.draw(ASSETS),
                                data.draw(_decimals()), data.draw(KEYS))
    _call_and_check(world, lambda: world.ex.deposit(user, asset, amount, key))


@SETTINGS
@given(data=st.data())
def test_transfer_refusals_are_typed_and_change_nothing(world: World, data: st.DataObject) -> None:
    a, b = data.draw(_user(world)), data.draw(st.one_of(_user(world), st.just(world.users[0])))
    asset, amount, key = data.draw(ASSETS), data.draw(_decimals()), data.draw(KEYS)
    _call_and_check(world, lambda: world.ex.transfer(a, b, asset, amount, key))


@SETTINGS
@given(data=st.data())
def test_withdraw_and_hold_refusals_are_typed_and_change_nothing(
        world: World, data: st.DataObject) -> None:
    user, asset, amount, key = (data.draw(_user(world)), data.draw(ASSETS),
                                data.draw(_decimals()), data.draw(KEYS))
    rtype, rid = data.draw(REFS)
    op = data.draw(st.sampled_from(["withdraw", "freeze", "unfreeze"]))
    if op == "withdraw":
        _call_and_check(world, lambda: world.ex.withdraw(user, asset, amount, key))
    elif op == "freeze":
        _call_and_check(world, lambda: world.ex.freeze(user, asset, amount, rtype, rid, key))
    else:
        _call_and_check(world, lambda: world.ex.unfreeze(user, asset, amount, rtype, rid, key))


@SETTINGS
@given(data=st.data())
def test_withdrawal_transitions_are_typed(world: World, data: st.DataObject) -> None:
    ids = [r[0] for r in world.admin.execute("SELECT id FROM exchange.withdrawals").fetchall()]
    wid = data.draw(st.one_of(st.sampled_from(ids or [1]), st.sampled_from([-1, 0, 2**62])))
    op = data.draw(st.sampled_from(["complete", "cancel"]))
    if op == "complete":
        _call_and_check(world, lambda: world.ex.complete_withdrawal(wid, "tx"))
    else:
        _call_and_check(world, lambda: world.ex.cancel_withdrawal(wid, "because"))


def test_floats_are_refused_before_the_database(world: World) -> None:
    before = ledger_state(world.admin)
    with pytest.raises(TypeError):
        world.ex.deposit(world.users[0], "PRA", 1.5, str(uuid.uuid4()))  # type: ignore[arg-type]
    assert ledger_state(world.admin) == before


def test_both_outcomes_were_exercised() -> None:
    """Runs after the properties above: they met both accepted and refused calls."""
    assert OUTCOMES["accepted"] >= 5 and OUTCOMES["refused"] >= 50, OUTCOMES
