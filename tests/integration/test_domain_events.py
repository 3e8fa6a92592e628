"""Every event type, made by the real domain functions, reaches a NATS subscriber with the
payload the registry documents (docs/events.md)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from decimal import Decimal
from typing import Any

import psycopg

from pyexchange import Exchange
from pyexchange.relay import Relay, RelayConfig
from tests.integration._events_support import NATS_URL, StreamSpec, read_stream, stream
from tests.integration._trading_support import place, setup_market

__all__ = ["stream"]

D = Decimal


def test_domain_calls_publish_every_event_type(clone_dsn: str, stream: StreamSpec) -> None:
    with Exchange(clone_dsn) as owner:
        admin = owner.bootstrap_admin("root", "root@example.org", "root-pass-123")
    with Exchange(clone_dsn, acting_user_id=admin.id) as adm:
        ada = adm.register_user("ada", "ada@example.org", "ada-pass-1234")
        adm.activate_user(ada.id)
    with Exchange(clone_dsn, acting_user_id=ada.id) as me:
        kyc = me.submit_kyc(ada.id, 1, {"passport": "P1"})
    with Exchange(clone_dsn, acting_user_id=admin.id) as adm:
        adm.approve_kyc(admin.id, kyc.id, "documents checked")

    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        users = setup_market(conn)  # assets, the pair, funded users (deposits)
    with Exchange(clone_dsn, acting_user_id=admin.id) as adm:
        adm.create_risk_rule("BTC over 5 reviewed", "LARGE_WITHDRAWAL_REVIEW",
                             {"threshold": "5", "asset": "BTC"}, {"action": "REVIEW"})
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        alice, bob, carol = users["alice"], users["bob"], users["carol"]
        ask = place(conn, alice, "SELL", "LIMIT", "1", "100")
        place(conn, bob, "BUY", "LIMIT", "0.4", "100")            # trade, fills
        place(conn, carol, "BUY", "LIMIT", "1", "90", tif="IOC")  # expires unfilled
        conn.execute("SELECT * FROM exchange.cancel_order(%s, %s)", (alice, ask["id"]))
        w1 = conn.execute("SELECT exchange.withdraw(%s, 'BTC', 1, 'w1')", (alice,)).fetchone()
        w2 = conn.execute("SELECT exchange.withdraw(%s, 'BTC', 2, 'w2')", (alice,)).fetchone()
        assert w1 is not None and w2 is not None
        conn.execute("SELECT exchange.complete_withdrawal(%s, 'txid-1')", (w1[0],))
        conn.execute("SELECT exchange.cancel_withdrawal(%s, 'changed my mind')", (w2[0],))
        conn.execute("SELECT exchange.withdraw(%s, 'BTC', 6, 'w3')", (bob,))  # REVIEW: risk event
    with Exchange(clone_dsn, acting_user_id=admin.id) as adm:
        adm.set_user_status(carol, "SUSPENDED", "chargeback")
    with Exchange(clone_dsn) as anon:
        for _ in range(6):  # the default lockout is after 5 failures in a row
            anon.authenticate("ada", "wrong-password")

    with psycopg.connect(clone_dsn) as conn:
        registry = {t: (a, set(p), list(r)) for t, a, p, r in conn.execute(
            "SELECT event_type, aggregate_type, payload_keys, recipient_keys "
            "FROM exchange.event_types")}
        trade = conn.execute("SELECT id, price, amount FROM exchange.trades").fetchone()
    stats = asyncio.run(Relay(RelayConfig(dsn=clone_dsn, nats_url=NATS_URL, stream=stream.name,
                                          subject_prefix=stream.prefix)).run(once=True))
    assert not stats.failed

    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in read_stream(stream.name):
        assert m.subject == f"{stream.prefix}.{m.body['aggregate_type']}.{m.body['event_type']}"
        by_type[m.body["event_type"]].append(m.body)
    missing = sorted(set(registry) - set(by_type))
    assert not missing, f"event types never published: {missing}"
    for event_type, bodies in by_type.items():
        aggregate_type, keys, recipients = registry[event_type]
        for body in bodies:
            assert body["aggregate_type"] == aggregate_type, body
            extra = set(body["data"]) - keys
            assert not extra, f"{event_type} carries undocumented keys {extra}"
            for key in recipients:
                assert isinstance(body["data"].get(key), int), (event_type, key, body)

    assert trade is not None
    [t] = by_type["trade_executed"]
    assert (t["data"]["trade_id"], D(t["data"]["price"]), D(t["data"]["quantity"])) == (
        trade[0], trade[1], trade[2])
    assert (t["data"]["buyer_user_id"], t["data"]["seller_user_id"]) == (bob, alice)
    [done] = by_type["withdrawal_completed"]
    assert (done["data"]["withdrawal_id"], done["data"]["external_ref"]) == (w1[0], "txid-1")
    [cancelled] = by_type["withdrawal_cancelled"]
    assert cancelled["data"]["withdrawal_id"] == w2[0]
    assert {e["data"]["status"] for e in by_type["withdrawal_requested"]} == {"PENDING", "REVIEW"}
    [decided] = by_type["kyc_decided"]
    assert (decided["data"]["user_id"], decided["data"]["status"]) == (ada.id, "APPROVED")
    assert {e["data"]["user_id"] for e in by_type["user_registered"]} >= {ada.id}
    locked = {e["data"]["user_id"]: e["data"] for e in by_type["user_locked"]}
    assert locked[carol]["status"] == "SUSPENDED" and locked[carol]["reason"] == "chargeback"
    assert locked[ada.id]["locked_until"] is not None  # locked out once, not per attempt
    assert sum(1 for e in by_type["user_locked"] if e["data"]["user_id"] == ada.id) == 1
    deposits = {(e["data"]["user_id"], e["data"]["asset"]) for e in by_type["deposit_credited"]}
    assert (alice, "BTC") in deposits and (bob, "USDT") in deposits
    assert json.dumps(by_type["risk_event_raised"][0]["data"])  # plain JSON
