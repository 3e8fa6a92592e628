"""Application-level encryption (docs/security.md): phones, KYC documents and webhook secrets
reach the database as AES-256-GCM envelopes only, so a DBA's SELECT (and the audit log) shows
no plaintext; the client decrypts them; data keys are wrapped by a master key the database
never sees and are re-wrapped by rotation; without a master key nothing is stored."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg import sql

from pyexchange import Exchange, crypto
from pyexchange.cli import main as cli
from pyexchange.errors import (
    EncryptionKeyMissing,
    InvalidProfile,
    NotAuthenticated,
    NotEncrypted,
    PermissionDenied,
)


def _plain_anywhere(dsn: str, needle: str) -> list[str]:
    """Where a DBA's SELECT would show ``needle``: the three tables and the audit log."""
    found = []
    with psycopg.connect(dsn) as conn:
        for table, column in (("users", "phone"), ("kyc_verifications", "documents"),
                              ("webhook_endpoints", "secret"), ("audit_logs", "old_values"),
                              ("audit_logs", "new_values")):
            row = conn.execute(sql.SQL("SELECT count(*) FROM exchange.{} WHERE {}::text LIKE %s")
                               .format(sql.Identifier(table), sql.Identifier(column)),
                               (f"%{needle}%",)).fetchone()
            if row and row[0]:
                found.append(f"{table}.{column}")
    return found


@pytest.fixture
def cli_run(clone_dsn: str) -> Callable[..., Result]:
    def run(*args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(cli, ["--dsn", clone_dsn, *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result
    return run


def test_a_kyc_document_submitted_through_the_cli_is_ciphertext_for_a_dba(
        clone_dsn: str, cli_run: Callable[..., Result]) -> None:
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("enc_kyc", "enc_kyc@example.org", "enc-kyc-pass-1",
                                phone="+1 555 0142")
        ex.activate_user(user.id)
    cli_run("--as", str(user.id), "kyc", "submit", str(user.id), "1", "--documents",
            '{"passport": "PASSPORT-ZX9876", "address": "12 Secret Lane"}')
    with psycopg.connect(clone_dsn) as conn:
        [(documents, phone)] = conn.execute(
            "SELECT k.documents, u.phone FROM exchange.kyc_verifications k "
            "JOIN exchange.users u ON u.id = k.user_id WHERE u.id = %s", (user.id,)).fetchall()
    assert set(documents) == {"ciphertext"} and crypto.is_envelope(documents["ciphertext"])
    assert crypto.is_envelope(phone)
    for secret in ("PASSPORT-ZX9876", "Secret Lane", "555 0142"):
        assert _plain_anywhere(clone_dsn, secret) == [], secret
    # the rightful reader gets them back in clear
    with Exchange(clone_dsn, acting_user_id=user.id) as me:
        [kyc] = me.list_kyc_verifications(user.id)
        assert kyc.documents == {"passport": "PASSPORT-ZX9876", "address": "12 Secret Lane"}
        assert me.get_user(user.id).phone == "+1 555 0142"


def test_webhook_secrets_are_stored_encrypted(clone_dsn: str) -> None:
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("enc_hook", "enc_hook@example.org", "enc-hook-pass-1")
        ex.set_webhook_endpoint(user.id, "https://93.184.216.34/x", "whsec-VERY-SECRET-123")
    assert _plain_anywhere(clone_dsn, "VERY-SECRET") == []
    with psycopg.connect(clone_dsn) as conn:
        [(stored,)] = conn.execute("SELECT secret FROM exchange.webhook_endpoints "
                                   "WHERE user_id = %s", (user.id,)).fetchall()
    with Exchange(clone_dsn) as ex:
        assert ex.cipher.decrypt(crypto.WEBHOOK_SECRET, stored) == "whsec-VERY-SECRET-123"
        with pytest.raises(EncryptionKeyMissing):  # an envelope is bound to its field
            ex.cipher.decrypt(crypto.PHONE, stored)


def test_what_a_dba_passes_in_psql(clone_dsn: str, cli_run: Callable[..., Result]) -> None:
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("enc_dba", "enc_dba@example.org", "enc-dba-pass-1")
    with psycopg.connect(clone_dsn) as conn:  # plain text: refused, nothing changes
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SELECT exchange.update_user_profile(%s, 0, p_phone => '+1 555 0100')",
                         (user.id,))
        assert err.value.sqlstate == NotEncrypted.sqlstate
    envelope = cli_run("keys", "encrypt", "phone", "+44 20 7946 0000").output.strip()
    assert crypto.is_envelope(envelope)
    with psycopg.connect(clone_dsn) as conn:
        conn.execute("SELECT exchange.update_user_profile(%s, 0, p_phone => %s)",
                     (user.id, envelope))
    with Exchange(clone_dsn) as ex:
        assert ex.get_user(user.id).phone == "+44 20 7946 0000"
        with pytest.raises(InvalidProfile):  # the plain number is validated before encrypting
            ex.update_user_profile(user.id, 1, phone="12; DROP")


def test_rotation_rewraps_data_keys_under_the_new_master_key(
        clone_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    old = crypto.new_key_line()
    new = crypto.new_key_line()
    old_id, new_id = old.split(":")[0], new.split(":")[0]
    monkeypatch.setenv(crypto.ENV_KEY, old)
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("enc_rot", "enc_rot@example.org", "enc-rot-pass-1",
                                phone="+33 1 23 45 67 89")
    monkeypatch.setenv(crypto.ENV_KEY, f"{old},{new}")
    trader = user.id
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("UPDATE exchange.users SET status = 'ACTIVE' WHERE id = %s", (trader,))
    with Exchange(clone_dsn, acting_user_id=trader) as as_trader, \
            pytest.raises(PermissionDenied):  # re-wrapping is for admins and DBAs only
        as_trader.rotate_data_keys()
    with Exchange(clone_dsn) as dba:
        done = dba.rotate_data_keys()
        assert {(r.from_master_key_id, r.to_master_key_id) for r in done} == {(old_id, new_id)}
        assert {k.master_key_id for k in dba.list_data_keys()} == {new_id}
        assert dba.rotate_data_keys() == []  # nothing left to re-wrap
    monkeypatch.setenv(crypto.ENV_KEY, new)  # the old master key can go
    with Exchange(clone_dsn) as ex:
        assert ex.get_user(user.id).phone == "+33 1 23 45 67 89"
    monkeypatch.setenv(crypto.ENV_KEY, old)  # and no longer opens anything
    with Exchange(clone_dsn) as ex, pytest.raises(EncryptionKeyMissing):
        ex.get_user(user.id)


def test_no_master_key_no_sensitive_field_stored(clone_dsn: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(crypto.ENV_KEY, raising=False)
    monkeypatch.delenv(crypto.ENV_KEY_FILE, raising=False)
    with Exchange(clone_dsn) as ex:
        with pytest.raises(EncryptionKeyMissing):
            ex.register_user("enc_nokey", "enc_nokey@example.org", "enc-nokey-pass-1",
                             phone="+1 555 0111")
        with pytest.raises(EncryptionKeyMissing):
            ex.submit_kyc(1, 1, {"passport": "X"})
        user = ex.register_user("enc_nokey", "enc_nokey@example.org", "enc-nokey-pass-1")
        assert user.phone is None  # what needs no key still works
    with psycopg.connect(clone_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM exchange.users WHERE username = 'enc_nokey'"
                            ).fetchone() == (1,)


def test_a_planted_data_key_is_never_used(clone_dsn: str) -> None:
    master = crypto.MasterKeys.parse(os.environ[crypto.ENV_KEY], "test")
    with psycopg.connect(clone_dsn, autocommit=True) as conn:  # as an app credential could
        row = conn.execute("SELECT exchange.create_data_key(%s, %s)",
                           (os.urandom(60), master.current)).fetchone()
    assert row is not None
    planted = row[0]
    with Exchange(clone_dsn) as ex:
        user = ex.register_user("enc_plant", "enc_plant@example.org", "enc-plant-pass-1",
                                phone="+1 555 0122")
        assert ex.get_user(user.id).phone == "+1 555 0122"
    with psycopg.connect(clone_dsn) as conn:
        [(phone,)] = conn.execute("SELECT phone FROM exchange.users WHERE id = %s",
                                  (user.id,)).fetchall()
    assert not phone.startswith(f"pyxenc:1:{planted}:")


def test_master_key_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(crypto.ENV_KEY, raising=False)
    monkeypatch.delenv(crypto.ENV_KEY_FILE, raising=False)
    assert crypto.MasterKeys.load() is None  # an external database: no key, nothing made
    made = crypto.MasterKeys.load(tmp_path)  # the embedded server's home: a key file
    assert made is not None and (tmp_path / crypto.KEY_FILE_NAME).stat().st_mode & 0o077 == 0
    assert crypto.MasterKeys.load(tmp_path) == made  # kept
    bare = base64.b64encode(b"k" * 32).decode()
    monkeypatch.setenv(crypto.ENV_KEY, bare)
    keys = crypto.MasterKeys.load(tmp_path)
    assert keys is not None and keys.keys[keys.current] == b"k" * 32
    monkeypatch.setenv(crypto.ENV_KEY, "short")
    with pytest.raises(EncryptionKeyMissing):
        crypto.MasterKeys.load()


def test_the_app_credential_adds_data_keys_but_only_an_admin_rewraps(
        clone_dsn: str, app_login_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = crypto.new_key_line(), crypto.new_key_line()
    monkeypatch.setenv(crypto.ENV_KEY, old)
    with Exchange(clone_dsn) as dba:
        admin = dba.bootstrap_admin("key_admin", "key_admin@example.org", "key-admin-pass-1")
    with Exchange(app_login_dsn) as app:  # the application makes its first data key itself
        user = app.register_user("key_user", "key_user@example.org", "key-user-pass-1",
                                 phone="+1 555 0133")
    # reading a user back needs an acting user with the right (issue 13a): the admin here
    with Exchange(app_login_dsn, acting_user_id=admin.id) as as_admin:
        assert as_admin.get_user(user.id).phone == "+1 555 0133"
    monkeypatch.setenv(crypto.ENV_KEY, f"{old},{new}")
    with Exchange(app_login_dsn) as app, pytest.raises(NotAuthenticated):
        app.rotate_data_keys()
    with Exchange(app_login_dsn, acting_user_id=user.id) as as_user, \
            pytest.raises(PermissionDenied):
        as_user.rotate_data_keys()
    with Exchange(app_login_dsn, acting_user_id=admin.id) as as_admin:
        assert [r.to_master_key_id for r in as_admin.rotate_data_keys()] == [new.split(":")[0]]
