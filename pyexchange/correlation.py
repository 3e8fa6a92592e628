"""Correlation ids: tie the events of one request together.

Inside ``with correlation(uuid):`` every transaction the client opens (in this thread or
task) sets ``exchange.correlation_id``, and every event those transactions emit carries it
(``exchange._emit_event``; the relay puts it in the message and the
``Exchange-Correlation-Id`` header)::

    with correlation():            # a new uuid4, or pass your request's id
        ex.place_order(...)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[uuid.UUID | None] = ContextVar("pyexchange_correlation_id", default=None)


def current_correlation_id() -> uuid.UUID | None:
    return _current.get()


@contextmanager
def correlation(correlation_id: uuid.UUID | str | None = None) -> Iterator[uuid.UUID]:
    """Set the correlation id for the client calls made inside the block."""
    value = uuid.UUID(str(correlation_id)) if correlation_id is not None else uuid.uuid4()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)
