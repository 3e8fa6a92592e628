"""The plumbing every domain mixin of :mod:`pyexchange.api` shares: the pool, named
queries, rows mapped to frozen dataclasses, and error translation.

The mixins import :class:`ClientBase` from here; :mod:`pyexchange.client` only assembles
them into :class:`pyexchange.Exchange`, so no module imports back the one that imports it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from pyexchange import crypto
from pyexchange.config import (
    PoolSettings,
    configured_dsn,
    configured_read_dsn,
    pool_settings_from_env,
    resolve_dsn,
)
from pyexchange.correlation import current_correlation_id
from pyexchange.errors import translating
from pyexchange.failover import (
    MARKET_DATA_QUERIES,
    Attempt,
    is_exact_retry,
    run_with_failover,
)
from pyexchange.queries import query

T = TypeVar("T")
Params = Sequence[Any] | Mapping[str, Any] | None


class ClientBase:
    """Pool, named queries and typed rows."""

    def __init__(
        self,
        dsn: str | None = None,
        *,
        min_size: int | None = None,
        max_size: int | None = None,
        acting_user_id: int | None = None,
        read_dsn: str | None = None,
        pool: PoolSettings | None = None,
    ) -> None:
        embedded = configured_dsn(dsn) is None
        self.dsn = resolve_dsn(dsn)
        self.acting_user_id = acting_user_id
        # application-level encryption: the embedded server's home holds a master key file
        # made on first use; an external database needs PYEXCHANGE_MASTER_KEY(_FILE)
        self._key_home: Path | None = None
        if embedded:
            from pyexchange.server import default_base_dir

            self._key_home = default_base_dir()
        self._cipher: crypto.FieldCipher | None = None
        self.pool_settings = (pool or pool_settings_from_env()).replace(
            min_size=min_size, max_size=max_size)
        self.pool = _make_pool(self.dsn, self.pool_settings)
        self.read_dsn = configured_read_dsn(read_dsn)
        self.read_pool = (None if self.read_dsn is None
                          else _make_pool(self.read_dsn, self.pool_settings, min_size=0))
        #: Calls retried after a connection failure (see :mod:`pyexchange.failover`).
        self.failover_retries = 0

    def close(self) -> None:
        self.pool.close()
        if self.read_pool is not None:
            self.read_pool.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection inside one transaction, with the acting user set."""
        with translating(), self.pool.connection() as conn, conn.transaction():
            self._set_transaction_context(conn)
            yield conn

    def _set_transaction_context(self, conn: psycopg.Connection[Any]) -> None:
        """The acting user and correlation id, transaction-local (``set_config(..., true)``):
        a pooled server connection (pgbouncer in transaction pooling) never carries them on
        to the next transaction."""
        if self.acting_user_id is not None:
            conn.execute(
                "SELECT set_config('exchange.acting_user_id', %s, true)",
                (str(self.acting_user_id),),
            )
        if (correlation_id := current_correlation_id()) is not None:
            conn.execute("SELECT set_config('exchange.correlation_id', %s, true)",
                         (str(correlation_id),))

    def _run(self, name: str, params: Params, work: Callable[[psycopg.Connection[Any]], T],
             *, procedure: bool = False) -> T:
        """One named query in one transaction, retried after a connection failure where that
        is exact (:func:`pyexchange.failover.run_with_failover`). Market data reads go to the
        read DSN when one is configured. A retry after a broken connection connects directly
        (the pool reconnects with a backoff of its own, up to seconds) while the pool refills
        in the background. ``procedure``: the query is a ``CALL`` of a procedure that commits
        inside, run outside any transaction block (:meth:`_procedure`)."""
        pool, dsn = self.pool, self.dsn
        if self.read_pool is not None and self.read_dsn and name in MARKET_DATA_QUERIES:
            pool, dsn = self.read_pool, self.read_dsn
        run = self._procedure if procedure else self._transaction
        exact = is_exact_retry(name, params)

        def attempt(state: Attempt) -> T:
            # the pool first, and again when all its connections were busy (no extra
            # connections under overload); after a broken connection, or when the pool
            # could not connect, a new connection directly
            if state.first or (isinstance(state.previous, PoolTimeout)
                               and pool.get_stats().get("pool_size", 0) >= pool.max_size):
                with pool.connection(timeout=self.pool_settings.timeout) as conn:
                    return run(conn, work, state, exact)
            with _connect(dsn, self.pool_settings) as conn:
                return run(conn, work, state, exact)

        def counted() -> None:
            self.failover_retries += 1

        with translating():
            return run_with_failover(name, params, attempt,
                                     timeout=self.pool_settings.failover_timeout,
                                     on_retry=counted)

    def _transaction(self, conn: psycopg.Connection[Any],
                     work: Callable[[psycopg.Connection[Any]], T], state: Attempt,
                     exact: bool) -> T:
        with conn.transaction():
            self._set_transaction_context(conn)
            result = work(conn)
            state.committing = True  # leaving the block sends COMMIT
        return result

    @staticmethod
    def _procedure(conn: psycopg.Connection[Any],
                   work: Callable[[psycopg.Connection[Any]], T], state: Attempt,
                   exact: bool) -> T:
        """A ``CALL`` outside any transaction block. The procedure commits inside, before its
        result reaches the client: from the moment the CALL is sent, a lost connection leaves
        the outcome unknown (``committing``), and only an exact call is retried. A call that
        is not exact first checks its connection (a pooled one may have died with its server),
        so that a dead connection is retried as not committed rather than reported unknown."""
        if not exact:
            conn.execute("SELECT 1")
        state.committing = True
        return work(conn)

    def _call_one(self, name: str, params: Mapping[str, Any], row_type: type[T]) -> T:
        """A procedure that commits inside (``CALL``), run outside any transaction block and
        retried after a connection failure where that is exact (an order with a
        ``client_order_id``: a retry returns the original order), like :meth:`_run`. The
        acting user and correlation id go in the CALL statement itself (its named query sets
        them transaction-local in the procedure's first transaction, where it reads them), so
        no setting outlives the call on the server connection (pgbouncer's transaction
        pooling hands that connection to another client next)."""
        correlation_id = current_correlation_id()
        bound = {**params,
                 "acting_user_id": (None if self.acting_user_id is None
                                    else str(self.acting_user_id)),
                 "correlation_id": None if correlation_id is None else str(correlation_id)}

        def work(conn: psycopg.Connection[Any]) -> T:
            with conn.cursor(row_factory=class_row(row_type)) as cur:
                cur.execute(query(name), bound)
                row = cur.fetchone()
            if row is None:
                raise LookupError(f"query {name} returned no row")
            return row
        return self._run(name, params, work, procedure=True)

    def _one(self, name: str, params: Params, row_type: type[T]) -> T:
        def work(conn: psycopg.Connection[Any]) -> T:
            with conn.cursor(row_factory=class_row(row_type)) as cur:
                cur.execute(query(name), params)
                row = cur.fetchone()
            if row is None:
                raise LookupError(f"query {name} returned no row")
            return row
        return self._reveal(self._run(name, params, work))

    def _all(self, name: str, params: Params, row_type: type[T]) -> list[T]:
        def work(conn: psycopg.Connection[Any]) -> list[T]:
            with conn.cursor(row_factory=class_row(row_type)) as cur:
                cur.execute(query(name), params)
                return cur.fetchall()
        return [self._reveal(r) for r in self._run(name, params, work)]

    # --- application-level encryption (pyexchange.crypto) --------------------------------
    @property
    def cipher(self) -> crypto.FieldCipher:
        """Encrypts phones, KYC documents and webhook secrets before they are sent, and
        decrypts them in the rows that come back (row types list them in
        ``ENCRYPTED_FIELDS``)."""
        if self._cipher is None:
            self._cipher = crypto.FieldCipher(
                crypto.MasterKeys.load(self._key_home),
                lambda: self._all("list_data_keys", None, crypto.DataKey),
                lambda wrapped, master_id: int(self._scalar(
                    "create_data_key", {"wrapped_key": wrapped, "master_key_id": master_id})))
        return self._cipher

    def _reveal(self, row: T) -> T:
        fields: Mapping[str, str] | None = getattr(type(row), "ENCRYPTED_FIELDS", None)
        if not fields:
            return row
        changes: dict[str, Any] = {}
        for attr, field in fields.items():
            value = getattr(row, attr)
            if crypto.is_envelope(value):
                changes[attr] = self.cipher.decrypt(field, value)
            elif isinstance(value, dict) and "ciphertext" in value:
                changes[attr] = self.cipher.open_documents(value)
        return dataclasses.replace(row, **changes) if changes else row  # type: ignore[type-var]

    def _dicts(self, name: str, params: Params = None) -> list[dict[str, Any]]:
        def work(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(query(name), params)
                return cur.fetchall()
        return self._run(name, params, work)

    def _scalar(self, name: str, params: Params = None) -> Any:
        def work(conn: psycopg.Connection[Any]) -> Any:
            row = conn.execute(query(name), params).fetchone()
            return None if row is None else row[0]
        return self._run(name, params, work)


def _connection_kwargs(settings: PoolSettings) -> dict[str, Any]:
    """What every connection of the client is opened with."""
    kwargs: dict[str, Any] = {"autocommit": True,
                              "prepare_threshold": settings.prepare_threshold}
    if settings.connect_timeout is not None:
        kwargs["connect_timeout"] = settings.connect_timeout
    return kwargs


def _make_pool(dsn: str, settings: PoolSettings,
               min_size: int | None = None) -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool for ``dsn`` sized and timed by ``settings``. ``open`` does not wait for the
    first connections, so a client can be made while the primary is failing over."""
    return ConnectionPool(
        dsn,
        min_size=settings.min_size if min_size is None else min_size,
        max_size=settings.max_size,
        timeout=settings.timeout,
        max_idle=settings.max_idle,
        kwargs=_connection_kwargs(settings),
        open=True,
    )


@contextmanager
def _connect(dsn: str, settings: PoolSettings) -> Iterator[psycopg.Connection[Any]]:
    """A direct connection (for a retry), closed afterwards."""
    conn = psycopg.connect(dsn, **_connection_kwargs(settings))
    try:
        yield conn
    finally:
        conn.close()
