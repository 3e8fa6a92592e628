"""The plumbing every domain mixin of :mod:`pyexchange.api` shares: the pool, named
queries, rows mapped to frozen dataclasses, and error translation.

The mixins import :class:`ClientBase` from here; :mod:`pyexchange.client` only assembles
them into :class:`pyexchange.Exchange`, so no module imports back the one that imports it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg.rows import class_row, dict_row
from psycopg_pool import ConnectionPool

from pyexchange import crypto
from pyexchange.config import configured_dsn, resolve_dsn
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

    def _one(self, name: str, params: Params, row_type: type[T]) -> T:
        with self.connection() as conn, conn.cursor(row_factory=class_row(row_type)) as cur:
            cur.execute(query(name), params)
            row = cur.fetchone()
        if row is None:
            raise LookupError(f"query {name} returned no row")
        return self._reveal(row)

    def _all(self, name: str, params: Params, row_type: type[T]) -> list[T]:
        with self.connection() as conn, conn.cursor(row_factory=class_row(row_type)) as cur:
            cur.execute(query(name), params)
            rows = cur.fetchall()
        return [self._reveal(r) for r in rows]

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
        with self.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query(name), params)
            return cur.fetchall()

    def _scalar(self, name: str, params: Params = None) -> Any:
        with self.connection() as conn:
            row = conn.execute(query(name), params).fetchone()
            return None if row is None else row[0]
