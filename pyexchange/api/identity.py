"""The identity domain's methods of :class:`pyexchange.Exchange`: users, login, roles, KYC,
the audit log and database logins (see ``docs/security.md``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from psycopg.types.json import Jsonb

from pyexchange import crypto
from pyexchange.base import ClientBase
from pyexchange.errors import CODES, ExchangeError, InvalidCredentials
from pyexchange.queries import query


class UserStatus(enum.StrEnum):
    """``exchange.user_status``."""

    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


class KycStatus(enum.StrEnum):
    """``exchange.kyc_status``."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class KycAction(enum.StrEnum):
    """The actions ``exchange.kyc_limits`` governs."""

    DEPOSIT = "DEPOSIT"
    TRADE = "TRADE"
    WITHDRAW = "WITHDRAW"


@dataclass(frozen=True)
class User:
    """A row of ``exchange.user_profiles``: a user without the password hash."""

    id: int
    uuid: UUID
    username: str
    email: str
    first_name: str | None
    last_name: str | None
    phone: str | None
    status: UserStatus
    kyc_level: int
    last_login_at: datetime | None
    failed_login_attempts: int
    locked_until: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    roles: list[str]

    #: stored encrypted (pyexchange.crypto); the client decrypts it
    ENCRYPTED_FIELDS: ClassVar[dict[str, str]] = {"phone": crypto.PHONE}

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", UserStatus(self.status))


@dataclass(frozen=True)
class LoginResult:
    """What ``exchange.authenticate`` returns; :meth:`IdentityAPI.login` raises on refusal."""

    authenticated: bool
    error_code: str | None
    message: str | None
    user_id: int | None
    user_uuid: UUID | None
    username: str | None
    kyc_level: int | None
    last_login_at: datetime | None


@dataclass(frozen=True)
class KycVerification:
    """A row of ``exchange.kyc_verifications``."""

    id: int
    user_id: int
    requested_level: int
    status: KycStatus
    documents: dict[str, Any]
    reviewer_id: int | None
    review_note: str | None
    submitted_at: datetime
    reviewed_at: datetime | None

    #: stored encrypted (pyexchange.crypto); the client decrypts them
    ENCRYPTED_FIELDS: ClassVar[dict[str, str]] = {"documents": crypto.KYC_DOCUMENTS}

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", KycStatus(self.status))


@dataclass(frozen=True)
class KycLimit:
    """A row of ``exchange.kyc_limits`` (``asset_id`` None: every asset; ``daily_limit`` None:
    unlimited)."""

    level: int
    action: str
    asset_id: int | None
    allowed: bool
    daily_limit: Decimal | None


@dataclass(frozen=True)
class AuditEntry:
    """A row of ``exchange.audit_logs``."""

    id: int
    db_role: str
    app_user_id: int | None
    table_name: str
    operation: str
    entity_key: str | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    created_at: datetime


class IdentityAPI(ClientBase):
    """Users, login, roles and permissions, KYC, the audit log, database logins."""

    # --- users ---------------------------------------------------------------------------
    def register_user(
        self,
        username: str,
        email: str,
        password: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        phone: str | None = None,
    ) -> User:
        """``exchange.register_user``: a PENDING user with the trader role (password hashed
        with bcrypt in the database; the phone encrypted here, :mod:`pyexchange.crypto`)."""
        return self._one("register_user", {
            "username": username, "email": email, "password": password,
            "first_name": first_name, "last_name": last_name,
            "phone": self.cipher.seal_phone(phone)}, User)

    def bootstrap_admin(self, username: str, email: str, password: str) -> User:
        """``exchange.bootstrap_admin``: the first ACTIVE admin (database owner only)."""
        return self._one("bootstrap_admin",
                         {"username": username, "email": email, "password": password}, User)

    def activate_user(self, user_id: int) -> User:
        """``exchange.activate_user``: PENDING -> ACTIVE."""
        return self._one("activate_user", {"user_id": user_id}, User)

    def set_user_status(self, user_id: int, status: UserStatus | str,
                        reason: str | None = None) -> User:
        """``exchange.set_user_status``: suspend, reinstate or close (``user:suspend``)."""
        return self._one("set_user_status", {
            "user_id": user_id, "status": UserStatus(status).value, "reason": reason}, User)

    def get_user(self, user_id: int) -> User:
        """``exchange.get_user``: a profile by id."""
        return self._one("get_user", {"user_id": user_id}, User)

    def find_user(self, login: str) -> User:
        """``exchange.find_user``: a profile by username or email (case-insensitive)."""
        return self._one("find_user", {"login": login}, User)

    def update_user_profile(
        self,
        user_id: int,
        expected_version: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> User:
        """``exchange.update_user_profile``: None keeps a field, ``""`` clears it; raises
        :class:`~pyexchange.errors.StaleVersion` when ``expected_version`` is not current."""
        return self._one("update_user_profile", {
            "user_id": user_id, "expected_version": expected_version,
            "first_name": first_name, "last_name": last_name,
            "phone": self.cipher.seal_phone(phone),
            "email": email}, User)

    def authenticate(self, login: str, password: str) -> LoginResult:
        """``exchange.authenticate`` as it answers: refusals are in the result (the failed
        attempt is committed). See :meth:`login` for the raising form."""
        return self._one("authenticate", {"login": login, "password": password}, LoginResult)

    def login(self, login: str, password: str) -> LoginResult:
        """Authenticate, raising :class:`~pyexchange.errors.InvalidCredentials`,
        :class:`~pyexchange.errors.AccountLocked` or
        :class:`~pyexchange.errors.AccountNotActive` on refusal (after the failed attempt
        has been committed)."""
        result = self.authenticate(login, password)
        if not result.authenticated:
            code = result.error_code or InvalidCredentials.sqlstate or ""
            cls: type[ExchangeError] = CODES.get(code, InvalidCredentials)
            raise cls(result.message or "invalid login or password")
        return result

    def change_password(self, user_id: int, current_password: str, new_password: str) -> None:
        """``exchange.change_password`` (the user themselves)."""
        self._scalar("change_password", {"user_id": user_id,
                                         "current_password": current_password,
                                         "new_password": new_password})

    # --- roles and permissions -----------------------------------------------------------
    def grant_role(self, user_id: int, role: str) -> bool:
        """``exchange.grant_role`` (``role:grant``); True if newly granted."""
        return bool(self._scalar("grant_role", {"user_id": user_id, "role": role}))

    def revoke_role(self, user_id: int, role: str) -> bool:
        """``exchange.revoke_role`` (``role:grant``); True if the user had it."""
        return bool(self._scalar("revoke_role", {"user_id": user_id, "role": role}))

    def has_permission(self, user_id: int, resource: str, action: str) -> bool:
        """``exchange.has_permission``."""
        return bool(self._scalar("has_permission",
                                 {"user_id": user_id, "resource": resource, "action": action}))

    # --- KYC -----------------------------------------------------------------------------
    def submit_kyc(self, user_id: int, level: int,
                   documents: dict[str, Any] | None = None) -> KycVerification:
        """``exchange.submit_kyc``: ask for level 1 or 2 with documents (a JSON object of at
        most 64 kB), encrypted here (:mod:`pyexchange.crypto`): the database holds ciphertext
        only."""
        return self._one("submit_kyc", {"user_id": user_id, "level": level,
                                        "documents": Jsonb(self.cipher.seal_documents(documents))},
                         KycVerification)

    def approve_kyc(self, reviewer_id: int, verification_id: int,
                    note: str | None = None) -> KycVerification:
        """``exchange.approve_kyc`` (``kyc:review``)."""
        return self._one("approve_kyc", {"reviewer_id": reviewer_id,
                                         "verification_id": verification_id, "note": note},
                         KycVerification)

    def reject_kyc(self, reviewer_id: int, verification_id: int, note: str) -> KycVerification:
        """``exchange.reject_kyc`` (``kyc:review``; a note is required)."""
        return self._one("reject_kyc", {"reviewer_id": reviewer_id,
                                        "verification_id": verification_id, "note": note},
                         KycVerification)

    def list_kyc_verifications(self, user_id: int) -> list[KycVerification]:
        """``exchange.list_kyc_verifications``: the user's KYC history, newest first."""
        return self._all("list_kyc_verifications", {"user_id": user_id}, KycVerification)

    def set_kyc_limit(self, level: int, action: KycAction | str, asset_id: int | None,
                      allowed: bool, daily_limit: Decimal | None = None) -> KycLimit:
        """``exchange.set_kyc_limit`` (``kyc:limits``)."""
        return self._one("set_kyc_limit", {
            "level": level, "action": KycAction(action).value, "asset_id": asset_id,
            "allowed": allowed, "daily_limit": daily_limit}, KycLimit)

    # --- audit and database logins -------------------------------------------------------
    def audit_trail(self, entity: str, entity_id: str | int,
                    limit: int = 1000) -> list[AuditEntry]:
        """``exchange.audit_trail``: the audit log of one entity, oldest first."""
        return self._all("audit_trail", {"entity": entity, "entity_id": str(entity_id),
                                         "limit": limit}, AuditEntry)

    def create_login(self, name: str, kind: str, password: str | None) -> str:
        """``exchange.create_login``: a login role in one group by duty (``kind`` app, custody,
        worker, readonly, auditor, owner; docs/security.md). The password is turned into a
        SCRAM-SHA-256 verifier by libpq before it is sent. Needs CREATEROLE."""
        with self.connection() as conn:
            verifier = None
            if password:
                verifier = conn.pgconn.encrypt_password(
                    password.encode(), name.encode(), b"scram-sha-256").decode()
            row = conn.execute(query("create_login"),
                               {"name": name, "kind": kind, "password": verifier}).fetchone()
        return str(row[0]) if row else ""
