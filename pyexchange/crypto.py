"""Application-level encryption of sensitive fields (envelope encryption, AES-256-GCM).

Phones (``users.phone``), KYC documents (``kyc_verifications.documents``) and webhook
secrets (``webhook_endpoints.secret``) are encrypted here, in the client, before they reach
the database, which stores and returns ciphertext only (a DBA's SELECT shows no plaintext;
the tables' CHECKs refuse anything else).

* A **master key** (32 random bytes) never reaches the database. It comes from
  ``PYEXCHANGE_MASTER_KEY`` (``base64`` or ``id:base64``; several comma-separated, the last
  one current), else from the key file ``PYEXCHANGE_MASTER_KEY_FILE`` (one ``id:base64`` a
  line, the last current), else, for the embedded server only, from ``<home>/master.key``,
  made on first use (mode 0600). With none, storing one of these fields raises
  :class:`~pyexchange.errors.EncryptionKeyMissing` (an external database never gets them in
  clear), and reading returns the ciphertext unchanged.
* **Data keys** (32 random bytes each) encrypt the values. Each is stored in
  ``exchange.data_keys`` wrapped (AES-256-GCM) by a master key, with that master key's id.
* A value is the envelope ``pyxenc:1:<data key id>:<base64url(nonce || ciphertext+tag)>``,
  authenticated with its field's name (a phone cannot be pasted in as a webhook secret).
* ``pyexchange keys rotate`` re-wraps every data key under the current master key (add the
  new key first: ``--generate`` to the key file, or as the last entry of
  ``PYEXCHANGE_MASTER_KEY``); values are not rewritten, and the old master key can go once
  no data key names it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pyexchange.errors import EncryptionKeyMissing, InvalidKycDocuments, InvalidProfile

PREFIX = "pyxenc:1:"
ENV_KEY = "PYEXCHANGE_MASTER_KEY"
ENV_KEY_FILE = "PYEXCHANGE_MASTER_KEY_FILE"
KEY_FILE_NAME = "master.key"

#: The encrypted fields, by the name their envelopes are authenticated with.
PHONE = "users.phone"
KYC_DOCUMENTS = "kyc_verifications.documents"
WEBHOOK_SECRET = "webhook_endpoints.secret"
FIELDS = (PHONE, KYC_DOCUMENTS, WEBHOOK_SECRET)

_ENVELOPE = re.compile(r"^pyxenc:1:([0-9]{1,10}):([A-Za-z0-9_-]{38,})$")
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{4,20}$")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def is_envelope(value: object) -> bool:
    return isinstance(value, str) and _ENVELOPE.match(value) is not None


@dataclass(frozen=True)
class MasterKeys:
    """The master keys this process holds (id -> 32 bytes) and the current one's id."""

    keys: Mapping[str, bytes]
    current: str
    source: str

    @staticmethod
    def parse(text: str, source: str) -> MasterKeys:
        entries = [e.strip() for e in re.split(r"[,\n]", text)
                   if e.strip() and not e.strip().startswith("#")]
        keys: dict[str, bytes] = {}
        current = ""
        for entry in entries:
            key_id, _, b64 = entry.rpartition(":")
            try:
                key = base64.b64decode(b64, validate=True)
            except ValueError:
                key = b""
            if len(key) != 32:
                raise EncryptionKeyMissing(
                    f"a master key in {source} is not 32 bytes of base64",
                    hint="Make one with: pyexchange keys generate")
            key_id = key_id or "mk-" + hashlib.sha256(key).hexdigest()[:12]
            if not _KEY_ID.match(key_id):
                raise EncryptionKeyMissing(f"a master key id in {source} is malformed: {key_id!r}")
            keys[key_id] = key
            current = key_id
        if not keys:
            raise EncryptionKeyMissing(f"no master key in {source}")
        return MasterKeys(keys, current, source)

    @staticmethod
    def load(embedded_home: Path | None = None) -> MasterKeys | None:
        """From ``PYEXCHANGE_MASTER_KEY``, else ``PYEXCHANGE_MASTER_KEY_FILE``, else (the
        embedded server's home given) ``<home>/master.key``, made when missing; else None."""
        env = os.environ.get(ENV_KEY)
        if env:
            return MasterKeys.parse(env, ENV_KEY)
        path = os.environ.get(ENV_KEY_FILE)
        if path:
            return MasterKeys.parse(Path(path).read_text(encoding="utf-8"), path)
        if embedded_home is not None:
            file = embedded_home / KEY_FILE_NAME
            if not file.exists():
                append_new_key(file)
            return MasterKeys.parse(file.read_text(encoding="utf-8"), str(file))
        return None


def new_key_line() -> str:
    """A new master key as ``id:base64`` (for a key file or PYEXCHANGE_MASTER_KEY)."""
    key_id = f"mk-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


def append_new_key(file: Path) -> str:
    """Add a new (now current) master key to a key file, made 0600 if new; its id."""
    line = new_key_line()
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return line.split(":", 1)[0]


@dataclass(frozen=True)
class DataKey:
    id: int
    wrapped_key: bytes
    master_key_id: str


def _wrap(master: bytes, master_id: str, key: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(master).encrypt(nonce, key, b"pyexchange data key|" + master_id.encode())


def _unwrap(master: bytes, master_id: str, wrapped: bytes) -> bytes:
    return AESGCM(master).decrypt(wrapped[:12], wrapped[12:],
                                  b"pyexchange data key|" + master_id.encode())


class FieldCipher:
    """Encrypts and decrypts the sensitive fields with data keys kept in the database.

    ``list_keys()`` returns every data key (wrapped); ``create_key(wrapped, master_id)`` stores
    a new one and returns its id (admin or DBA only: docs/security.md)."""

    def __init__(self, master: MasterKeys | None, list_keys: Callable[[], list[DataKey]],
                 create_key: Callable[[bytes, str], int]) -> None:
        self.master = master
        self._list_keys = list_keys
        self._create_key = create_key
        self._plain: dict[int, bytes] = {}
        self._current: int | None = None

    def _require_master(self) -> MasterKeys:
        if self.master is None:
            raise EncryptionKeyMissing(
                "no master key: phones, KYC documents and webhook secrets are stored "
                "encrypted, and this client has no key to encrypt them with",
                hint=f"Set {ENV_KEY} or {ENV_KEY_FILE} (pyexchange keys generate makes one).")
        return self.master

    def _unwrap_row(self, row: DataKey) -> bytes:
        master = self._require_master()
        if row.master_key_id not in master.keys:
            raise EncryptionKeyMissing(
                f"data key {row.id} is wrapped by master key {row.master_key_id}, which this "
                f"client does not hold ({master.source})",
                hint="Configure that master key too, or run pyexchange keys rotate where it is.")
        try:
            return _unwrap(master.keys[row.master_key_id], row.master_key_id, row.wrapped_key)
        except InvalidTag:
            raise EncryptionKeyMissing(
                f"data key {row.id} does not open with master key {row.master_key_id}",
                hint="The configured key with this id is not the one that wrapped it.") from None

    def _key(self, key_id: int) -> bytes:
        if key_id not in self._plain:
            for row in self._list_keys():
                if row.id == key_id:
                    self._plain[key_id] = self._unwrap_row(row)
                    break
            else:
                raise EncryptionKeyMissing(f"no data key {key_id} in the database")
        return self._plain[key_id]

    def _current_key(self) -> tuple[int, bytes]:
        master = self._require_master()
        if self._current is None:
            # the newest data key that the current master key opens (one planted by someone
            # without the master key does not open, and is never used)
            for row in reversed(self._list_keys()):
                if row.master_key_id != master.current:
                    continue
                try:
                    self._plain[row.id] = self._unwrap_row(row)
                except EncryptionKeyMissing:
                    continue
                self._current = row.id
                break
            else:
                key = os.urandom(32)
                self._current = self._create_key(_wrap(master.keys[master.current],
                                                       master.current, key), master.current)
                self._plain[self._current] = key
        return self._current, self._plain[self._current]

    def encrypt(self, field: str, plaintext: str) -> str:
        key_id, key = self._current_key()
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), f"{field}|{key_id}".encode())
        return f"{PREFIX}{key_id}:{_b64e(nonce + sealed)}"

    def decrypt(self, field: str, envelope: str) -> str:
        """The plaintext; a value that is not an envelope, or that this client has no master
        key for (none configured), is returned as it is."""
        m = _ENVELOPE.match(envelope)
        if m is None or self.master is None:
            return envelope
        key_id = int(m.group(1))
        blob = _b64d(m.group(2))
        try:
            return AESGCM(self._key(key_id)).decrypt(
                blob[:12], blob[12:], f"{field}|{key_id}".encode()).decode()
        except InvalidTag:
            raise EncryptionKeyMissing(f"a {field} value does not decrypt (altered, or "
                                       "copied from another field)") from None

    # --- the three fields ------------------------------------------------------------------
    def seal_phone(self, phone: str | None) -> str | None:
        """Validate (EX312, as the database did before it stored ciphertext) and encrypt a
        phone; None keeps it and "" clears it (update_user_profile), as given."""
        if phone is None or phone == "":
            return phone
        if not _PHONE.match(phone):
            raise InvalidProfile("invalid profile field",
                                 detail="a phone is 4 to 20 digits, spaces, +, (, ), -")
        return self.encrypt(PHONE, phone)

    def seal_documents(self, documents: Mapping[str, Any] | None) -> dict[str, str]:
        """KYC documents (a JSON object of at most 64 kB, EX337) as ``{"ciphertext": ...}``;
        none as ``{}``."""
        if documents is None:
            documents = {}
        if not isinstance(documents, Mapping):
            raise InvalidKycDocuments("KYC documents must be a JSON object of at most 64 kB")
        if not documents:
            return {}
        text = json.dumps(documents, separators=(",", ":"), sort_keys=True)
        if len(text.encode()) > 65536:
            raise InvalidKycDocuments("KYC documents must be a JSON object of at most 64 kB")
        return {"ciphertext": self.encrypt(KYC_DOCUMENTS, text)}

    def open_documents(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        envelope = stored.get("ciphertext") if isinstance(stored, Mapping) else None
        if not isinstance(envelope, str) or len(stored) != 1:
            return dict(stored)
        plain = self.decrypt(KYC_DOCUMENTS, envelope)
        if plain == envelope:  # no master key here: leave the ciphertext
            return dict(stored)
        loaded = json.loads(plain)
        return loaded if isinstance(loaded, dict) else {"value": loaded}


@dataclass(frozen=True)
class Rewrapped:
    id: int
    from_master_key_id: str
    to_master_key_id: str


def rotate(master: MasterKeys, keys: list[DataKey],
           rewrap: Callable[[int, bytes, str, str], None]) -> list[Rewrapped]:
    """Re-wrap every data key that the current master key does not wrap; each needs the
    master key that wraps it now. Values are not touched."""
    done: list[Rewrapped] = []
    for row in keys:
        if row.master_key_id == master.current:
            continue
        if row.master_key_id not in master.keys:
            raise EncryptionKeyMissing(
                f"data key {row.id} is wrapped by master key {row.master_key_id}, which is not "
                f"configured ({master.source}): it cannot be re-wrapped",
                hint="Keep the old master key configured (before the new one) until rotated.")
        plain = _unwrap(master.keys[row.master_key_id], row.master_key_id, row.wrapped_key)
        rewrap(row.id, _wrap(master.keys[master.current], master.current, plain),
               master.current, row.master_key_id)
        done.append(Rewrapped(row.id, row.master_key_id, master.current))
    return done
