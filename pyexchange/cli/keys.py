"""``pyexchange keys generate | rotate | status | encrypt``: application-level encryption.

Phones, KYC documents and webhook secrets are stored encrypted (:mod:`pyexchange.crypto`,
docs/security.md). The master key comes from ``PYEXCHANGE_MASTER_KEY``, the key file
``PYEXCHANGE_MASTER_KEY_FILE``, or, for the embedded server, ``<home>/master.key``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from pyexchange import crypto
from pyexchange.cli import AppContext, console, pass_app, print_table
from pyexchange.cli.output import output_format
from pyexchange.config import configured_dsn
from pyexchange.errors import EncryptionKeyMissing

FIELDS = {"phone": crypto.PHONE, "kyc-documents": crypto.KYC_DOCUMENTS,
          "webhook-secret": crypto.WEBHOOK_SECRET}


@click.group()
def keys() -> None:
    """Master and data keys of the encrypted fields (phones, KYC documents, webhook secrets)."""


@keys.command()
@click.option("--file", "file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Append the key to this key file (made mode 0600 with its directory if "
                   "new; keys already there stay) and print only its id.")
def generate(file: Path | None) -> None:
    """Print a new master key (id:base64) for PYEXCHANGE_MASTER_KEY, or add it to a key file
    for PYEXCHANGE_MASTER_KEY_FILE (--file), where it becomes the current one."""
    if file is None:
        click.echo(crypto.new_key_line())
    else:
        click.echo(f"master key {crypto.append_new_key(file)} added to {file}")


def _key_file(app: AppContext) -> Path:
    path = os.environ.get(crypto.ENV_KEY_FILE)
    if path:
        return Path(path)
    if os.environ.get(crypto.ENV_KEY):
        raise EncryptionKeyMissing(
            f"the master key comes from {crypto.ENV_KEY}: add the new key there yourself",
            hint=f"{crypto.ENV_KEY}='<old>,<new from pyexchange keys generate>', then run "
                 "pyexchange keys rotate")
    if configured_dsn(app.dsn) is None:
        from pyexchange.server import default_base_dir

        return default_base_dir() / crypto.KEY_FILE_NAME
    raise EncryptionKeyMissing("no key file configured",
                               hint=f"Set {crypto.ENV_KEY_FILE} (or {crypto.ENV_KEY}).")


@keys.command()
@click.option("--generate", "make_new", is_flag=True,
              help="First add a new master key to the key file (it becomes the current one).")
@pass_app
def rotate(app: AppContext, make_new: bool) -> None:
    """Re-wrap every data key under the current master key (the last one configured).

    The encrypted values are not rewritten; once no data key names an old master key, that
    key can be removed from the configuration."""
    if make_new:
        file = _key_file(app)
        console.print(f"new master key {crypto.append_new_key(file)} added to {file}")
        app.exchange.reload_master_keys()
    done = app.exchange.rotate_data_keys()
    print_table("re-wrapped data keys", ["id", "from", "to"],
                [(r.id, r.from_master_key_id, r.to_master_key_id) for r in done])
    console.print(f"{len(done)} data key(s) re-wrapped")


@keys.command()
@output_format
@pass_app
def status(app: AppContext) -> None:
    """The data keys, the master key wrapping each, and whether this client holds it."""
    master = app.exchange.cipher.master
    held = set(master.keys) if master else set()
    print_table(f"current master key: {master.current if master else '(none configured)'}",
                ["data key", "master key", "held here"],
                [(k.id, k.master_key_id, "yes" if k.master_key_id in held else "NO")
                 for k in app.exchange.list_data_keys()])


@keys.command()
@click.argument("field", type=click.Choice(sorted(FIELDS)))
@click.argument("value")
@pass_app
def encrypt(app: AppContext, field: str, value: str) -> None:
    """Print what a DBA passes to the SQL API for FIELD (phone, kyc-documents as a JSON
    object, webhook-secret): the envelope of VALUE under the current data key."""
    cipher = app.exchange.cipher
    if field == "phone":
        click.echo(cipher.seal_phone(value))
    elif field == "kyc-documents":
        click.echo(json.dumps(cipher.seal_documents(json.loads(value))))
    else:
        if len(value) < 16:
            raise click.BadParameter("a webhook secret has at least 16 characters")
        click.echo(cipher.encrypt(crypto.WEBHOOK_SECRET, value))


COMMANDS: list[click.Command] = [keys]
