"""Helpers shared by the events tests: a private JetStream stream and reading it back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import nats
import psycopg
import pytest

NATS_URL = os.environ.get("PYEXCHANGE_NATS_URL", "nats://127.0.0.1:4222")


@dataclass(frozen=True)
class StreamSpec:
    name: str
    prefix: str


@dataclass(frozen=True)
class StoredMessage:
    seq: int
    subject: str
    msg_id: str
    headers: dict[str, str]
    body: dict[str, Any]


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _delete_stream(name: str) -> None:
    nc = await nats.connect(NATS_URL, connect_timeout=2)
    try:
        js = nc.jetstream()
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(name)
    finally:
        await nc.close()


@pytest.fixture
def stream() -> Iterator[StreamSpec]:
    """A unique stream name and subject prefix; the stream is deleted afterwards."""
    token = uuid.uuid4().hex[:10]
    spec = StreamSpec(name=f"PYX_TEST_{token.upper()}", prefix=f"pyxtest_{token}")
    try:
        yield spec
    finally:
        _run(_delete_stream(spec.name))


async def _read_stream(name: str) -> list[StoredMessage]:
    nc = await nats.connect(NATS_URL, connect_timeout=2)
    try:
        js = nc.jetstream()
        try:
            info = await js.stream_info(name)
        except nats.js.errors.NotFoundError:
            return []
        out: list[StoredMessage] = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            if info.state.messages == 0:
                break
            msg = await js.get_msg(name, seq)
            headers = dict(msg.headers or {})
            out.append(StoredMessage(seq=seq, subject=msg.subject, msg_id=headers.get("Nats-Msg-Id", ""),
                                     headers=headers, body=json.loads(msg.data or b"{}")))
        return out
    finally:
        await nc.close()


def read_stream(name: str) -> list[StoredMessage]:
    """Every message stored in the stream, in stream order."""
    return list(_run(_read_stream(name)))


async def _count(name: str) -> int:
    nc = await nats.connect(NATS_URL, connect_timeout=2)
    try:
        try:
            return int((await nc.jetstream().stream_info(name)).state.messages)
        except nats.js.errors.NotFoundError:
            return 0
    finally:
        await nc.close()


def stream_count(name: str) -> int:
    return int(_run(_count(name)))


def emit(dsn: str, events: list[tuple[str, str, str, dict[str, Any]]]) -> list[int]:
    """Emit (aggregate_type, aggregate_id, event_type, payload) events in one transaction."""
    with psycopg.connect(dsn) as conn:
        ids = [conn.execute("SELECT exchange._emit_event(%s, %s, %s, %s::jsonb)",
                            (a, i, t, json.dumps(p))).fetchone()[0]  # type: ignore[index]
               for a, i, t, p in events]
        conn.commit()
    return ids


def statuses(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {s: n for s, n in conn.execute(
            "SELECT status::text, count(*)::int FROM exchange.outbox_events GROUP BY 1")}
