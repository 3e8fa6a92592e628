"""The outbox relay against the real NATS JetStream server (127.0.0.1:4222).

Each test uses its own database clone and its own stream and subject prefix, deleted
afterwards. Waits are bounded polls of an observable condition, never bare sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import class_row

from pyexchange.queries import query
from pyexchange.relay import OutboxEvent, Relay, RelayConfig, envelope
from tests.integration._events_support import (
    NATS_URL,
    StreamSpec,
    emit,
    read_stream,
    statuses,
    stream,
    stream_count,
)

__all__ = ["stream"]  # the fixture, re-exported for pytest

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def config(dsn: str, spec: StreamSpec, **kw: Any) -> RelayConfig:
    return RelayConfig(dsn=dsn, nats_url=NATS_URL, stream=spec.name, subject_prefix=spec.prefix,
                       **kw)


def relay_cmd(dsn: str, spec: StreamSpec, *args: str) -> list[str]:
    return [sys.executable, "-c", "from pyexchange.cli import main; main()", "--dsn", dsn,
            "relay", "--nats-url", NATS_URL, "--stream", spec.name,
            "--subject-prefix", spec.prefix, *args]


def sample_payload(keys: list[str], n: int) -> dict[str, Any]:
    return {k: (n if k.endswith("_id") else f"{k}-{n}") for k in keys}


def assert_order_per_aggregate(messages: list[Any]) -> dict[str, list[int]]:
    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for m in messages:
        by_aggregate[f"{m.body['aggregate_type']}/{m.body['aggregate_id']}"].append(m.body["id"])
    for key, ids in by_aggregate.items():
        assert ids == sorted(ids), f"aggregate {key} out of order: {ids}"
    return by_aggregate


# --- every event type ------------------------------------------------------------------------
def test_every_event_type_reaches_a_subscriber(clone_dsn: str, stream: StreamSpec) -> None:
    with psycopg.connect(clone_dsn) as conn:
        types = conn.execute("SELECT event_type, aggregate_type, payload_keys FROM "
                             "exchange.event_types ORDER BY event_type").fetchall()
    assert len(types) >= 14
    expected: dict[str, tuple[str, dict[str, Any]]] = {}
    with psycopg.connect(clone_dsn) as conn:
        conn.execute("SELECT set_config('exchange.correlation_id', "
                     "'0b9e2f0c-7f43-4d5e-9a31-2c1f4b5a6d7e', true)")
        for n, (event_type, aggregate_type, keys) in enumerate(types, start=1):
            payload = sample_payload(keys, n)
            conn.execute("SELECT exchange._emit_event(%s, %s, %s, %s::jsonb)",
                         (aggregate_type, str(n), event_type, json.dumps(payload)))
            expected[event_type] = (aggregate_type, payload)
        conn.commit()

    async def scenario() -> list[Any]:
        import nats

        relay = Relay(config(clone_dsn, stream))
        await relay.connect()  # creates the stream, so a subscriber can bind to it
        nc = await nats.connect(NATS_URL)
        received: list[Any] = []
        got_all = asyncio.Event()

        async def on_msg(msg: Any) -> None:
            received.append(msg)
            await msg.ack()
            if len(received) == len(expected):
                got_all.set()

        sub = await nc.jetstream().subscribe(f"{stream.prefix}.>", cb=on_msg,
                                             stream=stream.name)
        try:
            stats = await relay.drain()
            assert stats.published == len(expected) and not stats.failed
            await asyncio.wait_for(got_all.wait(), 15)
        finally:
            await sub.unsubscribe()
            await nc.close()
            await relay.close()
        return received

    received = asyncio.run(scenario())
    assert len(received) == len(expected)
    for msg in received:
        body = json.loads(msg.data)
        aggregate_type, payload = expected[body["event_type"]]
        assert msg.subject == f"{stream.prefix}.{aggregate_type}.{body['event_type']}"
        assert msg.headers["Nats-Msg-Id"] == body["uuid"]
        assert body["aggregate_type"] == aggregate_type
        assert body["data"] == payload
        assert body["correlation_id"] == "0b9e2f0c-7f43-4d5e-9a31-2c1f4b5a6d7e"
        assert msg.headers["Exchange-Correlation-Id"] == body["correlation_id"]
    assert statuses(clone_dsn) == {"PUBLISHED": len(expected)}


# --- failures: backoff, FAILED, order held ------------------------------------------------------
def test_failed_publish_retries_with_backoff_then_fails_and_holds_its_aggregate(
        clone_dsn: str, stream: StreamSpec) -> None:
    first, second, other = emit(clone_dsn, [
        ("order", "1", "order_placed", {"n": 1}),
        ("order", "1", "order_cancelled", {"n": 2}),
        ("order", "2", "order_placed", {"n": 3}),
    ])

    async def scenario() -> None:
        relay = Relay(config(clone_dsn, stream, max_attempts=2,
                             base_delay=timedelta(minutes=5), publish_timeout=1.0))
        await relay.connect()
        assert relay._js is not None
        await relay._js.delete_stream(stream.name)  # the broker refuses: no stream
        try:
            s1 = await relay.relay_batch()
            # One failure per aggregate: the second event of order 1 waited for the first.
            assert s1.published == 0 and s1.retried == 2 and not s1.failed
            with psycopg.connect(clone_dsn) as conn:
                rows = dict(conn.execute("SELECT id, attempts FROM exchange.outbox_events"))
                assert rows == {first: 1, second: 0, other: 1}
                # Retried after the backoff (5 min for a first failure), not before.
                assert conn.execute("SELECT bool_and(next_attempt_at > now() + interval '4 min')"
                                    " FROM exchange.outbox_events WHERE attempts = 1"
                                    ).fetchone() == (True,)
                # Not due yet: nothing is claimed.
                assert conn.execute("SELECT count(*) FROM exchange.claim_outbox_events(10)"
                                    ).fetchone() == (0,)
                # Not due for 5 minutes; let the time pass.
                conn.execute("UPDATE exchange.outbox_events SET next_attempt_at = now() "
                             "WHERE attempts > 0")
                conn.commit()
            assert _due(clone_dsn)
            s2 = await relay.relay_batch()
            assert s2.published == 0 and {f.id for f in s2.failed} == {first, other}
            assert all(f.status == "FAILED" and f.last_error for f in s2.failed)
            await relay.ensure_stream()  # the broker is back
            s3 = await relay.relay_batch()
            assert s3.published == 1  # order 1's next event goes on after the dead one
        finally:
            await relay.close()

    asyncio.run(scenario())
    assert statuses(clone_dsn) == {"FAILED": 2, "PUBLISHED": 1}
    assert [m.body["id"] for m in read_stream(stream.name)] == [second]
    with psycopg.connect(clone_dsn) as conn:
        assert conn.execute("SELECT exchange.retry_failed_outbox_events(NULL)").fetchone() == (2,)
        conn.commit()
    assert asyncio.run(Relay(config(clone_dsn, stream)).run(once=True)).published == 2
    assert statuses(clone_dsn) == {"PUBLISHED": 3}


def _due(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT bool_and(next_attempt_at <= now()) FROM exchange.outbox_events"
                           " WHERE status = 'PENDING'").fetchone()
        return bool(row and row[0])


# --- wake-up and clean stop ------------------------------------------------------------------
def test_relay_wakes_on_notify_and_stops_on_request(clone_dsn: str, stream: StreamSpec) -> None:
    async def scenario() -> float:
        relay = Relay(config(clone_dsn, stream, poll_interval=60.0))
        task = asyncio.create_task(relay.run())
        # Wait until it listens, then emit: the NOTIFY, not the 60 s poll, must wake it.
        for _ in range(500):
            if relay._listen is not None and relay._js is not None:
                break
            await asyncio.sleep(0.01)
        start = time.monotonic()
        await asyncio.to_thread(emit, clone_dsn, [("user", "7", "user_activated",
                                                    {"user_id": 7, "username": "x"})])
        while await asyncio.to_thread(stream_count, stream.name) < 1:
            assert time.monotonic() - start < 10, "relay did not wake up on NOTIFY"
            await asyncio.sleep(0.02)
        latency = time.monotonic() - start
        relay.stop()
        stats = await asyncio.wait_for(task, 10)
        assert stats.published == 1
        return latency

    assert asyncio.run(scenario()) < 10
    assert statuses(clone_dsn) == {"PUBLISHED": 1}


# --- SIGKILL mid-batch -----------------------------------------------------------------------
@pytest.fixture
def relay_procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(10)


def test_sigkill_mid_batch_then_restart_loses_and_duplicates_nothing(
        clone_dsn: str, stream: StreamSpec, relay_procs: list[subprocess.Popen[bytes]]) -> None:
    n, batch = 300, 100
    ids = emit(clone_dsn, [("order", str(i % 7), "order_placed", {"i": i}) for i in range(n)])
    # Hold the relay between "broker acknowledged the batch" and "marked PUBLISHED": its
    # UPDATE waits for an advisory lock this test holds.
    holder = psycopg.connect(clone_dsn, autocommit=True)
    try:
        holder.execute("""
            CREATE FUNCTION exchange.tg_test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_advisory_xact_lock(424242); RETURN NEW; END $$;
            CREATE TRIGGER tg_test_hold BEFORE UPDATE ON exchange.outbox_events
                FOR EACH STATEMENT EXECUTE FUNCTION exchange.tg_test_hold();""")
        holder.execute("SELECT pg_advisory_lock(424242)")
        proc = subprocess.Popen(relay_cmd(clone_dsn, stream, "--batch-size", str(batch)),
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        relay_procs.append(proc)
        wait_for(lambda: stream_count(stream.name) >= batch, 30, "the first batch at the broker")
        wait_for(lambda: holder.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pyexchange-relay' "
            "AND wait_event_type = 'Lock'").fetchone() == (1,), 10, "the relay to block")
        assert stream_count(stream.name) == batch
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # The killed relay's server process is stuck on the lock: end it (as PostgreSQL
        # would once it noticed the client is gone), then let go of the lock.
        holder.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND application_name LIKE 'pyexchange-relay%'")
        wait_for(lambda: holder.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE "
            "'pyexchange-relay%'").fetchone() == (0,), 10, "the relay's sessions to end")
        holder.execute("SELECT pg_advisory_unlock(424242)")
        holder.execute("DROP TRIGGER tg_test_hold ON exchange.outbox_events; "
                       "DROP FUNCTION exchange.tg_test_hold()")
    finally:
        holder.close()
    assert statuses(clone_dsn) == {"PENDING": n}, "nothing was marked before the kill"

    again = subprocess.run(relay_cmd(clone_dsn, stream, "--once", "--batch-size", str(batch)),
                           cwd=ROOT, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr.decode()
    assert statuses(clone_dsn) == {"PUBLISHED": n}
    messages = read_stream(stream.name)
    assert len(messages) == n, "the broker dropped the republished copies of the first batch"
    assert sorted(m.body["id"] for m in messages) == ids
    assert all(m.msg_id == m.body["uuid"] for m in messages)
    assert_order_per_aggregate(messages)


# --- two relays ---------------------------------------------------------------------------------
def test_two_relays_keep_each_aggregates_order(
        clone_dsn: str, stream: StreamSpec, relay_procs: list[subprocess.Popen[bytes]]) -> None:
    import threading

    n_before, n_during = 1000, 400
    ids = emit(clone_dsn, [("order", str(i % 11), "order_placed", {"i": i})
                           for i in range(n_before)])
    # The stream exists before both start, so neither races the other to create it.
    asyncio.run(_ensure_stream(clone_dsn, stream))
    for _ in range(2):
        relay_procs.append(subprocess.Popen(
            relay_cmd(clone_dsn, stream, "--batch-size", "25", "--poll-interval", "0.2", "-v"),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    # And more while they run: two producers, one transaction per event, on the same
    # aggregates (each producer holds the aggregate's row, as a domain function would).
    produced: list[int] = []

    def producer(offset: int) -> None:
        with psycopg.connect(clone_dsn) as conn:
            for i in range(offset, n_during, 2):
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (i % 11,))
                row = conn.execute("SELECT exchange._emit_event('order', %s, 'order_filled', "
                                   "'{}'::jsonb)", (str(i % 11),)).fetchone()
                conn.commit()
                assert row is not None
                produced.append(int(row[0]))

    threads = [threading.Thread(target=producer, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = sorted(ids + produced)
    n = len(ids)
    assert n == n_before + n_during
    wait_for(lambda: statuses(clone_dsn).get("PUBLISHED") == n, 60, "every event published")
    outputs = []
    for p in relay_procs:
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=15)
        assert p.returncode == 0, err.decode()  # a clean stop
        outputs.append(out.decode())
    messages = read_stream(stream.name)
    assert sorted(m.body["id"] for m in messages) == ids  # no duplicates: nobody crashed
    assert all(m.msg_id == m.body["uuid"] for m in messages)
    by_aggregate = assert_order_per_aggregate(messages)
    assert len(by_aggregate) == 11
    published = [int(o.split("published ")[1].split()[0]) for o in outputs]
    assert sum(published) == n, outputs  # each event published by exactly one relay


async def _ensure_stream(dsn: str, spec: StreamSpec) -> None:
    relay = Relay(config(dsn, spec))
    await relay.connect()
    await relay.close()


def test_relay_says_how_to_start_nats_when_it_is_unreachable(clone_dsn: str) -> None:
    emit(clone_dsn, [("user", "1", "user_activated", {"user_id": 1})])
    env = dict(os.environ)
    bad = subprocess.run(
        [sys.executable, "-c", "from pyexchange.cli import main; main()", "--dsn", clone_dsn,
         "relay", "--once", "--nats-url", "nats://127.0.0.1:1", "--connect-timeout", "0.5"],
        cwd=ROOT, capture_output=True, timeout=60, env=env)
    assert bad.returncode == 1 and b"nats-server -js" in bad.stderr


def test_prune_and_status_from_the_command_line(clone_dsn: str) -> None:
    from click.testing import CliRunner

    from pyexchange.cli import main

    ids = emit(clone_dsn, [("user", "1", "user_activated", {"user_id": 1}),
                           ("user", "2", "user_activated", {"user_id": 2}),
                           ("user", "3", "user_activated", {"user_id": 3})])
    with psycopg.connect(clone_dsn) as conn:
        conn.execute("SELECT exchange.mark_outbox_events_published(%s)", (ids[:2],))
        conn.execute("UPDATE exchange.outbox_events SET created_at = now() - interval '8 days'")
        conn.execute("UPDATE exchange.outbox_events SET created_at = now() - interval '1 day' "
                     "WHERE id = %s", (ids[1],))
    runner = CliRunner()
    status = runner.invoke(main, ["--dsn", clone_dsn, "relay", "status"])
    assert status.exit_code == 0, status.output
    assert "PUBLISHED" in status.output and "PENDING" in status.output
    bad = runner.invoke(main, ["--dsn", clone_dsn, "relay", "prune", "--older-than", "soon"])
    assert bad.exit_code == 2
    pruned = runner.invoke(main, ["--dsn", clone_dsn, "relay", "prune", "--older-than", "7d", "--yes"])
    assert pruned.exit_code == 0, pruned.output
    # Only the 8-day-old published event goes: the 1-day-old one and the pending one stay.
    assert statuses(clone_dsn) == {"PUBLISHED": 1, "PENDING": 1}


def test_relay_works_as_the_worker_role_and_not_as_the_app_role(
        clone_dsn: str, stream: StreamSpec) -> None:
    """Least privilege: a login that is only a member of exchange_worker runs the relay (API
    functions only; no table access); a login of exchange_app cannot claim or mark events."""
    import uuid

    role, app_role = f"pyx_relay_{uuid.uuid4().hex[:8]}", f"pyx_app_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(clone_dsn, autocommit=True)
    try:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE exchange_worker").format(
            sql.Identifier(role)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE exchange_app").format(
            sql.Identifier(app_role)))
        emit(clone_dsn, [("user", "5", "user_activated", {"user_id": 5, "username": "x"})])
        worker_dsn = psycopg.conninfo.make_conninfo(clone_dsn, user=role)
        app_dsn = psycopg.conninfo.make_conninfo(clone_dsn, user=app_role)
        with psycopg.connect(worker_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM exchange.outbox_events")
        with psycopg.connect(app_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM exchange.claim_outbox_events(10)")
        assert statuses(clone_dsn) == {"PENDING": 1}
        stats = asyncio.run(Relay(config(worker_dsn, stream)).run(once=True))
        assert stats.published == 1 and not stats.failed
        with psycopg.connect(worker_dsn) as conn:
            assert conn.execute("SELECT count(*) FROM exchange.outbox_stats()").fetchone() == (3,)
    finally:
        for r in (role, app_role):
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(r)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(r)))
        admin.close()
    assert statuses(clone_dsn) == {"PUBLISHED": 1}


def test_relay_reconnects_after_losing_its_database_sessions(
        clone_dsn: str, stream: StreamSpec) -> None:
    async def scenario() -> None:
        relay = Relay(config(clone_dsn, stream, poll_interval=0.5))
        task = asyncio.create_task(relay.run())
        for _ in range(500):
            if relay._listen is not None and relay._js is not None:
                break
            await asyncio.sleep(0.01)
        with psycopg.connect(clone_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND application_name LIKE 'pyexchange-relay%'")
        await asyncio.to_thread(emit, clone_dsn, [("user", "9", "user_activated",
                                                    {"user_id": 9, "username": "x"})])
        deadline = time.monotonic() + 20
        while await asyncio.to_thread(stream_count, stream.name) < 1:
            assert time.monotonic() < deadline, "the relay did not come back"
            assert not task.done(), task
            await asyncio.sleep(0.05)
        relay.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert statuses(clone_dsn) == {"PUBLISHED": 1}


# --- message ids across databases ------------------------------------------------------------
def test_two_fresh_databases_share_a_stream_and_every_event_arrives(
        databases: Any, template_name: str, stream: StreamSpec) -> None:
    """Both databases number their events 1..10: the message id must not be that number."""
    names = [databases.create("pyx_relay2", template=template_name) for _ in range(2)]
    try:
        dsns = [databases.dsn(n) for n in names]
        for k, dsn in enumerate(dsns):
            ids = emit(dsn, [("order", f"db{k}-{n}", "order_placed", {"n": n}) for n in range(10)])
            assert ids == list(range(ids[0], ids[0] + 10))
        ids_by_db = [emit_ids for emit_ids in (_outbox_ids(d) for d in dsns)]
        assert ids_by_db[0] == ids_by_db[1]  # the same local ids in both
        for dsn in dsns:
            stats = asyncio.run(Relay(config(dsn, stream)).run(once=True))
            assert stats.published == 10 and not stats.failed
        stored = read_stream(stream.name)
        assert len(stored) == 20
        assert len({m.msg_id for m in stored}) == 20
        assert sorted(m.body["aggregate_id"] for m in stored) == sorted(
            f"db{k}-{n}" for k in range(2) for n in range(10))
        assert all(statuses(d) == {"PUBLISHED": 10} for d in dsns)
    finally:
        for n in names:
            databases.drop(n)


def _outbox_ids(dsn: str) -> list[int]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM exchange.outbox_events ORDER BY id")]


def test_a_duplicate_ack_for_another_message_is_a_failure_not_a_publish(
        clone_dsn: str, stream: StreamSpec) -> None:
    """The stream already holds a message under an event's id. If it is another message, the
    event never reached the stream: a failure, not PUBLISHED. If it is this very event (an
    earlier publish whose commit was lost), it is published."""
    foreign_id, own_id = emit(clone_dsn, [("order", "1", "order_placed", {"n": 1}),
                                          ("order", "2", "order_placed", {"n": 2})])
    with psycopg.connect(clone_dsn) as conn:
        with conn.cursor(row_factory=class_row(OutboxEvent)) as cur:
            events = {e.id: e for e in cur.execute(
                query("claim_outbox_events"), {"limit": 10}).fetchall()}
        conn.rollback()

    async def scenario() -> Any:
        relay = Relay(config(clone_dsn, stream, publish_timeout=2.0))
        await relay.connect()
        assert relay._js is not None
        try:
            await relay._js.publish(f"{stream.prefix}.order.order_placed", b'{"other":1}',
                                    headers={"Nats-Msg-Id": str(events[foreign_id].event_uuid)})
            await relay._js.publish(f"{stream.prefix}.order.order_placed",
                                    envelope(events[own_id]),
                                    headers={"Nats-Msg-Id": str(events[own_id].event_uuid)})
            return await relay.relay_batch()
        finally:
            await relay.close()

    stats = asyncio.run(scenario())
    assert stats.published == 1 and stats.retried == 1
    with psycopg.connect(clone_dsn) as conn:
        rows = dict(conn.execute("SELECT id, status::text FROM exchange.outbox_events"))
        error = conn.execute("SELECT last_error FROM exchange.outbox_events WHERE id = %s",
                             (foreign_id,)).fetchone()
    assert rows == {foreign_id: "PENDING", own_id: "PUBLISHED"}
    assert error is not None and "DuplicateRefused" in error[0]
    assert len(read_stream(stream.name)) == 2
