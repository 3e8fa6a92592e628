"""The notification worker: delivers PENDING EMAIL and WEBHOOK notifications.

Notifications are created in the database, in the transaction of the event that causes them
(``exchange._emit_event``); IN_APP ones are delivered by being stored. This worker claims the
others in batches (``exchange.claim_notifications``, ``FOR UPDATE SKIP LOCKED``, so several
workers share the work), delivers each one, and records the outcome in the same transaction:
SENT, or a failure counted in ``attempts`` with ``last_error`` and retried with exponential
backoff until ``max_attempts``, then FAILED. Delivery is at least once: a worker that dies
after sending but before committing sends again.

- EMAIL: through SMTP (``smtp_host``/``smtp_port``, optional STARTTLS and login), to the
  user's email, from ``smtp_from``.
- WEBHOOK: an HTTP POST of a JSON body to the user's endpoint, signed with HMAC-SHA256 over
  the exact body bytes with the endpoint's secret, in ``X-Exchange-Signature: sha256=<hex>``.
  The secret is stored encrypted (:mod:`pyexchange.crypto`): the worker decrypts it with the
  master key of its configuration (``master_keys``, else ``PYEXCHANGE_MASTER_KEY`` /
  ``PYEXCHANGE_MASTER_KEY_FILE``); without one a webhook fails (the error says why).
  Any 2xx answer is a delivery; anything else (a redirect included, or no answer within
  ``timeout``) a failure. Right before connecting, the host is resolved and refused when any
  of its addresses is not public, unless an admin allowed the host; the worker then connects
  to the address it checked (:mod:`pyexchange.webhooks`): DNS may have changed since the URL
  was set.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import signal
import smtplib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from types import FrameType
from typing import Any

import psycopg
from psycopg.rows import class_row

from pyexchange import crypto, webhooks
from pyexchange.crypto import MasterKeys
from pyexchange.errors import ConfigurationError, EncryptionKeyMissing, UnsafeWebhookUrl
from pyexchange.queries import query

log = logging.getLogger("pyexchange.notifier")

SIGNATURE_HEADER = "X-Exchange-Signature"


@dataclass(frozen=True)
class PendingNotification:
    id: int
    created_at: datetime
    user_id: int
    channel: str
    event_id: int | None
    subject: str
    body: str
    attempts: int
    email: str
    webhook_url: str | None
    webhook_secret: str | None


@dataclass(frozen=True)
class NotifierConfig:
    dsn: str
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "pyexchange <noreply@pyexchange.local>"
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    batch_size: int = 50
    max_attempts: int = 5
    base_delay: timedelta = timedelta(seconds=5)
    max_delay: timedelta = timedelta(hours=1)
    poll_interval: float = 2.0
    timeout: float = 10.0
    #: to decrypt webhook secrets; None: from the environment (pyexchange.crypto)
    master_keys: MasterKeys | None = None


@dataclass
class NotifierStats:
    sent: int = 0
    retried: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)

    def add(self, other: NotifierStats) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed.extend(other.failed)


def sign(secret: str, body: bytes) -> str:
    """The value of ``X-Exchange-Signature`` for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """For webhook receivers: is ``header`` the signature of ``body`` under ``secret``?"""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def webhook_body(n: PendingNotification) -> bytes:
    return json.dumps({
        "id": n.id, "user_id": n.user_id, "event_id": n.event_id, "subject": n.subject,
        "body": n.body, "created_at": n.created_at.isoformat(),
    }, separators=(",", ":")).encode()


class _Stop(Exception):
    pass


class Notifier:
    """``Notifier(config).run()`` until SIGTERM/SIGINT (after the batch in hand), or
    ``run(once=True)`` to deliver what is due and return."""

    def __init__(self, config: NotifierConfig) -> None:
        self.config = config
        self.stats = NotifierStats()
        self._stopping = False
        self._busy = False
        self._cipher: crypto.FieldCipher | None = None
        self._conn: psycopg.Connection[Any] | None = None

    # --- delivery -------------------------------------------------------------------------
    def send_email(self, n: PendingNotification) -> None:
        cfg = self.config
        msg = EmailMessage()
        msg["From"] = cfg.smtp_from
        msg["To"] = n.email
        msg["Subject"] = n.subject
        msg["Message-ID"] = f"<notification-{n.id}@pyexchange.local>"
        msg.set_content(n.body)
        with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.timeout) as smtp:
            if cfg.smtp_starttls:
                smtp.starttls()
            if cfg.smtp_user:
                smtp.login(cfg.smtp_user, cfg.smtp_password or "")
            smtp.send_message(msg)

    def _secret(self, stored: str) -> str:
        """The webhook secret in clear, decrypted with the worker's master key."""
        if self._cipher is None:

            def list_keys() -> list[crypto.DataKey]:
                assert self._conn is not None  # the connection of the batch in hand
                with self._conn.cursor(row_factory=class_row(crypto.DataKey)) as cur:
                    cur.execute(query("list_data_keys"))
                    return cur.fetchall()

            def create_key(_wrapped: bytes, _master_id: str) -> int:
                raise EncryptionKeyMissing("the notification worker only decrypts")

            self._cipher = crypto.FieldCipher(
                self.config.master_keys or MasterKeys.load(), list_keys, create_key)
        if crypto.is_envelope(stored) and self._cipher.master is None:
            raise EncryptionKeyMissing(
                "the webhook secret is encrypted and the worker has no master key",
                hint=f"Set {crypto.ENV_KEY} or {crypto.ENV_KEY_FILE} for the worker.")
        return self._cipher.decrypt(crypto.WEBHOOK_SECRET, stored)

    def send_webhook(self, n: PendingNotification, host_allowed: bool = False) -> None:
        """POST the notification; ``host_allowed``: an admin allowed the URL's host, which
        is then not refused for a non-public address."""
        if not n.webhook_url or not n.webhook_secret:
            raise RuntimeError("the user has no active webhook endpoint")
        body = webhook_body(n)
        secret = self._secret(n.webhook_secret)
        status = webhooks.post(n.webhook_url, body, {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body),
            "X-Exchange-Notification-Id": str(n.id),
        }, allowed=host_allowed, timeout=self.config.timeout)
        if not 200 <= status < 300:
            raise RuntimeError(f"webhook answered HTTP {status}")

    def deliver(self, n: PendingNotification, host_allowed: bool = False) -> None:
        if n.channel == "EMAIL":
            self.send_email(n)
        elif n.channel == "WEBHOOK":
            self.send_webhook(n, host_allowed)
        else:
            raise RuntimeError(f"channel {n.channel} is not delivered by the worker")

    # --- batches --------------------------------------------------------------------------
    def deliver_batch(self, conn: psycopg.Connection[Any]) -> NotifierStats:
        """Claim, deliver and record one batch in one transaction."""
        cfg = self.config
        stats = NotifierStats()
        self._conn = conn
        with conn.transaction():
            with conn.cursor(row_factory=class_row(PendingNotification)) as cur:
                cur.execute(query("claim_notifications"), {"limit": cfg.batch_size})
                batch = cur.fetchall()
            sent: list[int] = []
            for n in batch:
                try:
                    self.deliver(n, self._host_allowed(conn, n))
                except (OSError, smtplib.SMTPException, http.client.HTTPException,
                        UnsafeWebhookUrl, EncryptionKeyMissing, RuntimeError, ValueError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    row = conn.execute(query("record_notification_failure"), {
                        "id": n.id, "error": error, "max_attempts": cfg.max_attempts,
                        "base_delay": cfg.base_delay, "max_delay": cfg.max_delay}).fetchone()
                    if row is not None and row[0] == "FAILED":
                        stats.failed.append((n.id, error))
                        log.error("notification %s (%s to user %s) FAILED after %s attempts: %s",
                                  n.id, n.channel, n.user_id, n.attempts + 1, error)
                    else:
                        stats.retried += 1
                        log.warning("notification %s attempt %s failed: %s", n.id,
                                    n.attempts + 1, error)
                else:
                    sent.append(n.id)
            if sent:
                conn.execute(query("mark_notifications_sent"), {"ids": sent})
                stats.sent = len(sent)
        return stats

    @staticmethod
    def _host_allowed(conn: psycopg.Connection[Any], n: PendingNotification) -> bool:
        """Is the webhook's host on the admin's allow-list (read at each delivery)?"""
        if n.channel != "WEBHOOK" or not n.webhook_url:
            return False
        try:
            host = webhooks.parse_url(n.webhook_url).host
        except UnsafeWebhookUrl:
            return False  # refused again, with the reason, by send_webhook
        row = conn.execute(query("webhook_host_allowed"), {"host": host}).fetchone()
        return bool(row and row[0])

    def drain(self, conn: psycopg.Connection[Any]) -> NotifierStats:
        total = NotifierStats()
        while not self._stopping:
            batch = self.deliver_batch(conn)
            total.add(batch)
            if batch.sent == 0 and batch.retried == 0 and not batch.failed:
                break
        return total

    # --- lifecycle ------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopping = True

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True
        if not self._busy:
            raise _Stop

    def _connect(self) -> tuple[psycopg.Connection[Any], psycopg.Connection[Any]]:
        conn = psycopg.connect(self.config.dsn, autocommit=True,
                               application_name="pyexchange-notifier")
        try:
            listen = psycopg.connect(self.config.dsn, autocommit=True,
                                     application_name="pyexchange-notifier-listen")
            listen.execute(query("listen_notifications"))
        except psycopg.Error:
            conn.close()
            raise
        return conn, listen

    def run(self, once: bool = False, install_signals: bool = False) -> NotifierStats:
        """Deliver until stopped (or, with ``once``, what is due now). A lost database
        session is reconnected with backoff; the first connection must succeed."""
        if install_signals:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        try:
            conns: tuple[psycopg.Connection[Any], psycopg.Connection[Any]] | None = \
                self._connect()
        except psycopg.OperationalError as exc:
            raise ConfigurationError(f"notifier cannot reach the database: {exc}") from exc
        delay = 0.5
        try:
            while not self._stopping:
                try:
                    if conns is None:
                        conns = self._connect()
                        log.warning("reconnected to the database")
                    if not self._cycle(*conns, once=once):
                        break
                    delay = 0.5
                except psycopg.OperationalError as exc:
                    self._busy = False
                    if once:
                        raise
                    log.error("database connection lost: %s; reconnecting in %.1f s", exc, delay)
                    for c in conns or ():
                        with contextlib.suppress(Exception):
                            c.close()
                    conns = None
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
        except _Stop:
            pass
        finally:
            for c in conns or ():
                with contextlib.suppress(Exception):
                    c.close()
        return self.stats

    def _cycle(self, conn: psycopg.Connection[Any], listen: psycopg.Connection[Any],
               once: bool) -> bool:
        """Drain, then sleep until woken. Returns False when the worker should stop."""
        self._busy = True
        self.stats.add(self.drain(conn))
        self._busy = False
        if once or self._stopping:
            return False
        # Register as sleeping (emitters NOTIFY only then), look once more, wait.
        listen.execute(query("register_listener"), {"channel": "exchange_notifications"})
        try:
            self._busy = True
            again = self.drain(conn)
            self._busy = False
            self.stats.add(again)
            if again.sent or again.retried or again.failed or self._stopping:
                return True
            for _ in listen.notifies(timeout=self.config.poll_interval, stop_after=1):
                break
        finally:
            with contextlib.suppress(psycopg.Error):
                listen.execute(query("unregister_listener"), {"channel": "exchange_notifications"})
        return True
