"""The events domain's methods of :class:`pyexchange.Exchange`: the outbox, notifications
and the live market feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyexchange.client import ClientBase

    _Base = ClientBase
else:
    _Base = object


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


class EventsAPI(_Base):
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
