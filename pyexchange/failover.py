"""Riding through a failover: which calls may be retried after a connection failure, and
the retry loop the client runs them in.

A client call is one transaction (``BEGIN``, the acting user, one statement, ``COMMIT``),
or one ``CALL`` of a procedure that commits inside (``exchange.submit_order``: its commits
happen before its result reaches the client, so the whole CALL counts as "committing").
When the connection fails:

* before ``COMMIT`` was sent (no connection could be had, the server died during the
  statement, the node turned read-only): nothing was committed, so any call is retried,
  on a new connection, until ``failover_timeout`` runs out; then
  :class:`~pyexchange.errors.DatabaseUnavailable` (EX071) says it was **not** applied;
* while ``COMMIT`` was in flight: the transaction may or may not have committed. The call is
  retried only where a retry is exact: a read, a call with an idempotency key (deposit,
  transfer, transfers, withdraw, freeze, unfreeze: the same key returns the first call's result), an
  order with a ``client_order_id`` (the same id returns the original order; submit_order's
  too: a request it queued before the connection failed is placed before the retry, which
  then gets that order back). Any other write
  raises :class:`~pyexchange.errors.OutcomeUnknown` (EX070) at once, saying so; so does an
  exact call whose retries run out (a later retry with the same key or id is still exact).

A retried call that succeeds returns what the first successful commit returned; the caller
learns it was retried from the ``pyexchange.failover`` logger and from
``ClientBase.failover_retries``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import psycopg
import psycopg_pool

from pyexchange.errors import DatabaseUnavailable, OutcomeUnknown

log = logging.getLogger("pyexchange.failover")
T = TypeVar("T")

#: Named queries that only read: always exact to retry.
READ_QUERIES = frozenset({
    "partition_status", "table_row_counts", "outbox_stats", "list_notifications",
    "get_user", "find_user", "has_permission", "list_kyc_verifications", "audit_trail",
    "list_assets", "get_withdrawal", "list_withdrawals", "balances", "balance_at",
    "account_history", "reconcile", "list_risk_rules", "list_risk_events",
    "list_settlement_batches", "settlement_report", "user_statement", "get_trading_pairs",
    "get_orders", "get_order_book", "get_recent_trades", "get_klines", "get_ticker_24hr",
})

#: Market data reads, sent to the read DSN (a standby) when one is configured.
MARKET_DATA_QUERIES = frozenset({"get_order_book", "get_recent_trades", "get_klines",
                                 "get_ticker_24hr"})

#: Writes made exact by their idempotency key(s): the same key returns the first result.
KEYED_WRITES = frozenset({"deposit", "transfer", "transfers", "withdraw", "freeze",
                          "unfreeze"})

#: SQLSTATE classes and codes that mean the connection, not the statement, failed.
_CONNECTION_CLASSES = ("08",)
_CONNECTION_CODES = frozenset({
    "57P01",  # admin_shutdown (the node is being stopped or demoted)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (starting up, recovering)
    "25006",  # read_only_sql_transaction (a demoted node: nothing was written)
})


def is_exact_retry(name: str, params: Mapping[str, Any] | Any) -> bool:
    """Whether running the named query twice has the effect of running it once."""
    if name in READ_QUERIES or name in KEYED_WRITES:
        return True
    if not isinstance(params, Mapping):
        return False
    if name in ("place_order", "submit_order"):
        return params.get("client_order_id") is not None
    if name == "place_orders":
        ids = params.get("client_order_id") or []
        return bool(ids) and all(i is not None for i in ids)
    return False


def is_connection_failure(exc: BaseException) -> bool:
    """A psycopg error that says the connection (or the node behind it) failed."""
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    code = exc.sqlstate or ""
    if code.startswith(_CONNECTION_CLASSES) or code in _CONNECTION_CODES:
        return True
    # libpq reports a lost connection without a SQLSTATE ("server closed the connection
    # unexpectedly", "connection is lost", "consuming input failed").
    return isinstance(exc, psycopg.OperationalError) and not code


class Attempt:
    """Where one attempt got to (whether its ``COMMIT`` was sent), and what failed the
    attempt before it (None for the first)."""

    def __init__(self, previous: BaseException | None = None) -> None:
        self.committing = False
        self.previous = previous

    @property
    def first(self) -> bool:
        return self.previous is None


def run_with_failover(
    name: str,
    params: Any,
    attempt: Callable[[Attempt], T],
    *,
    timeout: float,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Run ``attempt`` (one transaction) and retry it after connection failures where that
    is exact, for at most ``timeout`` seconds; see the module docstring for the rules."""
    deadline = time.monotonic() + timeout
    exact = is_exact_retry(name, params)
    delay = 0.1
    tries = 0
    previous: BaseException | None = None
    while True:
        state = Attempt(previous)
        try:
            return attempt(state)
        except psycopg.Error as exc:
            if not is_connection_failure(exc):
                raise
            previous = exc
            tries += 1
            ambiguous = state.committing
            if ambiguous and not exact:
                raise OutcomeUnknown(
                    f"{name}: the connection failed while committing; the call may or may "
                    "not have been applied",
                    detail=f"{type(exc).__name__}: {str(exc).strip()[:300]}",
                    hint="Read the state back before repeating it (a repeat is not "
                         "idempotent); pass an idempotency key or client_order_id to make "
                         "calls safe to retry.") from exc
            if time.monotonic() + delay > deadline:
                if ambiguous:
                    raise OutcomeUnknown(
                        f"{name}: no writable server within {timeout:.0f} s after the "
                        "connection failed while committing; the call may have been applied",
                        detail=f"{type(exc).__name__}: {str(exc).strip()[:300]}",
                        hint="Repeat it with the same idempotency key or client_order_id: "
                             "that is exact (the first result comes back).") from exc
                raise DatabaseUnavailable(
                    f"{name}: no usable server within {timeout:.0f} s ({tries} attempt(s)); "
                    "the call was not applied",
                    detail=f"{type(exc).__name__}: {str(exc).strip()[:300]}",
                    hint="Check the formation (pyexchange ha status) or the DSN.") from exc
            log.warning("%s: connection failed (%s); retrying (%s)", name,
                        type(exc).__name__, "exact" if ambiguous else "not committed")
            if on_retry is not None:
                on_retry()
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
