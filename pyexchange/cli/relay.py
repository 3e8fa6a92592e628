"""``pyexchange relay [--once] | prune | status | retry-failed``: the outbox relay to NATS."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta

import click

from pyexchange.cli import AppContext, console, err_console, pass_app, print_table
from pyexchange.cli.confirm import confirm_destruction, yes_option
from pyexchange.cli.output import output_format
from pyexchange.config import resolve_dsn
from pyexchange.relay import (
    DEFAULT_NATS_URL,
    DEFAULT_STREAM,
    DEFAULT_SUBJECT_PREFIX,
    RelayConfig,
    parse_duration,
    run_relay,
)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="Publish what is due now, then exit.")
@click.option("--nats-url", envvar="PYEXCHANGE_NATS_URL", default=DEFAULT_NATS_URL,
              show_default=True, help="NATS server (start one with: nats-server -js).")
@click.option("--stream", envvar="PYEXCHANGE_NATS_STREAM", default=DEFAULT_STREAM,
              show_default=True, help="JetStream stream (created if missing).")
@click.option("--subject-prefix", envvar="PYEXCHANGE_SUBJECT_PREFIX",
              default=DEFAULT_SUBJECT_PREFIX, show_default=True,
              help="Subjects are <prefix>.<aggregate_type>.<event_type>.")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10000))
@click.option("--max-attempts", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Failed publishes before an event is marked FAILED.")
@click.option("--retry-delay", default="1s", show_default=True, callback=_duration,
              help="First retry delay; doubles per attempt.")
@click.option("--max-retry-delay", default="5m", show_default=True, callback=_duration)
@click.option("--poll-interval", default=2.0, show_default=True, type=click.FloatRange(0.05),
              help="Seconds to sleep on LISTEN before looking anyway.")
@click.option("--publish-timeout", default=5.0, show_default=True, type=click.FloatRange(0.1))
@click.option("--duplicate-window", default="10m", show_default=True, callback=_duration,
              help="How long the stream drops repeated message ids (only when creating it).")
@click.option("--connect-timeout", default=5.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds to reach NATS at start before giving up.")
@click.option("--linger", default=0.005, show_default=True, type=click.FloatRange(0, 1),
              help="Seconds to wait after a wake-up before claiming, so that a burst of "
                   "commits makes one batch (latency for CPU).")
@click.option("-v", "--verbose", count=True, help="-v info, -vv debug.")
@click.pass_context
def relay(ctx: click.Context, once: bool, nats_url: str, stream: str, subject_prefix: str,
          batch_size: int, max_attempts: int, retry_delay: timedelta,
          max_retry_delay: timedelta, poll_interval: float, publish_timeout: float,
          duplicate_window: timedelta, connect_timeout: float, linger: float,
          verbose: int) -> None:
    """Publish outbox events to NATS JetStream (until SIGTERM, or --once)."""
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(AppContext)
    assert app is not None
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    config = RelayConfig(
        dsn=resolve_dsn(app.dsn), nats_url=nats_url, stream=stream,
        subject_prefix=subject_prefix, batch_size=batch_size, max_attempts=max_attempts,
        base_delay=retry_delay, max_delay=max_retry_delay, poll_interval=poll_interval,
        publish_timeout=publish_timeout, duplicate_window=duplicate_window.total_seconds(),
        connect_timeout=connect_timeout, linger=linger)
    stats = asyncio.run(run_relay(config, once=once))
    if once or verbose:
        console.print(f"published {stats.published} event(s) in {stats.batches} batch(es); "
                      f"{stats.retried} to retry; {len(stats.failed)} failed")
    for failure in stats.failed:
        err_console.print(f"[bold red]FAILED[/] event {failure.id} {failure.event_type} "
                          f"{failure.aggregate_type}/{failure.aggregate_id} after "
                          f"{failure.attempts} attempts: {failure.last_error}")
    if stats.failed:
        sys.exit(2)


@relay.command()
@click.option("--older-than", required=True, callback=_duration,
              help="Age, e.g. 7d, 12h, 30m.")
@click.option("--keep-failed", is_flag=True, help="Prune published events only.")
@yes_option
@output_format
@pass_app
def prune(app: AppContext, older_than: timedelta, keep_failed: bool) -> None:
    """Delete published and failed events older than --older-than (never pending ones).
    Asks first (or --yes)."""
    confirm_destruction(f"relay prune deletes the {'published' if keep_failed else 'published and failed'} "
                        f"outbox events older than {older_than}")
    rows = app.exchange.prune_outbox_events(older_than, include_failed=not keep_failed)
    print_table("pruned", ["status", "deleted"], [(r.status, r.deleted) for r in rows])


@relay.command()
@output_format
@pass_app
def status(app: AppContext) -> None:
    """Events per status, the oldest, and the next retry due."""
    rows = app.exchange.outbox_stats()
    print_table("outbox", ["status", "events", "oldest", "next attempt"],
                [(r.status, r.events, r.oldest, r.next_attempt_at) for r in rows])


@relay.command("retry-failed")
@click.argument("ids", nargs=-1, type=int)
@pass_app
def retry_failed(app: AppContext, ids: tuple[int, ...]) -> None:
    """Requeue FAILED events (the given ids, or all)."""
    n = app.exchange.retry_failed_outbox_events(list(ids) or None)
    console.print(f"requeued {n} event(s)")


COMMANDS: list[click.Command] = [relay]
