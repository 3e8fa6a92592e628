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


class LedgerInvariantViolated(ExchangeError):
    """Internal guard: a movement that would break double entry (a bug, never user input)."""

    sqlstate = "EX010"


# --- EX1xx: ledger -----------------------------------------------------------------------
class InsufficientFunds(ExchangeError):
    sqlstate = "EX101"


# --- EX2xx: trading ----------------------------------------------------------------------

# --- EX3xx: identity and access ----------------------------------------------------------

# --- EX4xx: risk and clearing ------------------------------------------------------------

# --- EX5xx: events and notifications -----------------------------------------------------
class InvalidEvent(ExchangeError):
    """An event's aggregate type, event type, aggregate id or payload is malformed."""

    sqlstate = "EX501"


class InvalidCorrelationId(ExchangeError):
    """The session setting ``exchange.correlation_id`` is not a UUID."""

    sqlstate = "EX502"



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
