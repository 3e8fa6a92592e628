"""The outbox relay: publishes ``exchange.outbox_events`` to NATS JetStream.

At least once, never lost, in order per aggregate (docs/events.md explains the design):

- one database transaction per batch: ``exchange.claim_outbox_events`` locks whole aggregates
  (their oldest pending event, with ``SKIP LOCKED``, then its later siblings), the relay
  publishes them, marks the acknowledged ones PUBLISHED, records the failures, and commits.
  If the relay dies in between, the transaction rolls back and the events are PENDING again;
  the next relay republishes them with the same ``Nats-Msg-Id`` (the event's uuid, unique
  across databases and re-creations) and the stream's duplicate window drops the copies;
  an acknowledgement flagged duplicate counts as published only once the message the stream
  holds under that id is read back and is this very event (else it is a failure);
- within a batch, the events of one aggregate are published one after the other (the next
  only after the broker acknowledged the previous one), different aggregates in parallel
  (pipelined); a failed event stops its aggregate for this batch and is retried with backoff,
  and after ``max_attempts`` it becomes FAILED and is reported;
- between batches the relay sleeps on ``LISTEN exchange_outbox`` with a timeout; while it
  sleeps it is registered in ``exchange.event_listeners``, and only then does the outbox
  trigger NOTIFY (one per transaction): NOTIFY serializes commits, so a busy relay costs the
  emitters nothing. It stops cleanly on SIGTERM or SIGINT after the batch in hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import signal
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import nats.errors
import nats.js.errors
import psycopg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import PubAck, StreamConfig
from psycopg.rows import class_row

from pyexchange.errors import ConfigurationError
from pyexchange.queries import query

log = logging.getLogger("pyexchange.relay")

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_STREAM = "EXCHANGE"
DEFAULT_SUBJECT_PREFIX = "exchange"
SETTLE = 0.5  # seconds the relay waits out transactions in flight when it goes to sleep


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    aggregate_type: str
    aggregate_id: str
    event_type: str
    event_data: Any
    correlation_id: UUID | None
    attempts: int
    created_at: datetime
    event_uuid: UUID


@dataclass(frozen=True)
class OutboxFailure:
    id: int
    aggregate_type: str
    aggregate_id: str
    event_type: str
    attempts: int
    status: str
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True)
class RelayConfig:
    dsn: str
    nats_url: str = DEFAULT_NATS_URL
    stream: str = DEFAULT_STREAM
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX
    batch_size: int = 200
    max_attempts: int = 10
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=5)
    poll_interval: float = 2.0
    publish_timeout: float = 5.0
    duplicate_window: float = 600.0  # seconds the stream remembers message ids
    connect_timeout: float = 5.0  # seconds to reach NATS at start
    linger: float = 0.005  # seconds to wait after a wake-up before claiming (batching)


@dataclass
class RelayStats:
    batches: int = 0
    published: int = 0
    retried: int = 0
    failed: list[OutboxFailure] = field(default_factory=list)

    def add(self, other: RelayStats) -> None:
        self.batches += other.batches
        self.published += other.published
        self.retried += other.retried
        self.failed.extend(other.failed)


def subject_for(prefix: str, aggregate_type: str, event_type: str) -> str:
    return f"{prefix}.{aggregate_type}.{event_type}"


def envelope(event: OutboxEvent) -> bytes:
    """The message body: the event's metadata and its payload under ``data``."""
    return json.dumps(
        {
            "id": event.id,
            "uuid": str(event.event_uuid),
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "event_type": event.event_type,
            "correlation_id": None if event.correlation_id is None else str(event.correlation_id),
            "created_at": event.created_at.isoformat(),
            "data": event.event_data,
        },
        separators=(",", ":"),
    ).encode()


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``12h``, ``7d``, ``2w`` (a bare number is seconds)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 12h, 7d, 2w)")
    return timedelta(**{_UNITS[m.group(2) or "s"]: int(m.group(1))})


class Relay:
    """One relay process's worker. ``await Relay(config).run()``; ``stop()`` from anywhere
    in its event loop (the CLI wires it to SIGTERM and SIGINT)."""

    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self.stats = RelayStats()
        self._stop = asyncio.Event()
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._listen: psycopg.AsyncConnection[Any] | None = None
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._waited_xids: set[str] = set()

    # --- lifecycle ------------------------------------------------------------------------
    def stop(self) -> None:
        """Finish the batch in hand, then return from :meth:`run`."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def connect_database(self) -> None:
        await self.close_database()
        try:
            self._conn = await psycopg.AsyncConnection.connect(
                self.config.dsn, autocommit=True, application_name="pyexchange-relay")
            self._listen = await psycopg.AsyncConnection.connect(
                self.config.dsn, autocommit=True, application_name="pyexchange-relay-listen")
            await self._listen.execute(query("listen_outbox"))
        except psycopg.OperationalError as exc:
            await self.close_database()
            raise ConfigurationError(f"relay cannot reach the database: {exc}") from exc

    async def close_database(self) -> None:
        for conn in (self._conn, self._listen):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
        self._conn = self._listen = None

    async def connect(self) -> None:
        await self.connect_database()
        # Reconnect forever once connected (publishes fail and are retried meanwhile), but
        # give up on the first connection after connect_timeout.
        nc = NATS()

        async def on_error(exc: Exception) -> None:
            log.warning("nats: %r", exc)

        try:
            await asyncio.wait_for(nc.connect(
                servers=[self.config.nats_url], connect_timeout=2, allow_reconnect=True,
                max_reconnect_attempts=-1, reconnect_time_wait=1, name="pyexchange-relay",
                error_cb=on_error), self.config.connect_timeout)
        except (OSError, nats.errors.Error, TimeoutError) as exc:
            with contextlib.suppress(Exception):
                await nc.close()
            raise ConfigurationError(
                f"relay cannot reach NATS at {self.config.nats_url}: {exc!r}",
                hint="Start one with: nats-server -js") from exc
        self._nc = nc
        self._js = self._nc.jetstream(timeout=self.config.publish_timeout)
        await self.ensure_stream()

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
            self._nc = None
        await self.close_database()

    async def ensure_stream(self) -> None:
        """Create the stream (``<prefix>.>``, with a duplicate window) if it is missing."""
        assert self._js is not None
        subjects = [f"{self.config.subject_prefix}.>"]
        try:
            info = await self._js.stream_info(self.config.stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(StreamConfig(
                name=self.config.stream, subjects=subjects,
                duplicate_window=self.config.duplicate_window))
            log.info("created stream %s on %s", self.config.stream, subjects[0])
            return
        have = info.config.subjects or []
        if subjects[0] not in have:
            raise ConfigurationError(
                f"stream {self.config.stream} exists without subject {subjects[0]} "
                f"(it has {have})", hint="Choose another --stream or --subject-prefix.")

    async def run(self, once: bool = False) -> RelayStats:
        """Drain, then sleep on LISTEN until woken (or the poll interval passes), until
        stopped. With ``once``: drain what is due now and return."""
        await self.connect()
        delay = 0.5
        try:
            while not self.stopping:
                try:
                    if self._conn is None:
                        await self.connect_database()
                        log.warning("reconnected to the database")
                    drained = await self.drain()
                    self.stats.add(drained)
                    delay = 0.5
                    if once:
                        break
                    if not await self._sleep():
                        continue  # found work while going to sleep
                    if self.config.linger > 0 and not self.stopping:
                        # Let a burst of commits gather: fewer, fuller batches for a few ms.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._stop.wait(), self.config.linger)
                except (psycopg.OperationalError, ConfigurationError) as exc:
                    # The database went away (restart, failover, terminated session): the
                    # batch in hand rolled back; reconnect with backoff (--once gives up).
                    if once:
                        raise
                    log.error("database connection lost: %s; reconnecting in %.1f s", exc, delay)
                    await self.close_database()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), delay)
                    delay = min(delay * 2, 30.0)
        finally:
            await self.close()
        return self.stats

    async def _sleep(self) -> bool:
        """Register as sleeping (so that emitters NOTIFY), look once more for work committed
        before the registration, then wait. Returns False when that last look found work."""
        assert self._listen is not None
        listen = self._listen
        await listen.execute(query("register_listener"), {"channel": "exchange_outbox"})
        try:
            # A transaction whose trigger looked before the registration did not NOTIFY; it
            # is one of those in progress now. Look again once each of them has ended, for
            # at most SETTLE seconds; a transaction already waited for once (a long one, or
            # one that writes no event) is not waited for again: the poll interval covers it.
            row = await (await listen.execute(query("in_progress_xids"))).fetchone()
            running = {str(x) for x in (row[0] if row else [])}
            self._waited_xids &= running  # forget the ones that ended
            xids = sorted(running - self._waited_xids)
            self._waited_xids |= running
            deadline = time.monotonic() + min(SETTLE, self.config.poll_interval)
            while True:
                if xids:  # still running? (checked before the claim, so none ends unseen)
                    row = await (await listen.execute(query("any_in_progress"),
                                                      {"xids": xids})).fetchone()
                    xids = xids if row and row[0] else []
                again = await self.relay_batch()
                self.stats.add(again)
                if again.batches:
                    return False
                if not xids or time.monotonic() >= deadline:
                    break
                await self._wait(0.02)  # a NOTIFY from another emitter ends it too
                if self.stopping:
                    return True
            await self._wait(self.config.poll_interval)
            return True
        finally:
            if not listen.closed:
                await listen.execute(query("unregister_listener"), {"channel": "exchange_outbox"})

    async def _wait(self, timeout: float) -> None:
        """Until a NOTIFY arrives, ``timeout`` passes, or :meth:`stop` is called."""
        assert self._listen is not None
        listen = self._listen

        async def notified() -> None:
            async for _ in listen.notifies(timeout=timeout, stop_after=1):
                break

        waiter = asyncio.ensure_future(notified())
        stopper = asyncio.ensure_future(self._stop.wait())
        _, pending = await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if waiter.done() and not waiter.cancelled() and (problem := waiter.exception()):
            raise problem  # the listening connection is gone: run() reconnects

    # --- batches --------------------------------------------------------------------------
    async def drain(self) -> RelayStats:
        """Publish batches until nothing is due (or a batch made no progress)."""
        total = RelayStats()
        while not self.stopping:
            batch = await self.relay_batch()
            total.add(batch)
            if batch.batches == 0 or batch.published == 0:
                break
        return total

    async def relay_batch(self) -> RelayStats:
        """Claim one batch, publish it, mark it, commit. Returns what happened."""
        assert self._conn is not None
        cfg = self.config
        stats = RelayStats()
        async with self._conn.transaction():
            async with self._conn.cursor(row_factory=class_row(OutboxEvent)) as cur:
                await cur.execute(query("claim_outbox_events"), {"limit": cfg.batch_size})
                events = await cur.fetchall()
            if not events:
                return stats
            stats.batches = 1
            # Publish only what is durable: a commit made with synchronous_commit = off
            # (exchange.submit_order's early lock release) is visible before its WAL is
            # flushed. A synchronous commit on the other connection, begun after this claim's
            # snapshot, flushes the WAL past every commit the claim saw.
            assert self._listen is not None
            await self._listen.execute(query("flush_wal"))
            published, failures = await self.publish(events)
            if published:
                await self._conn.execute(query("mark_outbox_events_published"),
                                         {"ids": published})
                stats.published = len(published)
            for error, ids in failures.items():
                async with self._conn.cursor(row_factory=class_row(OutboxFailure)) as cur:
                    await cur.execute(query("record_outbox_failures"), {
                        "ids": ids, "error": error, "max_attempts": cfg.max_attempts,
                        "base_delay": cfg.base_delay, "max_delay": cfg.max_delay})
                    for row in await cur.fetchall():
                        if row.status == "FAILED":
                            stats.failed.append(row)
                            log.error("event %s (%s %s/%s) FAILED after %s attempts: %s",
                                      row.id, row.event_type, row.aggregate_type,
                                      row.aggregate_id, row.attempts, row.last_error)
                        else:
                            stats.retried += 1
                            log.warning("event %s attempt %s failed, retry at %s: %s", row.id,
                                        row.attempts, row.next_attempt_at.isoformat(), error)
        return stats

    async def publish(self, events: list[OutboxEvent]) -> tuple[list[int], dict[str, list[int]]]:
        """Publish ``events`` (in id order). Aggregates in parallel, each aggregate's events
        one after the other; the first failure of an aggregate stops it for this batch.
        Returns the acknowledged ids and the failed ids by error."""
        assert self._js is not None
        js = self._js
        queues: dict[tuple[str, str], list[OutboxEvent]] = {}
        for event in events:
            queues.setdefault((event.aggregate_type, event.aggregate_id), []).append(event)
        lanes = list(queues.values())
        published: list[int] = []
        failures: dict[str, list[int]] = {}
        depth = max(len(lane) for lane in lanes)
        for i in range(depth):
            round_events = [lane[i] for lane in lanes if len(lane) > i]
            futures: list[tuple[OutboxEvent, asyncio.Future[PubAck] | BaseException]] = []
            for event in round_events:
                headers = {"Nats-Msg-Id": str(event.event_uuid)}
                if event.correlation_id is not None:
                    headers["Exchange-Correlation-Id"] = str(event.correlation_id)
                try:
                    fut: asyncio.Future[PubAck] | BaseException = await js.publish_async(
                        subject_for(self.config.subject_prefix, event.aggregate_type,
                                    event.event_type),
                        envelope(event), headers=headers)
                except Exception as exc:
                    fut = exc
                futures.append((event, fut))
            stopped: set[tuple[str, str]] = set()
            waiting = [f for _, f in futures if isinstance(f, asyncio.Future)]
            late: set[asyncio.Future[PubAck]] = set()
            if waiting:
                _, late = await asyncio.wait(waiting, timeout=self.config.publish_timeout)
            for event, fut in futures:
                problem: BaseException | None
                if isinstance(fut, BaseException):
                    problem = fut
                elif fut in late:
                    fut.cancel()
                    problem = TimeoutError(f"no ack within {self.config.publish_timeout}s")
                else:
                    problem = fut.exception()
                    if problem is None and fut.result().duplicate:
                        problem = await self._check_duplicate(event, fut.result())
                if problem is not None:
                    error = f"{type(problem).__name__}: {problem}".strip()
                    failures.setdefault(error, []).append(event.id)
                    stopped.add((event.aggregate_type, event.aggregate_id))
                else:
                    published.append(event.id)
            if stopped:
                lanes = [lane for lane in lanes
                         if (lane[0].aggregate_type, lane[0].aggregate_id) not in stopped]
        return published, failures

    async def _check_duplicate(self, event: OutboxEvent, ack: PubAck) -> BaseException | None:
        """The stream acknowledged ``event`` as a duplicate: it already holds a message
        under the event's ``Nats-Msg-Id``. That is a success only if the stored message is
        this very event (published by an earlier attempt whose commit was lost); anything
        else (another message under the same id, or one that cannot be read back) is a
        failure, so that an event is never marked PUBLISHED without reaching the stream."""
        assert self._js is not None
        try:
            stored = await self._js.get_msg(ack.stream, ack.seq)
        except Exception as exc:  # deleted meanwhile, no permission, timeout...
            return DuplicateRefused(f"duplicate ack for event {event.id} ({event.event_uuid}) "
                                    f"not verifiable at {ack.stream}#{ack.seq}: {exc!r}")
        if (stored.headers or {}).get("Nats-Msg-Id") == str(event.event_uuid) \
                and (stored.data or b"") == envelope(event):
            return None
        return DuplicateRefused(f"duplicate ack for event {event.id} ({event.event_uuid}): "
                                f"{ack.stream}#{ack.seq} holds another message under its id")


class DuplicateRefused(Exception):
    """JetStream acknowledged an event as a duplicate of a message that is not this event."""


def install_signal_handlers(relay: Relay) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.stop)


async def run_relay(config: RelayConfig, once: bool = False) -> RelayStats:
    relay = Relay(config)
    install_signal_handlers(relay)
    return await relay.run(once=once)
