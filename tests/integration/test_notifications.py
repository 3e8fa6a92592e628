"""Notifications: created from events, delivered by the worker through a real local SMTP
server (aiosmtpd) and a real local HTTP receiver (http.server), with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from aiosmtpd.controller import Controller

from pyexchange import Exchange, webhooks
from pyexchange.errors import (
    ActingUserMismatch,
    InvalidArgument,
    NotAuthenticated,
    PermissionDenied,
    TemplatePlaceholderInvalid,
    UnsafeWebhookUrl,
)
from pyexchange.notifier import SIGNATURE_HEADER, Notifier, NotifierConfig, verify_signature

SECRET = "a-webhook-secret-of-some-length"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpHandler:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = 0  # answer 451 to this many messages first

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, SmtpHandler]]:
    handler = SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # answers to give, then 200


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", state
    finally:
        server.shutdown()
        server.server_close()


def make_user(dsn: str, name: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("INSERT INTO exchange.users (username, email, password_hash, status) "
                           "VALUES (%s, %s, 'x', 'ACTIVE') RETURNING id", (name, f"{name}@example.com")
                           ).fetchone()
        assert row is not None
        return int(row[0])


def emit_activated(dsn: str, user_id: int, username: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT exchange._emit_event('user', %s, 'user_activated', %s::jsonb)",
                     (str(user_id), json.dumps({"user_id": user_id, "username": username})))


def notification_rows(dsn: str) -> list[tuple[str, str, int, str | None]]:
    with psycopg.connect(dsn) as conn:
        return [(c, s, a, e) for c, s, a, e in conn.execute(
            "SELECT channel::text, status::text, attempts, last_error FROM exchange.notifications "
            "ORDER BY id")]


def wait_until_due(dsn: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while True:
            row = conn.execute("SELECT coalesce(bool_and(next_attempt_at <= now()), true) FROM "
                               "exchange.notifications WHERE status = 'PENDING'").fetchone()
            if row and row[0]:
                return
            assert time.monotonic() < deadline, "the retry never came due"
            time.sleep(0.02)


@pytest.fixture
def worker_dsn(clone_dsn: str) -> Iterator[str]:
    """A DSN of a login that is only a member of exchange_worker (dropped after the test)."""
    import uuid

    from psycopg import sql

    role = f"pyx_notifier_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(clone_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE exchange_worker").format(
            sql.Identifier(role)))
    try:
        yield psycopg.conninfo.make_conninfo(clone_dsn, user=role)
    finally:
        with psycopg.connect(clone_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                          (role,))
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def notifier(dsn: str, **kw: Any) -> Notifier:
    return Notifier(NotifierConfig(dsn=dsn, base_delay=timedelta(milliseconds=20), timeout=5,
                                   **kw))


def test_email_is_sent_through_smtp_after_a_refusal(
        clone_dsn: str, smtp: tuple[int, SmtpHandler]) -> None:
    port, handler = smtp
    uid = make_user(clone_dsn, "mail_user")
    with Exchange(clone_dsn) as ex:
        ex.create_notification_template("user_activated", "EMAIL", "Welcome {{username}}",
                                        "Hello {{username}}, your account {{user_id}} is active.")
    emit_activated(clone_dsn, uid, "mail_user")
    handler.refuse = 1
    worker = notifier(clone_dsn, smtp_port=port, max_attempts=3)
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        first = worker.deliver_batch(conn)
        assert (first.sent, first.retried) == (0, 1)
        [(channel, status, attempts, error)] = notification_rows(clone_dsn)
        assert (channel, status, attempts) == ("EMAIL", "PENDING", 1) and error and "451" in error
        wait_until_due(clone_dsn)
        second = worker.deliver_batch(conn)
        assert (second.sent, second.retried) == (1, 0)
    assert notification_rows(clone_dsn) == [("EMAIL", "SENT", 2, None)]
    [envelope] = handler.messages
    assert envelope.rcpt_tos == ["mail_user@example.com"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "Welcome mail_user"
    assert f"your account {uid} is active" in message.get_payload()


def test_webhook_is_posted_signed_and_retried(
        clone_dsn: str, worker_dsn: str, receiver: tuple[str, Receiver]) -> None:
    """... by a notifier that logs in as a member of exchange_worker only."""
    url, state = receiver
    uid = make_user(clone_dsn, "hook_user")
    with Exchange(clone_dsn) as ex:
        # the receiver listens on 127.0.0.1: an admin's exception to the public-only rule
        assert ex.set_webhook_host_allowed("127.0.0.1") is True
        ex.set_webhook_endpoint(uid, url, SECRET)
        ex.create_notification_template("user_activated", "WEBHOOK", "activated",
                                        "{{username}} is active")
    emit_activated(clone_dsn, uid, "hook_user")
    state.statuses = [500]
    stats = notifier(worker_dsn, max_attempts=3).run(once=True)
    # --once retries what is due while it runs: the first answer is 500, then 200 once due.
    if stats.sent == 0:
        wait_until_due(clone_dsn)
        stats.add(notifier(worker_dsn, max_attempts=3).run(once=True))
    assert stats.sent == 1 and not stats.failed
    assert notification_rows(clone_dsn) == [("WEBHOOK", "SENT", 2, None)]
    assert len(state.requests) == 2
    headers, body = state.requests[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert verify_signature(SECRET, body, headers[SIGNATURE_HEADER])
    assert not verify_signature("another-secret-value", body, headers[SIGNATURE_HEADER])
    payload = json.loads(body)
    assert payload["user_id"] == uid and payload["body"] == "hook_user is active"


def test_delivery_fails_for_good_after_max_attempts(clone_dsn: str) -> None:
    uid = make_user(clone_dsn, "nomail_user")
    with Exchange(clone_dsn) as ex:
        ex.create_notification_template("user_activated", "EMAIL", "hi", "{{username}}")
    emit_activated(clone_dsn, uid, "nomail_user")
    worker = notifier(clone_dsn, smtp_port=free_port(), max_attempts=2)  # nobody listens
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert worker.deliver_batch(conn).retried == 1
        wait_until_due(clone_dsn)
        stats = worker.deliver_batch(conn)
    assert len(stats.failed) == 1
    [(channel, status, attempts, error)] = notification_rows(clone_dsn)
    assert (channel, status, attempts) == ("EMAIL", "FAILED", 2)
    assert error and "Connection" in error


def test_in_app_notifications_preferences_and_templates_through_the_client(clone_dsn: str) -> None:
    alice, bob = make_user(clone_dsn, "inapp_alice"), make_user(clone_dsn, "inapp_bob")
    with Exchange(clone_dsn) as ex:
        with pytest.raises(TemplatePlaceholderInvalid):
            ex.create_notification_template("user_activated", "IN_APP", "hi", "{{balance}}")
        ex.create_notification_template("user_activated", "IN_APP", "Welcome", "Hi {{username}}")
        ex.create_notification_template("user_activated", "EMAIL", "Welcome", "Hi {{username}}")
        ex.set_notification_preference(bob, "user_activated", "IN_APP", False)
        emit_activated(clone_dsn, alice, "inapp_alice")
        emit_activated(clone_dsn, bob, "inapp_bob")
        [note] = ex.list_notifications(alice, unread_only=True)
        assert (note.subject, note.body, note.event_type) == ("Welcome", "Hi inapp_alice",
                                                             "user_activated")
        assert ex.list_notifications(bob) == []  # bob turned IN_APP off
        assert ex.mark_notification_read(alice, note.id) == 1
        assert ex.list_notifications(alice, unread_only=True) == []
        assert ex.list_notifications(alice)[0].read_at is not None
    with Exchange(clone_dsn, acting_user_id=bob) as ex, pytest.raises(ActingUserMismatch):
        ex.list_notifications(alice)
    assert sorted(notification_rows(clone_dsn)) == [
        ("EMAIL", "PENDING", 0, None), ("EMAIL", "PENDING", 0, None), ("IN_APP", "SENT", 0, None)]


def test_worker_process_delivers_then_stops_cleanly_on_sigterm(
        clone_dsn: str, smtp: tuple[int, SmtpHandler]) -> None:
    import signal
    import subprocess
    import sys
    from pathlib import Path

    port, handler = smtp
    uid = make_user(clone_dsn, "proc_user")
    with Exchange(clone_dsn) as ex:
        ex.create_notification_template("user_activated", "EMAIL", "Hi", "{{username}}")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from pyexchange.cli import main; main()", "--dsn", clone_dsn,
         "notifications", "worker", "--smtp-port", str(port), "--poll-interval", "30"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Delivered by its first drain or, if it was already asleep, woken by the NOTIFY
        # (the 30 s poll is longer than the deadline).
        deadline = time.monotonic() + 20
        while not any(r[1] == "SENT" for r in notification_rows(clone_dsn)):
            if not notification_rows(clone_dsn):
                emit_activated(clone_dsn, uid, "proc_user")
            assert time.monotonic() < deadline, "the worker did not deliver"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"sent 1" in out
    assert len(handler.messages) == 1


def test_worker_reconnects_after_losing_its_database_sessions(
        clone_dsn: str, smtp: tuple[int, SmtpHandler]) -> None:
    port, handler = smtp
    uid = make_user(clone_dsn, "reconnect_user")
    with Exchange(clone_dsn) as ex:
        ex.create_notification_template("user_activated", "EMAIL", "Hi", "{{username}}")
    worker = notifier(clone_dsn, smtp_port=port, poll_interval=0.2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        with psycopg.connect(clone_dsn, autocommit=True) as admin:
            deadline = time.monotonic() + 20
            while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name "
                                "LIKE 'pyexchange-notifier%'").fetchone() != (2,):
                assert time.monotonic() < deadline, "the worker did not connect"
                time.sleep(0.05)
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND application_name LIKE 'pyexchange-notifier%'")
        emit_activated(clone_dsn, uid, "reconnect_user")
        deadline = time.monotonic() + 30
        while not any(r[1] == "SENT" for r in notification_rows(clone_dsn)):
            assert time.monotonic() < deadline, "the worker did not come back"
            time.sleep(0.05)
    finally:
        worker.stop()
        thread.join(15)
    assert not thread.is_alive()
    assert len(handler.messages) == 1


# --- webhook targets: public http(s) only, checked when set and again when sent ---------------

def test_a_webhook_host_no_longer_allowed_is_refused_when_sent(
        clone_dsn: str, receiver: tuple[str, Receiver]) -> None:
    url, state = receiver
    uid = make_user(clone_dsn, "rebind_user")
    with Exchange(clone_dsn) as ex:
        ex.set_webhook_host_allowed("127.0.0.1")
        ex.set_webhook_endpoint(uid, url, SECRET)
        ex.create_notification_template("user_activated", "WEBHOOK", "activated", "{{username}}")
        # what a DNS change does to a name: the target is no longer acceptable when sent
        assert ex.set_webhook_host_allowed("127.0.0.1", allowed=False) is True
    emit_activated(clone_dsn, uid, "rebind_user")
    stats = notifier(clone_dsn, max_attempts=1).run(once=True)
    assert stats.sent == 0 and len(stats.failed) == 1
    [(channel, status, attempts, error)] = notification_rows(clone_dsn)
    assert (channel, status, attempts) == ("WEBHOOK", "FAILED", 1)
    assert error and error.startswith("UnsafeWebhookUrl")
    assert state.requests == []  # nothing reached the internal address


def test_a_name_resolving_to_a_local_address_is_refused_when_set(clone_dsn: str) -> None:
    host = socket.gethostname()  # a name the database cannot judge: Python resolves it
    addresses = {str(i[4][0]) for i in socket.getaddrinfo(host, 80)}
    if all(webhooks.is_public(a) for a in addresses):
        pytest.skip(f"{host} resolves to public addresses here")
    uid = make_user(clone_dsn, "named_user")
    with Exchange(clone_dsn) as ex:
        with pytest.raises(UnsafeWebhookUrl):
            ex.set_webhook_endpoint(uid, f"http://{host}:9/hook", SECRET)
        with pytest.raises(UnsafeWebhookUrl):
            ex.set_webhook_endpoint(uid, "https://169.254.169.254/latest/meta-data", SECRET)
        assert ex.set_webhook_host_allowed(host) is True  # an admin's exception
        ex.set_webhook_endpoint(uid, f"http://{host}:9/hook", SECRET)
    with psycopg.connect(clone_dsn) as conn:
        assert conn.execute("SELECT url FROM exchange.webhook_endpoints WHERE user_id = %s",
                            (uid,)).fetchall() == [(f"http://{host}:9/hook",)]


@pytest.mark.parametrize("secret", ["s" * 15, "s" * 257])
def test_a_webhook_secret_outside_16_to_256_characters_is_refused(clone_dsn: str,
                                                                    secret: str) -> None:
    uid = make_user(clone_dsn, f"secret_user_{len(secret)}")
    with Exchange(clone_dsn) as ex:
        ex.set_webhook_host_allowed("hooks.example.org")
        with pytest.raises(InvalidArgument):
            ex.set_webhook_endpoint(uid, "https://hooks.example.org/hook", secret)
        ex.set_webhook_endpoint(uid, "https://hooks.example.org/hook", "s" * 256)  # the bound
    with psycopg.connect(clone_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM exchange.webhook_endpoints WHERE user_id = %s",
                            (uid,)).fetchone() == (1,)


def test_only_an_admin_allows_a_webhook_host(clone_dsn: str) -> None:
    trader = make_user(clone_dsn, "plain_trader")
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("UPDATE exchange.users SET status = 'ACTIVE' WHERE id = %s", (trader,))
    with Exchange(clone_dsn, acting_user_id=trader) as ex:
        with pytest.raises(PermissionDenied):
            ex.set_webhook_host_allowed("10.0.0.5")
        assert ex.webhook_host_allowed("10.0.0.5") is False
    with Exchange(clone_dsn) as dba:  # a DBA session (owner, no acting user) may
        assert dba.set_webhook_host_allowed("10.0.0.5") is True
        assert dba.webhook_host_allowed("10.0.0.5") is True


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1::1", True), ("127.0.0.1", False),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.0.1", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("::1", False), ("::", False),
    ("fe80::1", False), ("fd12::1", False), ("ff02::1", False), ("::ffff:127.0.0.1", False),
    ("::ffff:93.184.216.34", True), ("64:ff9b::a00:1", False),
])
def test_is_public(address: str, public: bool) -> None:
    assert webhooks.is_public(address) is public


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "http://",
                                 "http://user:pw@example.com/", "http://example.com:99999/"])
def test_parse_url_refuses_what_is_not_plain_http(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        webhooks.parse_url(url)


def test_the_app_credential_allows_no_webhook_host_unless_an_admin_acts(
        clone_dsn: str, app_login_dsn: str) -> None:
    with Exchange(clone_dsn) as dba:
        admin = dba.bootstrap_admin("hook_admin", "hook_admin@example.org", "hook-admin-pass-1")
        trader = dba.register_user("hook_trader", "hook_trader@example.org", "hook-trader-pass-1")
        dba.activate_user(trader.id)
    with Exchange(app_login_dsn) as app, pytest.raises(NotAuthenticated):
        app.set_webhook_host_allowed("192.168.7.7")  # no acting user: refused
    with Exchange(app_login_dsn, acting_user_id=trader.id) as as_trader:
        with pytest.raises(PermissionDenied):
            as_trader.set_webhook_host_allowed("192.168.7.7")
        assert as_trader.webhook_host_allowed("192.168.7.7") is False  # nothing changed
    with Exchange(app_login_dsn, acting_user_id=admin.id) as as_admin:
        assert as_admin.set_webhook_host_allowed("192.168.7.7") is True
    with Exchange(app_login_dsn, acting_user_id=trader.id) as as_trader:
        as_trader.set_webhook_endpoint(trader.id, "http://192.168.7.7/hook", SECRET)
