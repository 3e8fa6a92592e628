"""The plumbing every domain mixin of :mod:`pyexchange.api` shares: the pool, named
queries, rows mapped to frozen dataclasses, and error translation.

The mixins import :class:`ClientBase` from here; :mod:`pyexchange.client` only assembles
them into :class:`pyexchange.Exchange`, so no module imports back the one that imports it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool

from pyexchange.config import resolve_dsn
from pyexchange.correlation import current_correlation_id
from pyexchange.errors import translating
from pyexchange.queries import query

T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any] | None


class ClientBase:
    """Pool, named queries and typed rows."""

    def __init__(
        self,
        dsn: str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 4,
        acting_user_id: int | None = None,
    ) -> None:
        self.dsn = resolve_dsn(dsn)
        self.acting_user_id = acting_user_id
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.dsn,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True},
            open=True,
        )

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection inside one transaction, with the acting user set."""
        with translating(), self.pool.connection() as conn, conn.transaction():
            if self.acting_user_id is not None:
                conn.execute(
                    "SELECT set_config('exchange.acting_user_id', %s, true)",
                    (str(self.acting_user_id),),
                )
            if (correlation_id := current_correlation_id()) is not None:
                conn.execute("SELECT set_config('exchange.correlation_id', %s, true)",
                             (str(correlation_id),))
            yield conn

    def _call_one(self, name: str, params: Params, row_type: type[T]) -> T:
        """A procedure that commits inside (``CALL``): run outside any transaction block on a
        pooled connection, with the acting user and correlation id as session settings for
        the call (the procedure reads them at its start), reset afterwards."""
        settings = {"exchange.acting_user_id": self.acting_user_id,
                    "exchange.correlation_id": current_correlation_id()}
        with translating(), self.pool.connection() as conn:
            try:
                for key, value in settings.items():
                    if value is not None:
                        conn.execute("SELECT set_config(%s, %s, false)", (key, str(value)))
                with conn.cursor(row_factory=class_row(row_type)) as cur:
                    cur.execute(query(name), params)
                    row = cur.fetchone()
            finally:
                for key, value in settings.items():
                    if value is not None:
                        conn.execute("SELECT set_config(%s, '', false)", (key,))
            if row is None:
                raise LookupError(f"query {name} returned no row")
            return row

    def _one(self, name: str, params: Params, row_type: type[T]) -> T:
        with self.connection() as conn, conn.cursor(row_factory=class_row(row_type)) as cur:
            cur.execute(query(name), params)
            row = cur.fetchone()
            if row is None:
                raise LookupError(f"query {name} returned no row")
            return row

    def _all(self, name: str, params: Params, row_type: type[T]) -> list[T]:
        with self.connection() as conn, conn.cursor(row_factory=class_row(row_type)) as cur:
            cur.execute(query(name), params)
            return cur.fetchall()

    def _dicts(self, name: str, params: Params = None) -> list[dict[str, Any]]:
        with self.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query(name), params)
            return cur.fetchall()

    def _scalar(self, name: str, params: Params = None) -> Any:
        with self.connection() as conn:
            row = conn.execute(query(name), params).fetchone()
            return None if row is None else row[0]
