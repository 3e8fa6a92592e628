"""``pyexchange server start | stop | status``: the embedded default database.

These manage the private cluster of :mod:`pyexchange.server` (used when no DSN is
configured); they never touch a server named by ``--dsn`` or ``PYEXCHANGE_DSN``.
"""

from __future__ import annotations

import sys

import click

from pyexchange.cli import console
from pyexchange.cli.confirm import confirm_destruction, yes_option
from pyexchange.cli.output import output_format, print_record
from pyexchange.server import EmbeddedServer


@click.group()
def server() -> None:
    """The embedded PostgreSQL server (used when no DSN is configured)."""


@server.command()
@click.option("--listen", metavar="HOST:PORT", default=None,
              help="Also listen on TCP, with TLS only (a CA and a server certificate are made "
                   "in the server's home; scram-sha-256 passwords). Remembered.")
@click.option("--no-listen", is_flag=True, help="Back to the unix socket only.")
def start(listen: str | None, no_listen: bool) -> None:
    """Create (first use), start and migrate (first use) the embedded database."""
    if listen and no_listen:
        raise click.UsageError("--listen and --no-listen exclude each other")
    srv = EmbeddedServer.default()
    conninfo = srv.start(listen="" if no_listen else listen)
    console.print(f"embedded server running in {srv.base_dir}")
    console.print(f"connect with: psql '{conninfo}'")
    if srv.listen_address() is not None:
        console.print(f"over TCP (TLS only, a login with a password): psql "
                      f"'{srv.tls_conninfo(user='LOGIN')}'")


@server.command()
def stop() -> None:
    """Stop the embedded server."""
    srv = EmbeddedServer.default()
    console.print("stopped" if srv.stop() else "not running")


@server.command()
@output_format
def status() -> None:
    """Show where the embedded server lives and whether it runs (exit 3 when stopped)."""
    st = EmbeddedServer.default().status()
    print_record("embedded server", [
        ("base directory", st.base_dir),
        ("data directory", st.data_dir),
        ("initialised", "yes" if st.initialised else "no"),
        ("running", f"yes (pid {st.pid})" if st.running else "no"),
        ("socket directory", st.socket_dir),
        ("tcp", "none: unix socket only (port=5432 in the conninfo only names the socket "
                f"file {st.socket_dir}/.s.PGSQL.5432)"),
        ("conninfo", st.conninfo),
        ("shared", "by every root process on this machine (set PYEXCHANGE_HOME for a private "
                   "one)" if str(st.base_dir) == "/var/lib/pyexchange" else "no: private to "
                   "this home"),
    ])
    if not st.running:
        sys.exit(3)


@server.command()
@yes_option
def reset() -> None:
    """Drop the embedded database and create it again, migrated (development: after the
    migrations were edited in place). Asks first (or --yes)."""
    srv = EmbeddedServer.default()
    confirm_destruction(f"server reset drops the embedded database {srv.database} in "
                        f"{srv.base_dir} with all its data")
    srv.reset()
    console.print(f"database {srv.database} recreated and migrated in {srv.base_dir}")


@server.command()
@click.option("--user", default=None, help="Login role for the TCP conninfo (default: the "
              "cluster's superuser, which has no password: make a login with "
              "pyexchange db create-login).")
@click.option("--socket", "socket_only", is_flag=True,
              help="The unix socket's conninfo even when the server listens on TCP.")
def conninfo(user: str | None, socket_only: bool) -> None:
    """Print the embedded database's conninfo (for scripts: psql "$(pyexchange server conninfo)").

    When the server listens on TCP (start --listen) this is the TLS conninfo
    (sslmode=verify-full, sslrootcert=<home>/tls/ca.crt); else the unix socket's."""
    srv = EmbeddedServer.default()
    if srv.listen_address() is not None and not socket_only:
        click.echo(srv.tls_conninfo(user=user))
    else:
        click.echo(srv.conninfo())


COMMANDS: list[click.Command] = [server]
