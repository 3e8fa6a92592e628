"""The events domain's methods of :class:`pyexchange.Exchange`: the outbox, notifications
and the live market feed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pyexchange import crypto, webhooks
from pyexchange.base import ClientBase
from pyexchange.errors import InvalidArgument

if TYPE_CHECKING:
    from pyexchange.market_feed import MarketUpdate



@dataclass(frozen=True)
class OutboxStat:
    status: str
    events: int
    oldest: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class PrunedEvents:
    status: str
    deleted: int


class OutboxAPI(ClientBase):
    """Outbox administration, notifications and the live market feed."""

    def outbox_stats(self) -> list[OutboxStat]:
        """``exchange.outbox_stats``: events per status, the oldest, the next retry due."""
        return self._all("outbox_stats", None, OutboxStat)

    def prune_outbox_events(
        self, older_than: timedelta, include_failed: bool = True
    ) -> list[PrunedEvents]:
        """``exchange.prune_outbox_events``: delete published (and failed) events older than
        ``older_than``; pending ones are never pruned."""
        return self._all("prune_outbox_events",
                         {"older_than": older_than, "include_failed": include_failed},
                         PrunedEvents)

    def retry_failed_outbox_events(self, ids: list[int] | None = None) -> int:
        """``exchange.retry_failed_outbox_events``: requeue FAILED events (all when None)."""
        return int(self._scalar("retry_failed_outbox_events", {"ids": ids}))


@dataclass(frozen=True)
class InAppNotification:
    id: int
    event_id: int | None
    event_type: str | None
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None


class NotificationsAPI(ClientBase):
    """Notification templates, preferences, webhook endpoints and in-app notifications."""

    def create_notification_template(self, event_type: str, channel: str, subject: str,
                                     body: str, locale: str = "en") -> int:
        """``exchange.create_notification_template``: create or replace the template of an
        event type, channel (EMAIL, WEBHOOK, IN_APP) and locale. ``{{key}}`` placeholders
        must be keys of the event type's payload (docs/events.md), else
        :class:`~pyexchange.errors.TemplatePlaceholderInvalid`."""
        return int(self._scalar("create_notification_template", {
            "event_type": event_type, "channel": channel, "locale": locale,
            "subject": subject, "body": body}))

    def set_notification_preference(self, user_id: int, event_type: str, channel: str,
                                    enabled: bool) -> None:
        """``exchange.set_notification_preference``: turn a channel on or off for a user
        and an event type."""
        self._scalar("set_notification_preference", {
            "user_id": user_id, "event_type": event_type, "channel": channel,
            "enabled": enabled})

    def set_webhook_endpoint(self, user_id: int, url: str | None, secret: str | None) -> None:
        """``exchange.set_webhook_endpoint``: where the user's WEBHOOK notifications go and
        the HMAC-SHA256 secret that signs them (``url=None`` removes it).

        The URL must be http(s) and its host public: unless an admin allowed the host, a name
        is resolved here and refused (:class:`~pyexchange.errors.UnsafeWebhookUrl`) when any
        of its addresses is loopback, private, link-local, multicast, unspecified or reserved
        (the database checks IP literals itself; :mod:`pyexchange.webhooks`)."""
        if url is not None:
            host = webhooks.parse_url(url).host
            webhooks.check_url(url, allowed=self.webhook_host_allowed(host))
            if secret is None or not 16 <= len(secret) <= 256:
                raise InvalidArgument("invalid webhook endpoint",
                                      detail=f"secret length {len(secret or '')}",
                                      hint="A secret of 16 to 256 characters.")
            # stored encrypted (pyexchange.crypto); the notification worker decrypts it to sign
            secret = self.cipher.encrypt(crypto.WEBHOOK_SECRET, secret)
        self._scalar("set_webhook_endpoint", {"user_id": user_id, "url": url, "secret": secret})

    def webhook_host_allowed(self, host: str) -> bool:
        """``exchange.webhook_host_allowed``: is ``host`` on the admin's webhook allow-list?"""
        return bool(self._scalar("webhook_host_allowed", {"host": host}))

    def set_webhook_host_allowed(self, host: str, allowed: bool = True) -> bool:
        """``exchange.set_webhook_host_allowed`` (admin: ``webhook:allow_host``, or a DBA):
        allow (or no longer allow) webhooks to ``host`` although it is not public; True when
        something changed."""
        return bool(self._scalar("set_webhook_host_allowed", {"host": host, "allowed": allowed}))

    def list_notifications(self, user_id: int, unread_only: bool = False,
                           limit: int = 100) -> list[InAppNotification]:
        """``exchange.list_notifications``: the user's in-app notifications, newest first."""
        return self._all("list_notifications",
                         {"user_id": user_id, "unread_only": unread_only, "limit": limit},
                         InAppNotification)

    def mark_notification_read(self, user_id: int, notification_id: int | None = None) -> int:
        """``exchange.mark_notification_read``: mark one (or, with None, every) in-app
        notification of the user read; returns how many were newly marked."""
        return int(self._scalar("mark_notification_read",
                                {"user_id": user_id, "notification_id": notification_id}))




class MarketFeedAPI(ClientBase):
    """The live market feed (LISTEN on the pair's channel)."""

    def watch(self, symbol: str, depth: int = 20, timeout: float | None = None,
              recent_trades: int = 20) -> Iterator[MarketUpdate]:
        """Yield a snapshot of the pair's book and recent trades, then one
        :class:`~pyexchange.market_feed.MarketUpdate` per committed change (trades, levels,
        the book after it). Uses its own connection; stops after ``timeout`` seconds
        without a change (None: never) or when the generator is closed."""
        from pyexchange.market_feed import watch

        return watch(self.dsn, symbol, depth=depth, timeout=timeout,
                     recent_trades=recent_trades)


class EventsAPI(OutboxAPI, NotificationsAPI, MarketFeedAPI):
    """The events domain: outbox administration, notifications, the live market feed."""
