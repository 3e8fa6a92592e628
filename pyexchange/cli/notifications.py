"""``pyexchange notifications worker | template | list | read | prefer | webhook``."""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

import click

from pyexchange.cli import AppContext, console, err_console, pass_app, print_table
from pyexchange.cli.output import output_format
from pyexchange.config import configured_dsn, resolve_dsn
from pyexchange.crypto import MasterKeys
from pyexchange.notifier import Notifier, NotifierConfig
from pyexchange.relay import parse_duration


def _master_keys(dsn: str | None) -> MasterKeys | None:
    """The worker's master key: the environment's, else the embedded server's key file."""
    if configured_dsn(dsn) is None:
        from pyexchange.server import default_base_dir

        return MasterKeys.load(default_base_dir())
    return MasterKeys.load()


CHANNELS = click.Choice(["EMAIL", "WEBHOOK", "IN_APP"], case_sensitive=False)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.group()
def notifications() -> None:
    """Notification templates, preferences, in-app notifications and the delivery worker."""


@notifications.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--smtp-host", envvar="PYEXCHANGE_SMTP_HOST", default="127.0.0.1", show_default=True)
@click.option("--smtp-port", envvar="PYEXCHANGE_SMTP_PORT", default=25, show_default=True, type=int)
@click.option("--smtp-from", envvar="PYEXCHANGE_SMTP_FROM",
              default="pyexchange <noreply@pyexchange.local>", show_default=True)
@click.option("--smtp-starttls", is_flag=True, envvar="PYEXCHANGE_SMTP_STARTTLS")
@click.option("--smtp-user", envvar="PYEXCHANGE_SMTP_USER", default=None)
@click.option("--smtp-password", envvar="PYEXCHANGE_SMTP_PASSWORD", default=None)
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--max-attempts", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option("--retry-delay", default="5s", show_default=True, callback=_duration)
@click.option("--max-retry-delay", default="1h", show_default=True, callback=_duration)
@click.option("--poll-interval", default=2.0, show_default=True, type=click.FloatRange(0.05))
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds for one SMTP or HTTP delivery.")
@click.option("-v", "--verbose", count=True)
@pass_app
def worker(app: AppContext, once: bool, smtp_host: str, smtp_port: int, smtp_from: str,
           smtp_starttls: bool, smtp_user: str | None, smtp_password: str | None,
           batch_size: int, max_attempts: int, retry_delay: timedelta,
           max_retry_delay: timedelta, poll_interval: float, timeout: float,
           verbose: int) -> None:
    """Deliver EMAIL (SMTP) and WEBHOOK (signed HTTP POST) notifications until SIGTERM."""
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    stats = Notifier(NotifierConfig(
        dsn=resolve_dsn(app.dsn), smtp_host=smtp_host, smtp_port=smtp_port,
        smtp_from=smtp_from, smtp_starttls=smtp_starttls, smtp_user=smtp_user,
        smtp_password=smtp_password, batch_size=batch_size, max_attempts=max_attempts,
        base_delay=retry_delay, max_delay=max_retry_delay, poll_interval=poll_interval,
        timeout=timeout, master_keys=_master_keys(app.dsn))).run(once=once, install_signals=True)
    console.print(f"sent {stats.sent}; {stats.retried} to retry; {len(stats.failed)} failed")
    for nid, error in stats.failed:
        err_console.print(f"[bold red]FAILED[/] notification {nid}: {error}")
    if stats.failed:
        sys.exit(2)


@notifications.command()
@click.argument("event_type")
@click.argument("channel", type=CHANNELS)
@click.option("--locale", default="en", show_default=True)
@click.option("--subject", required=True)
@click.option("--body", required=True, help="Text with {{key}} placeholders from the payload.")
@pass_app
def template(app: AppContext, event_type: str, channel: str, locale: str, subject: str,
             body: str) -> None:
    """Create or replace the template of EVENT_TYPE on CHANNEL."""
    tid = app.exchange.create_notification_template(event_type, channel.upper(), subject, body,
                                                    locale)
    console.print(f"template {tid}")


@notifications.command("list")
@click.argument("user_id", type=int)
@click.option("--unread", is_flag=True)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@output_format
@pass_app
def list_(app: AppContext, user_id: int, unread: bool, limit: int) -> None:
    """A user's in-app notifications, newest first."""
    rows = app.exchange.list_notifications(user_id, unread, limit)
    print_table("notifications", ["id", "event", "subject", "body", "created", "read"],
                [(r.id, r.event_type, r.subject, r.body, r.created_at, r.read_at or "")
                 for r in rows])


@notifications.command()
@click.argument("user_id", type=int)
@click.argument("notification_id", type=int, required=False)
@pass_app
def read(app: AppContext, user_id: int, notification_id: int | None) -> None:
    """Mark an in-app notification read (all of the user's when no id is given)."""
    console.print(f"marked {app.exchange.mark_notification_read(user_id, notification_id)}")


@notifications.command()
@click.argument("user_id", type=int)
@click.argument("event_type")
@click.argument("channel", type=CHANNELS)
@click.argument("state", type=click.Choice(["on", "off"]))
@pass_app
def prefer(app: AppContext, user_id: int, event_type: str, channel: str, state: str) -> None:
    """Turn CHANNEL on or off for USER_ID and EVENT_TYPE."""
    app.exchange.set_notification_preference(user_id, event_type, channel.upper(), state == "on")
    console.print(f"{channel.upper()} {state} for {event_type}")


@notifications.command()
@click.argument("user_id", type=int)
@click.argument("url", required=False)
@click.option("--secret", envvar="PYEXCHANGE_WEBHOOK_SECRET", help="At least 16 characters.")
@pass_app
def webhook(app: AppContext, user_id: int, url: str | None, secret: str | None) -> None:
    """Set USER_ID's webhook URL and signing secret (no URL removes it)."""
    app.exchange.set_webhook_endpoint(user_id, url, secret)
    console.print("webhook " + ("set" if url else "removed"))


COMMANDS: list[click.Command] = [notifications]
