"""exchange.submit_order, the procedure: the same result row and typed errors as place_order,
in transactions of its own; requests that find their market busy are combined by the lock
holder, in arrival order, each refusal raised to its own caller; several connections at once
give exactly what the reference matcher gives when it replays the requests in the order the
engine placed them."""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pyexchange import Exchange
from pyexchange.errors import FillOrKillNotFillable
from tests.integration._trading_support import check_invariants, setup_market
from tests.integration.test_access import login_as  # noqa: F401  (fixture)
from tests.integration.test_trading_model import (
    FUNDS,
    MAKER,
    PAIRS,
    PRICES,
    TAKER,
    USERS,
    Model,
    _db_state,
    _model_state,
)

D = Decimal
SUBMIT = "CALL exchange.submit_order(%s, %s, %s, %s, %s, %s, %s, %s)"


def _submit(conn: psycopg.Connection[Any], user: int, symbol: str, side: str, type_: str,
            amount: Any, price: Any = None, tif: str = "GTC",
            client_order_id: str | None = None) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(SUBMIT, (user, symbol, side, type_, amount, price, tif, client_order_id))
        row = cur.fetchone()
        assert row is not None
        return row


def _counts(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM exchange.orders), (SELECT count(*) FROM exchange.trades), "
        "(SELECT count(*) FROM exchange.journal), (SELECT count(*) FROM exchange.outbox_events), "
        "(SELECT count(*) FROM exchange.order_requests)").fetchone()
    assert row is not None
    return tuple(row)


def _setup_model_market(conn: psycopg.Connection[Any],
                        funds: dict[str, Decimal] = FUNDS) -> dict[str, int]:
    return setup_market(conn, users=USERS, pairs=tuple((s, b, q) for s, (b, q) in PAIRS.items()),
                        price_precision=2, amount_precision=2, maker_fee=str(MAKER),
                        taker_fee=str(TAKER), funds={a: str(v) for a, v in funds.items()})


def test_submit_order_answers_like_place_order(clone_dsn: str, login_as: Any) -> None:  # noqa: F811
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn)
        a, b = ids["alice"], ids["bob"]
        # the psql form: positional, the defaults of place_order
        rest = conn.execute("CALL exchange.submit_order(%s, 'BTC-USDT', 'SELL', 'LIMIT', 0.5, "
                            "100.00)", (a,))
        assert rest.description is not None
        place_cols = [c.name for c in conn.execute(
            "SELECT * FROM exchange.place_order(%s, 'BTC-USDT', 'SELL', 'LIMIT', 0.5, 200.00)",
            (a,)).description or []]
        assert [c.name for c in rest.description] == place_cols
        sell = dict(zip(place_cols, rest.fetchone() or (), strict=True))
        assert (sell["status"], sell["hold_amount"], sell["fills"]) == ("NEW", D("0.5"), [])

        buy = _submit(conn, b, "BTC-USDT", "BUY", "LIMIT", D("0.2"), D("101"),
                      client_order_id="b-1")
        assert buy["status"] == "FILLED" and len(buy["fills"]) == 1
        assert buy["fills"][0]["maker_order_id"] == sell["id"]
        before = _counts(conn)
        again = _submit(conn, b, "BTC-USDT", "BUY", "LIMIT", D("0.2"), D("101"),
                        client_order_id="b-1")
        assert again["id"] == buy["id"] and _counts(conn) == before

        # refusals: typed, nothing changed (the inbox included)
        for args, code in (((b, "BTC-USDT", "BUY", "LIMIT", D(1), D("100.001")), "EX210"),
                           ((b, "NOPE-USDT", "BUY", "LIMIT", D(1), D(100)), "EX201"),
                           ((b, "BTC-USDT", "BUY", "LIMIT", D(9), D(99), "FOK"), "EX215"),
                           ((b, "BTC-USDT", "BUY", "LIMIT", D(100000), D(99)), "EX101")):
            with pytest.raises(psycopg.Error) as err:
                _submit(conn, *args)
            assert err.value.sqlstate == code, args
            assert _counts(conn) == before
        # inside a transaction block the procedure cannot commit: refused, nothing placed
        with pytest.raises(psycopg.Error) as err, conn.transaction():
            _submit(conn, b, "BTC-USDT", "BUY", "LIMIT", D(1), D(99))
        assert err.value.sqlstate == "2D000"
        assert _counts(conn) == before
        check_invariants(conn)

    # the client's place_order goes through it, with typed exceptions
    with Exchange(clone_dsn) as ex:
        o = ex.place_order(b, "BTC-USDT", "BUY", "LIMIT", D("0.1"), D("100"))
        assert o.status == "FILLED" and o.fills and o.fills[0].maker_order_id == sell["id"]
        with pytest.raises(FillOrKillNotFillable):
            ex.place_order(b, "BTC-USDT", "BUY", "LIMIT", D(9), D(99), time_in_force="FOK")
        inner = ex.place_order(b, "BTC-USDT", "BUY", "LIMIT", D("0.1"), D("90"), submit=False)
        assert inner.status == "NEW"
        assert ex.process_order_requests() == 0

    # exchange_app may call it acting for the order's user (issue 13a: a session-level acting
    # user, read at the procedure's start), but not reach the inbox behind it
    app = login_as("app")
    with psycopg.connect(app, autocommit=True) as conn:
        conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)", (str(b),))
        row = _submit(conn, b, "BTC-USDT", "BUY", "LIMIT", D("0.1"), D("91"))
        assert row["status"] == "NEW"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM exchange.order_requests")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT exchange._process_order_requests(1)")


def _run_queued(dsn: str, pair_symbol: str,
                requests: list[tuple[int, str, str, str, Decimal, Decimal | None, str]]
                ) -> list[Any]:
    """Hold the market's lock, queue ``requests`` one after the other (each in the inbox
    before the next starts), then release: the holders that follow place them all."""
    results: list[Any] = [None] * len(requests)

    def run(k: int) -> None:
        user, sym, side, type_, amount, price, tif = requests[k]
        with psycopg.connect(dsn, autocommit=True) as c:
            try:
                results[k] = _submit(c, user, sym, side, type_, amount, price, tif)
            except psycopg.Error as exc:
                results[k] = exc.sqlstate

    with psycopg.connect(dsn, autocommit=True) as holder:
        threads = []
        with holder.transaction():
            holder.execute("SELECT pg_advisory_xact_lock(1601, id) FROM exchange.trading_pairs "
                           "WHERE symbol = %s", (pair_symbol,))
            for k in range(len(requests)):
                threads.append(threading.Thread(target=run, args=(k,)))
                threads[-1].start()
                deadline = time.monotonic() + 20
                while holder.execute("SELECT count(*) FROM exchange.order_requests "
                                     "WHERE status = 'PENDING'").fetchone() != (k + 1,):
                    assert time.monotonic() < deadline, "request not queued"
                    time.sleep(0.01)
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
    return results


def test_queued_requests_are_placed_together_in_arrival_order(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = _setup_model_market(conn)
    ann, ben, cat = (ids[u] for u in USERS)
    reqs = [
        (ann, "BTC-USDT", "SELL", "LIMIT", D(2), D(10), "GTC"),
        (ben, "BTC-USDT", "BUY", "LIMIT", D("0.5"), D(10), "FOK"),
        (cat, "BTC-USDT", "BUY", "LIMIT", D(4), D(10), "FOK"),     # 1.5 left: refused
        (cat, "BTC-USDT", "BUY", "LIMIT", D(1), D("10.25"), "GTC"),
        (ben, "BTC-USDT", "BUY", "LIMIT", D(1), D("9.75"), "GTC"),
        (ann, "BTC-USDT", "SELL", "LIMIT", D(1), D("9.75"), "IOC"),
        (cat, "BTC-USDT", "BUY", "LIMIT", D(100), D(10), "GTC"),   # insufficient funds
    ]
    results = _run_queued(clone_dsn, "BTC-USDT", reqs)
    model = Model()
    names = {v: k for k, v in ids.items()}
    for (user, sym, side, type_, amount, price, tif), got in zip(reqs, results, strict=True):
        expected = model.place(names[user], sym, side, type_, amount, price, tif)
        status = got["status"] if isinstance(got, dict) else "REFUSED"
        assert status == expected, (names[user], side, amount, tif, got)
    assert results[2] == "EX215" and results[6] == "EX101"
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert _db_state(conn, names) == _model_state(model)
        check_invariants(conn)
        assert conn.execute("SELECT count(*) FROM exchange.order_requests").fetchone() == (0,)
        # combining: after the refusals, the last accepted requests went in one transaction
        row = conn.execute("SELECT count(*), count(DISTINCT created_at) FROM exchange.orders"
                           ).fetchone()
        assert row is not None and row[1] < row[0], row


def test_concurrent_submits_equal_the_reference_replayed_in_engine_order(
        clone_dsn: str) -> None:
    # ample funds: the markets run in parallel and share accounts, so only refusals that
    # depend on one market's book alone (FOK) are mixed in; order of placing = order id
    funds = {"BTC": D(1000), "USDT": D(100000), "ETH": D(1000)}
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = _setup_model_market(conn, funds)
    names = {v: k for k, v in ids.items()}
    log: list[tuple[int, tuple[Any, ...], str]] = []   # (order id, request, status)
    errors: list[str] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        with psycopg.connect(clone_dsn, autocommit=True) as c:
            for _ in range(40):
                user = rnd.choice(USERS)
                pair = rnd.choice(sorted(PAIRS))
                side = rnd.choice(("BUY", "SELL"))
                type_ = rnd.choice(("LIMIT", "LIMIT", "LIMIT", "MARKET"))
                amount = rnd.choice((D("0.5"), D(1), D("1.5")))
                price = rnd.choice(PRICES[pair]) if type_ == "LIMIT" else None
                tif = rnd.choice(("GTC", "GTC", "IOC", "FOK"))
                req = (user, pair, side, type_, amount, price, tif)
                try:
                    row = _submit(c, ids[user], pair, side, type_, amount, price, tif)
                except psycopg.Error as exc:
                    if exc.sqlstate != "EX215":
                        with lock:
                            errors.append(f"{exc.sqlstate}: {exc}")
                    continue
                with lock:
                    log.append((row["id"], req, row["status"]))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads) and errors == [], errors[:3]
    assert len(log) > 60
    # the engine's order: order ids are drawn under the market's lock, in placing order
    model = Model()
    model.avail = {(u, a): funds[a] for u in USERS for a in funds}
    for _oid, (user, pair, side, type_, amount, price, tif), status in sorted(log):
        assert model.place(user, pair, side, type_, amount, price, tif) == status, (user, pair)
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        # trade ids are drawn under each market's own lock: two markets' trades interleave in
        # id order as their transactions ran, not as their order ids were drawn, so the trades
        # are compared market by market, each market's in id order (a stable sort by pair)
        db, ref = _db_state(conn, names), _model_state(model)
        assert (db[0], sorted(db[1], key=lambda t: t[0]), *db[2:]) == \
            (ref[0], sorted(ref[1], key=lambda t: t[0]), *ref[2:])
        check_invariants(conn)
        assert conn.execute("SELECT count(*) FROM exchange.order_requests").fetchone() == (0,)


def test_a_risk_refusal_in_a_combined_batch_is_its_own_and_recorded_once(
        clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = _setup_model_market(conn)
        conn.execute("INSERT INTO exchange.risk_rules (name, type, conditions, actions, level) "
                     "VALUES ('notional 30', 'MAX_ORDER_NOTIONAL', %s, %s, 'HIGH')",
                     (Jsonb({"max_notional": 30}), Jsonb({"action": "REJECT"})))
    ann, ben, cat = (ids[u] for u in USERS)
    reqs = [
        (ann, "BTC-USDT", "SELL", "LIMIT", D(1), D(10), "GTC"),
        (ben, "BTC-USDT", "BUY", "LIMIT", D(1), D(10), "GTC"),
        (cat, "BTC-USDT", "BUY", "LIMIT", D(4), D(10), "GTC"),     # notional 40 > 30
        (cat, "BTC-USDT", "BUY", "LIMIT", D(2), D("9.75"), "GTC"),
        (ben, "BTC-USDT", "SELL", "LIMIT", D(1), D("10.25"), "GTC"),
    ]
    results = _run_queued(clone_dsn, "BTC-USDT", reqs)
    assert results[2] == "EX404", results
    assert [r["status"] for k, r in enumerate(results) if k != 2] == [
        "NEW", "FILLED", "NEW", "NEW"], results
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        events = conn.execute("SELECT user_id, action FROM exchange.risk_events").fetchall()
        assert events == [(cat, "REJECT")], events
        assert conn.execute("SELECT count(*) FROM exchange.orders WHERE user_id = %s",
                            (cat,)).fetchone() == (1,)
        check_invariants(conn)


def _app_session(dsn: str, acting: int | None) -> psycopg.Connection[Any]:
    """An exchange_app connection with a session-level acting user, as the client sets it
    around a CALL."""
    conn = psycopg.connect(dsn, autocommit=True)
    if acting is not None:
        conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)", (str(acting),))
    return conn


def _in_thread(work: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        except psycopg.Error as exc:
            out.append(exc.sqlstate)
    t = threading.Thread(target=run)
    t.start()
    return t, out


def _orders_of(conn: psycopg.Connection[Any], user: int) -> list[Any]:
    return conn.execute("SELECT id, status, remaining_amount FROM exchange.orders "
                        "WHERE user_id = %s ORDER BY id", (user,)).fetchall()


def test_an_app_login_acting_for_alice_cannot_submit_for_bob(
        clone_dsn: str, login_as: Any) -> None:  # noqa: F811
    """submit_order runs as its caller (a procedure cannot be SECURITY DEFINER): its steps
    authorize the request before it is queued, and only its own requester may wait for its
    outcome, so neither a busy market nor another session's processing of the inbox places an
    order for bob that bob did not ask for."""
    with psycopg.connect(clone_dsn, autocommit=True) as dba:
        ids = setup_market(dba)
        a, b = ids["alice"], ids["bob"]
        pair = (dba.execute("SELECT id FROM exchange.trading_pairs WHERE symbol = 'BTC-USDT'")
                .fetchone() or (0,))[0]
        bob_before, before = _orders_of(dba, b), _counts(dba)
    app = login_as("app")
    bob_order = (b, "BTC-USDT", "BUY", "LIMIT", D("0.1"), D("95"))
    begin = ("SELECT done FROM exchange.submit_order_begin(ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', "
             "0.1, 95, 'GTC', NULL, NULL, NULL, NULL)::exchange.order_request)")

    # a free market: refused, nothing placed
    with _app_session(app, a) as alice, _app_session(app, None) as nobody:
        for conn, code in ((alice, "EX322"), (nobody, "EX320")):
            with pytest.raises(psycopg.Error) as err:
                _submit(conn, *bob_order)
            assert err.value.sqlstate == code
            with pytest.raises(psycopg.Error) as err:
                conn.execute(begin, (b,))
            assert err.value.sqlstate == code

    # a busy market: refused at once, before anything is queued (a DBA's session processing
    # the inbox later must not find a request for bob there)
    with psycopg.connect(clone_dsn, autocommit=True) as holder:
        with _app_session(app, a) as alice, _app_session(app, None) as nobody, \
                holder.transaction():
            holder.execute("SELECT pg_advisory_xact_lock(1601, %s)", (pair,))
            for conn, code in ((alice, "EX322"), (nobody, "EX320")):
                t, out = _in_thread(lambda c=conn: _submit(c, *bob_order))
                t.join(30)
                assert not t.is_alive() and out == [code], (code, out)
            assert holder.execute("SELECT count(*) FROM exchange.order_requests").fetchone() == (0,)
            assert holder.execute("SELECT exchange.process_order_requests()").fetchone() == (0,)
        assert _orders_of(holder, b) == bob_before and _counts(holder) == before

        # bob's own request waits in the inbox: alice may not take its outcome (nor read it),
        # the application's inbox processing places exactly what bob asked, and bob is served
        with _app_session(app, b) as bob_conn, _app_session(app, a) as alice:
            with holder.transaction():
                holder.execute("SELECT pg_advisory_xact_lock(1601, %s)", (pair,))
                t, out = _in_thread(lambda: _submit(bob_conn, *bob_order, client_order_id="b-q"))
                req = None
                for _ in range(2000):
                    req = holder.execute("SELECT id FROM exchange.order_requests").fetchone()
                    if req is not None or not t.is_alive():
                        break
                    time.sleep(0.01)
                assert req is not None, out
                with pytest.raises(psycopg.Error) as err:
                    alice.execute("SELECT * FROM exchange.submit_order_wait(%s, %s)",
                                  (req[0], pair))
                assert err.value.sqlstate == "EX322"
                with pytest.raises(psycopg.Error) as err:
                    alice.execute("SELECT * FROM exchange.order_requests")
                assert err.value.sqlstate == "42501"
                assert holder.execute("SELECT count(*) FROM exchange.order_requests "
                                      "WHERE status = 'PENDING'").fetchone() == (1,)
            t.join(30)
            assert not t.is_alive() and len(out) == 1 and isinstance(out[0], dict), out
            assert (out[0]["user_id"], out[0]["client_order_id"], out[0]["status"]) == \
                (b, "b-q", "NEW")
        rows = _orders_of(holder, b)
        assert len(rows) == len(bob_before) + 1 and rows[-1][0] == out[0]["id"]
        assert holder.execute("SELECT count(*) FROM exchange.order_requests").fetchone() == (0,)
        check_invariants(holder)
