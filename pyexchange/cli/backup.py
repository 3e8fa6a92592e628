"""``pyexchange backup config | create | list | verify | restore | drill`` (pgBackRest).

With no database configured, the commands act on the embedded server, whose backups
pyexchange sets up itself (``<home>/backup``). With a DSN (or ``--config``), they drive the
pgBackRest stanza an operator configured for that server (``backup config`` prints it).
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from psycopg.conninfo import conninfo_to_dict

from pyexchange.backup import (
    BACKUP_TYPES,
    RESTORE_PORT,
    STANZA,
    Repository,
    archive_now,
    as_user,
    health_problems,
    parse_time,
    render_config,
    restore_copy,
    restore_in_place,
    setup_embedded,
)
from pyexchange.cli import AppContext, console, err_console, pass_app, print_table
from pyexchange.cli.output import note, output_format
from pyexchange.config import configured_dsn
from pyexchange.errors import (
    BackupInvalid,
    ExchangeError,
    RestoreMismatch,
    RestoreTargetNotEmpty,
)


@dataclass(frozen=True)
class _Target:
    repo: Repository
    server: Any            # the EmbeddedServer, or None for an external server
    superuser: str
    dbname: str


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _target(app: AppContext, ctx: click.Context) -> _Target:
    opts = ctx.parent.params if ctx.parent else {}
    stanza: str = opts.get("stanza") or STANZA
    config: str | None = opts.get("config")
    run_as: str | None = opts.get("run_as") or ("postgres" if os.geteuid() == 0 else None)
    dsn = configured_dsn(app.dsn)
    if config is None and dsn is None:
        from pyexchange.server import EmbeddedServer

        server = EmbeddedServer.default()
        repo = setup_embedded(server, log=lambda msg: err_console.print(msg))
        return _Target(repo, server, server.superuser, server.database)
    params = conninfo_to_dict(dsn) if dsn else {}
    dbname = str(params.get("dbname") or os.environ.get("PGDATABASE") or "pyexchange")
    repo = Repository(stanza, Path(config) if config else None, run_as)
    return _Target(repo, None, opts.get("superuser") or "postgres", dbname)


@click.group()
@click.option("--stanza", envvar="PYEXCHANGE_BACKUP_STANZA", default=STANZA, show_default=True,
              help="The pgBackRest stanza (env PYEXCHANGE_BACKUP_STANZA).")
@click.option("--config", envvar="PYEXCHANGE_PGBACKREST_CONFIG", default=None,
              type=click.Path(dir_okay=False),
              help="pgbackrest.conf of an external server (env PYEXCHANGE_PGBACKREST_CONFIG; "
                   "default: pgBackRest's own, /etc/pgbackrest.conf on Debian).")
@click.option("--run-as", "run_as", default=None, metavar="USER",
              help="The system user that owns the cluster (default: postgres when root).")
@click.option("--superuser", default=None, metavar="ROLE",
              help="The superuser of a restored copy of an external server (default postgres).")
def backup(stanza: str, config: str | None, run_as: str | None, superuser: str | None) -> None:
    """Physical backups and point-in-time recovery with pgBackRest (docs/operations.md)."""


@backup.command("config")
@click.option("--pg-path", default=None, help="The server's data directory (default: asked "
              "from the server, else /var/lib/postgresql/15/main).")
@click.option("--pg-port", type=int, default=None, help="Its port (default: asked, else 5432).")
@click.option("--socket-path", default=None,
              help="Its unix socket directory (default: asked, else /var/run/postgresql).")
@click.option("--repo-path", default="/var/lib/pgbackrest", show_default=True,
              help="The repository (a second one off the host is advised).")
@click.option("--retention-full", type=int, default=2, show_default=True,
              help="Full backups kept (their differentials and WAL with them).")
@pass_app
@click.pass_context
def config_cmd(ctx: click.Context, app: AppContext, pg_path: str | None, pg_port: int | None,
               socket_path: str | None, repo_path: str, retention_full: int) -> None:
    """Print the pgbackrest.conf and postgresql.conf lines for an external server."""
    opts = ctx.parent.params if ctx.parent else {}
    dsn = configured_dsn(app.dsn)
    if dsn is not None and None in (pg_path, pg_port, socket_path):
        import psycopg

        try:
            with psycopg.connect(dsn, connect_timeout=5) as conn:
                row = conn.execute(
                    "SELECT current_setting('data_directory'), current_setting('port'), "
                    "split_part(current_setting('unix_socket_directories'), ',', 1)").fetchone()
            if row is not None:
                pg_path = pg_path or row[0]
                pg_port = pg_port or int(row[1])
                socket_path = socket_path or row[2].strip() or None
        except psycopg.Error as exc:
            err_console.print(f"# could not ask the server ({str(exc).strip()}); defaults used")
    conf, pg = render_config(
        stanza=opts.get("stanza") or STANZA, pg_path=pg_path or "/var/lib/postgresql/15/main",
        pg_port=pg_port or 5432, socket_path=socket_path or "/var/run/postgresql",
        repo_path=repo_path, retention_full=retention_full, config=opts.get("config"))
    click.echo(conf)
    click.echo(pg)
    stanza = opts.get("stanza") or STANZA
    cfg = f" --config={opts['config']}" if opts.get("config") else ""
    click.echo("# then, as postgres:\n"
               f"#   pgbackrest{cfg} --stanza={stanza} stanza-create\n"
               f"#   pgbackrest{cfg} --stanza={stanza} check\n"
               "# and take the first backup: pyexchange --dsn ... backup create --type full")


@backup.command("create")
@click.option("--type", "type_", type=click.Choice(BACKUP_TYPES), default="full",
              show_default=True, help="full, diff (since the last full) or incr (since the "
              "last backup of any type).")
@pass_app
@click.pass_context
def create_cmd(ctx: click.Context, app: AppContext, type_: str) -> None:
    """Take a backup (checksummed, compressed; old ones expire by the retention)."""
    target = _target(app, ctx)
    made = target.repo.backup(type_)
    console.print(f"backup {made.label} ({made.type}): {_human(made.size)} of data, "
                  f"{_human(made.repo_size)} stored, "
                  f"{(made.stopped - made.started).total_seconds():.0f} s, "
                  f"WAL {made.wal_start}..{made.wal_stop}")


@backup.command("list")
@output_format
@pass_app
@click.pass_context
def list_cmd(ctx: click.Context, app: AppContext) -> None:
    """The backups of the stanza and the range a restore can reach."""
    target = _target(app, ctx)
    info = target.repo.info()
    print_table(f"stanza {info.name}: {info.status}",
                ["label", "type", "started (UTC)", "stopped (UTC)", "size", "stored", "WAL"],
                [(b.label, b.type, f"{b.started:%Y-%m-%d %H:%M:%S}",
                  f"{b.stopped:%Y-%m-%d %H:%M:%S}", _human(b.size), _human(b.repo_size),
                  f"{b.wal_start}..{b.wal_stop}") for b in info.backups])
    if info.recoverable_from is not None:
        note(f"a restore reaches any time from {info.recoverable_from:%Y-%m-%d %H:%M:%S}"
             f"+00 to the last archived WAL ({info.wal_max})")


@backup.command("verify")
@output_format
@pass_app
@click.pass_context
def verify_cmd(ctx: click.Context, app: AppContext) -> None:
    """Check every file of the repository against its checksum; exit 1 on any error."""
    target = _target(app, ctx)
    result = target.repo.verify()
    for line in result.lines:
        note(line, markup=False)
    if not result.ok:
        raise BackupInvalid("the repository does not verify", detail="see the report above")
    info = target.repo.info()
    print_table(f"stanza {info.name}", ["result", "backups", "wal from", "wal to"],
                [("verified", len(info.backups), info.wal_min, info.wal_max)])
    note(f"repository verified: {len(info.backups)} backup(s), "
         f"WAL {info.wal_min}..{info.wal_max}")


@backup.command("restore")
@click.option("--to", "to", metavar="TIMESTAMP",
              help="Recover to this time (ISO; without a zone, UTC).")
@click.option("--latest", is_flag=True, help="Recover to the end of the archived WAL.")
@click.option("--target", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A new data directory for the restored copy.")
@click.option("--port", type=int, default=RESTORE_PORT, show_default=True,
              help="The port number in the copy's socket name (no TCP port is opened).")
@click.option("--in-place", is_flag=True,
              help="Restore over the cluster itself (disaster recovery). Needs --yes.")
@click.option("--yes", is_flag=True, help="Confirm --in-place.")
@pass_app
@click.pass_context
def restore_cmd(ctx: click.Context, app: AppContext, to: str | None, latest: bool,
                target: Path | None, port: int, in_place: bool, yes: bool) -> None:
    """Restore into a new directory, start it on its own socket, check it, print its
    conninfo. The running cluster is never touched unless --in-place --yes."""
    if (to is None) == (not latest):
        raise click.UsageError("give exactly one of --to TIMESTAMP and --latest")
    if in_place and target is not None:
        raise click.UsageError("--in-place and --target exclude each other")
    if not in_place and target is None:
        raise click.UsageError("give --target DIR (a new directory), or --in-place --yes")
    if in_place and not yes:
        raise click.UsageError("--in-place overwrites the cluster's data directory: "
                               "add --yes to confirm")
    when = parse_time(to) if to else None
    if target is not None and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RestoreTargetNotEmpty(
            f"the restore target {target} exists and is not empty",
            hint="give a new directory: a restore never writes over existing files "
                 "(restoring the cluster itself is --in-place --yes)")
    t = _target(app, ctx)
    from pyexchange.server import find_bindir

    source = t.server.conninfo() if t.server is not None else configured_dsn(app.dsn)
    trouble = archive_now(t.repo, source)
    if trouble:  # the source may be down: restore what the archive holds
        err_console.print(f"(could not archive the current WAL: {trouble}; restoring what "
                          "the archive holds)", markup=False)
    if in_place:
        _restore_in_place(t, when)
        return
    assert target is not None
    copy = restore_copy(t.repo, target, to=when, bindir=find_bindir(), superuser=t.superuser,
                        dbname=t.dbname, port=port)
    console.print(f"restored to {copy.target} in {copy.seconds:.1f} s")
    pg_ctl = shlex.join(as_user([str(find_bindir() / "pg_ctl"), "stop", "-D",
                                 str(copy.data_dir)], copy.run_as))
    if copy.problems:
        print_table("checks", ["check", "detail"], copy.problems)
        raise RestoreMismatch(f"the restored copy fails {len(copy.problems)} check(s)",
                              detail=f"it runs for inspection: {copy.conninfo}; stop it with "
                                     f"{pg_ctl}")
    console.print("reconcile() empty, no book crossed")
    console.print(f"conninfo: {copy.conninfo}")
    console.print(f"stop it with: {pg_ctl}", markup=False)


def _restore_in_place(t: _Target, when: Any) -> None:
    if t.server is not None:
        from pyexchange.backup import _wait_promoted

        console.print("stopping the embedded server")
        t.server.stop()
        restore_in_place(t.repo, to=when)
        conninfo = t.server.start()
        _wait_promoted(conninfo, 600)
        problems = health_problems(conninfo)
        console.print(f"the embedded server is restored to {when or 'the latest WAL'}; "
                      "take a full backup now (pyexchange backup create --type full)")
        if problems:
            print_table("checks", ["check", "detail"], problems)
            sys.exit(1)
        console.print("reconcile() empty, no book crossed")
        return
    restore_in_place(t.repo, to=when)
    console.print(f"restored over the stanza's data directory to {when or 'the latest WAL'}. "
                  "Start PostgreSQL now (e.g. pg_ctlcluster 15 main start): it replays the "
                  "WAL and promotes. Then take a full backup.")


@backup.command("drill")
@click.option("--rounds", type=click.IntRange(1, 500), default=40, show_default=True,
              help="Rounds of activity before T (each: orders that fill, a resting bid, a "
                   "market order, a transfer, a withdrawal, a deposit); half as many after T.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the scratch cluster is made (default: the temporary directory).")
@click.option("--keep", is_flag=True, help="Keep the scratch directory (for inspection).")
def drill_cmd(rounds: int, workdir: Path | None, keep: bool) -> None:
    """Recovery test on a scratch cluster: backup, activity, restore to a time T, compare.
    One verdict line; exit 1 on any difference."""
    from pyexchange.drill import run_drill

    try:
        result = run_drill(workdir=workdir, rounds=rounds, keep=keep,
                           log=lambda msg: err_console.print(msg, markup=False))
    except ExchangeError as exc:
        code = f" [{exc.sqlstate}]" if exc.sqlstate else ""
        click.echo(f"backup drill FAILED{code}: {str(exc).splitlines()[0]}")
        raise
    click.echo(result.verdict)
    if not result.ok:
        sys.exit(1)


COMMANDS: list[click.Command] = [backup]
