"""Application-level encryption methods of :class:`pyexchange.Exchange`: the data keys and
their rotation (:mod:`pyexchange.crypto`; docs/security.md)."""

from __future__ import annotations

from pyexchange import crypto
from pyexchange.base import ClientBase
from pyexchange.errors import EncryptionKeyMissing


class KeysAPI(ClientBase):
    """Data keys: list, rotate (re-wrap under the current master key), encrypt for psql."""

    def list_data_keys(self) -> list[crypto.DataKey]:
        """``exchange.list_data_keys``: every data key, wrapped, oldest first."""
        return self._all("list_data_keys", None, crypto.DataKey)

    def rotate_data_keys(self) -> list[crypto.Rewrapped]:
        """Re-wrap every data key under the current master key (``exchange.rewrap_data_key``,
        admin: ``encryption_key:manage``, or a DBA); the encrypted values are unchanged."""
        master = self.cipher.master
        if master is None:
            raise EncryptionKeyMissing("no master key configured: nothing to rotate to",
                                       hint=f"Set {crypto.ENV_KEY} or {crypto.ENV_KEY_FILE}.")

        def rewrap(key_id: int, wrapped: bytes, to: str, expected: str) -> None:
            self._scalar("rewrap_data_key", {"id": key_id, "wrapped_key": wrapped,
                                             "master_key_id": to,
                                             "expected_master_key_id": expected})

        done = crypto.rotate(master, self.list_data_keys(), rewrap)
        self._cipher = None  # unwrapped keys and the current key are looked up again
        return done

    def reload_master_keys(self) -> None:
        """Read the master keys again (after a key file changed)."""
        self._cipher = None
