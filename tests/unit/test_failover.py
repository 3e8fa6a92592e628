"""The retry rules of :mod:`pyexchange.failover`: after a connection failure a call is
retried when nothing was committed, or when a repeat is exact; otherwise the caller is told
the outcome is unknown (EX070) or that the call was not applied (EX071)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import psycopg_pool
import pytest

from pyexchange.errors import DatabaseUnavailable, OutcomeUnknown
from pyexchange.failover import Attempt, is_connection_failure, is_exact_retry, run_with_failover


@pytest.mark.parametrize(("name", "params", "exact"), [
    ("deposit", {"idempotency_key": "k"}, True),
    ("transfer", {"idempotency_key": "k"}, True),
    ("transfers", {"keys": ["a", "b"]}, True),
    ("freeze", {}, True),
    ("get_order_book", {"symbol": "X"}, True),
    ("balances", {"user_id": 1}, True),
    ("place_order", {"client_order_id": "c-1"}, True),
    ("place_order", {"client_order_id": None}, False),
    ("place_orders", {"client_order_id": ["a", "b"]}, True),
    ("place_orders", {"client_order_id": ["a", None]}, False),
    ("place_orders", {"client_order_id": []}, False),
    ("cancel_order", {"user_id": 1, "order_id": 2}, False),
    ("complete_withdrawal", {"withdrawal_id": 1}, False),
    ("register_user", {}, False),
    ("authenticate", {}, False),
])
def test_which_calls_are_exact_to_retry(name: str, params: dict[str, object],
                                        exact: bool) -> None:
    assert is_exact_retry(name, params) is exact


def test_connection_failures_are_told_from_refusals() -> None:
    assert is_connection_failure(psycopg.OperationalError("server closed the connection"))
    assert is_connection_failure(psycopg_pool.PoolTimeout("no connection"))
    assert is_connection_failure(psycopg.errors.AdminShutdown("terminating"))
    assert is_connection_failure(psycopg.errors.ReadOnlySqlTransaction("read-only"))
    assert not is_connection_failure(psycopg.errors.UniqueViolation("dup"))
    assert not is_connection_failure(psycopg.errors.RaiseException("EX101"))
    assert not is_connection_failure(ValueError("x"))


def _flaky(failures: int, *, committing: bool,
           exc: Exception | None = None) -> tuple[list[int], Callable[[Attempt], str]]:
    calls: list[int] = []

    def attempt(state: Attempt) -> str:
        calls.append(1)
        if len(calls) <= failures:
            state.committing = committing
            raise exc or psycopg.OperationalError("server closed the connection unexpectedly")
        return "result"
    return calls, attempt


def test_failure_before_commit_is_retried_for_any_call() -> None:
    calls, attempt = _flaky(2, committing=False)
    retried: list[int] = []
    assert run_with_failover("cancel_order", {}, attempt, timeout=10,
                             on_retry=lambda: retried.append(1)) == "result"
    assert len(calls) == 3 and len(retried) == 2


def test_failure_while_committing_is_retried_only_when_exact() -> None:
    calls, attempt = _flaky(1, committing=True)
    assert run_with_failover("deposit", {"idempotency_key": "k"}, attempt,
                             timeout=10) == "result"
    assert len(calls) == 2
    calls, attempt = _flaky(1, committing=True)
    with pytest.raises(OutcomeUnknown) as unknown:
        run_with_failover("cancel_order", {"order_id": 1}, attempt,
                          timeout=10)
    assert unknown.value.sqlstate == "EX070" and len(calls) == 1


def test_retries_run_out_with_the_outcome_said() -> None:
    calls, attempt = _flaky(100, committing=False)
    with pytest.raises(DatabaseUnavailable) as not_applied:
        run_with_failover("deposit", {}, attempt, timeout=0)
    assert not_applied.value.sqlstate == "EX071" and len(calls) == 1
    calls, attempt = _flaky(100, committing=True)
    with pytest.raises(OutcomeUnknown):
        run_with_failover("deposit", {}, attempt, timeout=0.3)
    assert len(calls) >= 2


def test_a_refusal_is_never_retried() -> None:
    calls, attempt = _flaky(1, committing=False, exc=psycopg.errors.UniqueViolation("dup"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        run_with_failover("deposit", {}, attempt, timeout=10)
    assert len(calls) == 1
