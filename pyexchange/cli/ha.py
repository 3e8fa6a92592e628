"""``pyexchange ha up | status | switchover | down | drill``: a local pg_auto_failover
formation (monitor, primary, synchronous secondary) for development and drills."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from pyexchange.cli import console, err_console, print_table
from pyexchange.cli.output import note, output_format
from pyexchange.ha import DEFAULT_PORT, Formation

_dir = click.option("--dir", "base_dir", type=click.Path(file_okay=False, path_type=Path),
                    envvar="PYEXCHANGE_HA_DIR", default=None,
                    help="The formation's directory (default: PYEXCHANGE_HA_DIR, else "
                         "<PYEXCHANGE_HOME>/ha).")
_port = click.option("--port", type=click.IntRange(1024, 65533), envvar="PYEXCHANGE_HA_PORT",
                     default=None,
                     help=f"The monitor's port; the nodes use the next two (default: "
                          f"PYEXCHANGE_HA_PORT, else the formation's, else {DEFAULT_PORT}).")


@click.group()
def ha() -> None:
    """High availability: a local pg_auto_failover formation and its failover drill."""


@ha.command()
@_dir
@_port
@click.option("--timeout", type=click.FloatRange(min=10), default=120, show_default=True,
              help="Seconds to wait for the formation to settle.")
def up(base_dir: Path | None, port: int | None, timeout: float) -> None:
    """Create (first use) and start a monitor, a primary and a synchronous secondary;
    migrate the database; print the DSNs."""
    formation = Formation(base_dir, port)
    dsn = formation.up(timeout=timeout, progress=lambda m: console.print(f"- {m}"))
    _print_status(formation)
    console.print(f"write DSN: {dsn}")
    console.print(f"read DSN:  {formation.dsn(read=True)}")


def _print_status(formation: Formation) -> None:
    print_table(f"formation in {formation.base_dir}",
                ["node", "host:port", "reported", "assigned", "healthy", "LSN"],
                [(n.name, f"{n.host}:{n.port}", n.reported_state, n.assigned_state,
                  "yes" if n.healthy else "no", n.reported_lsn) for n in formation.status()])


@ha.command()
@_dir
@_port
@output_format
def status(base_dir: Path | None, port: int | None) -> None:
    """Each node's state as the monitor sees it; exit 3 unless a primary and a secondary
    are settled."""
    formation = Formation(base_dir, port)
    _print_status(formation)
    note(f"write DSN: {formation.dsn()}", markup=False)
    note(f"read DSN:  {formation.dsn(read=True)}", markup=False)
    if not formation.is_settled():
        sys.exit(3)


@ha.command()
@_dir
@_port
@click.option("--timeout", type=click.FloatRange(min=5), default=60, show_default=True)
def switchover(base_dir: Path | None, port: int | None, timeout: float) -> None:
    """Planned switchover: the secondary becomes primary, the primary its standby."""
    old, new, took = Formation(base_dir, port).switchover(timeout=timeout)
    console.print(f"switchover: {old} -> {new} in {took:.1f} s")


@ha.command()
@_dir
@_port
@click.option("--keep-data", is_flag=True, help="Stop only; keep the data directories.")
def down(base_dir: Path | None, port: int | None, keep_data: bool) -> None:
    """Stop the nodes and the monitor; remove the formation's directory."""
    formation = Formation(base_dir, port)
    stopped = formation.down(remove=not keep_data)
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}"
                  + ("" if keep_data else f"; removed {formation.base_dir}"))


@ha.command()
@_dir
@_port
@click.option("--load-before", type=click.FloatRange(min=0.5), default=5, show_default=True,
              help="Seconds of load before the kill.")
@click.option("--load-after", type=click.FloatRange(min=0.5), default=5, show_default=True,
              help="Seconds of load after the new primary takes writes.")
@click.option("--workers", type=click.IntRange(1, 32), default=4, show_default=True)
def drill(base_dir: Path | None, port: int | None, load_before: float, load_after: float,
          workers: int) -> None:
    """Failover drill on a scratch formation: load, kill -9 the primary, promotion,
    reconnect, verify that no acknowledged write is lost and the old primary rejoins.
    Exit 1 on any loss."""
    from pyexchange.ha_drill import run_drill

    # The pool reports each connection the kill broke; the failover retries say enough.
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
    base = base_dir or Formation().base_dir.with_name("ha-drill")
    report = run_drill(base, port or DEFAULT_PORT + 10, load_before=load_before,
                       load_after=load_after, workers=workers,
                       progress=lambda m: console.print(f"- {m}"))
    for line in report.details:
        console.print(f"  {line}")
    (console if report.ok else err_console).print(report.verdict)
    if not report.ok:
        sys.exit(1)


COMMANDS: list[click.Command] = [ha]
