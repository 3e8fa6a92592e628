"""Concurrency: ten connections place and cancel random orders on three pairs that share
assets (BTC-USDT, ETH-USDT, ETH-BTC) for a bounded time: half of them through the function
place_order, half through the procedure submit_order, with batches of several users on several
markets (place_orders), every order risk rule type active (and the withdrawal ones), and half
the users at KYC level 1 (a daily trade limit, so a per-user counter row). Refusals are mixed
in (funds, FOK, LIMIT_MAKER, risk REJECT, KYC). Afterwards no book is crossed, each order's
filled amount equals the sum of its trades, no hold is left on an ended order, every resting
order's hold is exact, reconcile() is empty, and nothing failed with a deadlock or any error
other than the expected refusals."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.integration._trading_support import check_invariants, setup_market

D = Decimal
PAIRS = (("BTC-USDT", "BTC", "USDT"), ("ETH-USDT", "ETH", "USDT"), ("ETH-BTC", "ETH", "BTC"))
MID = {"BTC-USDT": 100, "ETH-USDT": 50, "ETH-BTC": 2}
EXPECTED = {"EX101", "EX216", "EX217", "EX215", "EX214", "EX404", "EX336"}
RULES = (  # every rule type; the order rules' REJECTs are hit now and then
    ("notional", "MAX_ORDER_NOTIONAL", {"max_notional": 250}, "REJECT"),
    ("band", "PRICE_BAND", {"max_deviation_pct": 30}, "REJECT"),
    ("band flag", "PRICE_BAND", {"max_deviation_pct": 0.2}, "FLAG"),
    ("rate", "ORDER_RATE", {"max_orders": 100000, "window_seconds": 60}, "REJECT"),
    ("rate flag", "ORDER_RATE", {"max_orders": 40, "window_seconds": 10}, "FLAG"),
    ("open", "MAX_OPEN_ORDERS", {"max_open_orders": 40}, "REJECT"),
    ("daily", "DAILY_WITHDRAWAL_LIMIT", {"asset": "BTC", "max_amount": 5}, "REJECT"),
    ("large", "LARGE_WITHDRAWAL_REVIEW", {"asset": "BTC", "threshold": 5}, "REVIEW"),
)
DURATION = 12.0
THREADS = 10


def _worker(dsn: str, users: list[int], seed: int, stop: float, outcomes: Counter[str],
            errors: list[str], lock: threading.Lock) -> None:
    rnd = random.Random(seed)
    mine: list[tuple[int, int]] = []
    # even workers call the function, odd ones the procedure (same parameters and row)
    place = ("SELECT id, status FROM exchange.place_order(" if seed % 2 == 0
             else "CALL exchange.submit_order(")
    local: Counter[str] = Counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < stop:
            user = rnd.choice(users)
            try:
                if mine and rnd.random() < 0.25:
                    uid, oid = mine.pop(rnd.randrange(len(mine)))
                    conn.execute("SELECT * FROM exchange.cancel_order(%s, %s)", (uid, oid))
                    local["cancel"] += 1
                elif rnd.random() < 0.02:
                    conn.execute("SELECT * FROM exchange.cancel_all_orders(%s)", (user,))
                    local["cancel_all"] += 1
                elif rnd.random() < 0.1:
                    # a batch of several users on several markets (users in random order)
                    reqs = [(rnd.choice(users), rnd.choice(PAIRS)[0], rnd.choice(("BUY", "SELL")))
                            for _ in range(rnd.randint(2, 4))]
                    rows = conn.execute(
                        "SELECT id, status FROM exchange.place_orders(ARRAY(SELECT ROW(u, s, sd, "
                        "'LIMIT', a, p, 'GTC', NULL, NULL, NULL, NULL)::exchange.order_request "
                        "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::numeric[], "
                        "%s::numeric[]) AS r(u, s, sd, a, p)))",
                        ([u for u, _, _ in reqs], [s_ for _, s_, _ in reqs],
                         [sd for _, _, sd in reqs], [D(rnd.randint(1, 100)) / 100 for _ in reqs],
                         [(D(MID[s_]) + D("0.01") * rnd.randint(-40, 40)).quantize(D("0.01"))
                          for _, s_, _ in reqs])).fetchall()
                    local["batch"] += 1
                    for (u, _, _), (oid, status) in zip(reqs, rows, strict=True):
                        local[status] += 1
                        if status in ("NEW", "PARTIALLY_FILLED"):
                            mine.append((u, oid))
                else:
                    sym = rnd.choice(PAIRS)[0]
                    side = rnd.choice(("BUY", "SELL"))
                    kind = rnd.choices(("LIMIT", "MARKET", "IOC", "STOP", "FOK", "MAKER"),
                                       (70, 8, 8, 4, 5, 5))[0]
                    tick = D("0.01")
                    price = (D(MID[sym]) + tick * rnd.randint(-40, 40)).quantize(tick)
                    amount = D(rnd.randint(1, 300)) / 100
                    if kind == "MARKET":
                        row = conn.execute(place + "%s, %s, %s, 'MARKET', %s)",
                                           (user, sym, side, amount)).fetchone()
                    elif kind == "STOP":
                        stop_px = price - 10 * tick if side == "SELL" else price + 10 * tick
                        row = conn.execute(
                            place + "%s, %s, %s, 'STOP_LOSS_LIMIT', %s, %s, 'GTC', NULL, %s)",
                            (user, sym, side, amount, price, stop_px)).fetchone()
                    else:
                        row = conn.execute(
                            place + "%s, %s, %s, %s, %s, %s, %s)",
                            (user, sym, side, "LIMIT_MAKER" if kind == "MAKER" else "LIMIT",
                             amount, price, {"IOC": "IOC", "FOK": "FOK"}.get(kind, "GTC"))
                        ).fetchone()
                    assert row is not None
                    local["submit" if seed % 2 else "place"] += 1
                    local[row[1]] += 1
                    if row[1] in ("NEW", "PARTIALLY_FILLED", "PENDING"):
                        mine.append((user, row[0]))
            except psycopg.Error as exc:
                if exc.sqlstate in EXPECTED:
                    local[f"refused {exc.sqlstate}"] += 1
                else:
                    with lock:
                        errors.append(f"{exc.sqlstate}: {exc}")
    with lock:
        outcomes.update(local)


def test_concurrent_trading_keeps_every_invariant(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=tuple(f"trader{i}" for i in range(8)), pairs=PAIRS,
                           funds={"BTC": "200", "ETH": "400", "USDT": "40000"})
        users = list(ids.values())
        conn.execute("UPDATE exchange.users SET kyc_level = 1 WHERE id = ANY (%s)", (users[::2],))
        conn.execute("INSERT INTO exchange.kyc_limits (level, action, asset_id, allowed, "
                     "daily_limit) SELECT 1, 'TRADE', id, true, 60 FROM exchange.assets "
                     "WHERE symbol = 'ETH'")
        for name, type_, conditions, action in RULES:
            conn.execute("INSERT INTO exchange.risk_rules (name, type, conditions, actions, "
                          "level) VALUES (%s, %s, %s, %s, 'HIGH')",
                          (name, type_, Jsonb(conditions), Jsonb({"action": action})))
    outcomes: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + DURATION
    threads = [threading.Thread(target=_worker,
                                args=(clone_dsn, users, i, stop, outcomes, errors, lock))
               for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DURATION + 60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert errors == [], errors[:5]
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        n_trades = conn.execute("SELECT count(*) FROM exchange.trades").fetchone()
        assert n_trades is not None and n_trades[0] > 50, (n_trades, outcomes)
        assert outcomes["cancel"] > 10, outcomes
        assert min(outcomes["submit"], outcomes["place"], outcomes["batch"]) > 10, outcomes
        assert min(outcomes["refused EX215"], outcomes["refused EX404"]) > 0, outcomes
        # the counter rows the deadlock went through were written, under the users' locks
        assert conn.execute("SELECT count(*) FROM exchange.kyc_daily_usage").fetchone() != (0,)
        assert conn.execute("SELECT count(*) FROM exchange.risk_order_rate").fetchone() != (0,)
        assert conn.execute("SELECT count(*) FROM exchange.order_requests").fetchone() == (0,)
        check_invariants(conn)
        # every trade is one balanced TRADE journal record
        assert conn.execute(
            "SELECT count(*) FROM exchange.journal WHERE type = 'TRADE'").fetchone() == n_trades


def _wait_until_blocked(conn: psycopg.Connection[Any], pid: int) -> None:
    deadline = time.monotonic() + 20
    while conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                       (pid,)).fetchone() != ("Lock",):
        assert time.monotonic() < deadline, f"backend {pid} never waited"
        time.sleep(0.02)


def test_per_user_counters_follow_one_lock_order(clone_dsn: str) -> None:
    """The deadlock of issue 17 (item 6), forced: a KYC level-1 user under an ORDER_RATE rule
    sends a batch on two markets (AAA-USDT, BBB-USDT) while a single order of the same user
    on a third (BBB-EUR) counts the same BBB daily usage. The batch is paused after its first
    order counted AAA and the rate (its client order id waits for another transaction), the
    single order starts, then the batch goes on to count BBB. With the counters taken per
    order in batch order this was a waits-for cycle (40P01); under the users' locks, taken
    right after the markets', the single order waits for the batch and both succeed."""
    pairs = (("AAA-USDT", "AAA", "USDT"), ("BBB-USDT", "BBB", "USDT"), ("BBB-EUR", "BBB", "EUR"))
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=("uma",), pairs=pairs)
        user = ids["uma"]
        conn.execute("UPDATE exchange.users SET kyc_level = 1 WHERE id = %s", (user,))
        conn.execute("INSERT INTO exchange.risk_rules (name, type, conditions, actions, level) "
                     "VALUES ('rate', 'ORDER_RATE', %s, %s, 'HIGH')",
                     (Jsonb({"max_orders": 1000, "window_seconds": 60}),
                      Jsonb({"action": "REJECT"})))
    results: dict[str, Any] = {}

    def run(name: str, sql: str, args: tuple[Any, ...], conn: psycopg.Connection[Any]) -> None:
        try:
            results[name] = conn.execute(sql, args).fetchall()
        except psycopg.Error as exc:
            results[name] = exc.sqlstate

    with psycopg.connect(clone_dsn, autocommit=True) as pauser, \
            psycopg.connect(clone_dsn, autocommit=True) as batch, \
            psycopg.connect(clone_dsn, autocommit=True) as single, \
            psycopg.connect(clone_dsn, autocommit=True) as watch:
        pauser.execute("BEGIN")
        pauser.execute("INSERT INTO exchange.client_order_ids VALUES (%s, 'first', 0, now())",
                       (user,))
        t1 = threading.Thread(target=run, args=("batch", (
            "SELECT status FROM exchange.place_orders(ARRAY["
            "ROW(%s, 'AAA-USDT', 'BUY', 'LIMIT', 1, 1, 'GTC', 'first', NULL, NULL, NULL),"
            "ROW(%s, 'BBB-USDT', 'BUY', 'LIMIT', 1, 1, 'GTC', NULL, NULL, NULL, NULL)"
            "]::exchange.order_request[])"), (user, user), batch))
        t1.start()
        _wait_until_blocked(watch, batch.info.backend_pid)
        t2 = threading.Thread(target=run, args=("single", (
            "SELECT status FROM exchange.place_order(%s, 'BBB-EUR', 'SELL', 'LIMIT', 1, 5)"),
            (user,), single))
        t2.start()
        _wait_until_blocked(watch, single.info.backend_pid)
        pauser.execute("ROLLBACK")
        t1.join(30)
        t2.join(30)
    assert results == {"batch": [("NEW",), ("NEW",)], "single": [("NEW",)]}, results


def _user_locks(conn: psycopg.Connection[Any]) -> set[int]:
    """The users' locks (class 1603) this connection's transaction holds."""
    return {r[0] for r in conn.execute(
        "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid = 1603 "
        "AND objsubid = 2 AND pid = pg_backend_pid() AND granted").fetchall()}


def test_a_batch_locks_only_the_users_that_write_counters(clone_dsn: str) -> None:
    """Step 1b of place_orders: a batch locks the users whose KYC level has a TRADE daily
    limit (they write a kyc_daily_usage row), and every user once an ORDER_RATE rule is
    active; users of an unlimited level under no rate rule take no lock, so batches that share
    them run side by side."""
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=("lim", "free1", "free2"))
        conn.execute("UPDATE exchange.users SET kyc_level = 1 WHERE id = %s", (ids["lim"],))
        batch = ("SELECT count(*) FROM exchange.place_orders(ARRAY["
                 "ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 1, 'GTC', NULL, NULL, NULL, NULL),"
                 "ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 1, 'GTC', NULL, NULL, NULL, NULL),"
                 "ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 1, 'GTC', NULL, NULL, NULL, NULL)"
                 "]::exchange.order_request[])")
        args = (ids["free1"], ids["lim"], ids["free2"])
        with conn.transaction():
            conn.execute(batch, args)
            assert _user_locks(conn) == {ids["lim"]}
            # the counter rules cannot change under the batch: it holds 1604 shared
            assert conn.execute(
                "SELECT mode FROM pg_locks WHERE locktype = 'advisory' AND classid = 1604 "
                "AND pid = pg_backend_pid()").fetchall() == [("ShareLock",)]
        conn.execute("INSERT INTO exchange.risk_rules (name, type, conditions, actions, level) "
                     "VALUES ('rate', 'ORDER_RATE', %s, %s, 'HIGH')",
                     (Jsonb({"max_orders": 1000, "window_seconds": 60}),
                      Jsonb({"action": "REJECT"})))
        with conn.transaction():
            conn.execute(batch, args)
            assert _user_locks(conn) == set(args)
        check_invariants(conn)


def test_the_counter_rules_change_only_between_batches(clone_dsn: str) -> None:
    """The barrier (lock 1604): while a batch's transaction is open, changing a KYC limit, a
    risk rule or a user's KYC level waits for it (refused here by lock_timeout, nothing
    changed); once the batch commits, the same change goes through."""
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        ids = setup_market(conn, users=("ann", "ben"))
    changes = [
        "UPDATE exchange.kyc_limits SET daily_limit = 5 WHERE level = 2 AND action = 'TRADE'",
        "INSERT INTO exchange.risk_rules (name, type, conditions, actions, level) VALUES "
        "('rate', 'ORDER_RATE', '{\"max_orders\": 9, \"window_seconds\": 60}', "
        "'{\"action\": \"REJECT\"}', 'HIGH')",
        f"UPDATE exchange.users SET kyc_level = 1 WHERE id = {ids['ben']}",
    ]
    with psycopg.connect(clone_dsn, autocommit=True) as batch, \
            psycopg.connect(clone_dsn, autocommit=True) as admin:
        def rules() -> Any:
            return admin.execute(
                "SELECT (SELECT count(*) FROM exchange.risk_rules), "
                "(SELECT daily_limit FROM exchange.kyc_limits WHERE level = 2 AND action = 'TRADE'), "
                "(SELECT kyc_level FROM exchange.users WHERE id = %s)", (ids["ben"],)).fetchone()

        before = rules()
        batch.execute("BEGIN")
        batch.execute(
            "SELECT count(*) FROM exchange.place_orders(ARRAY["
            "ROW(%s, 'BTC-USDT', 'BUY', 'LIMIT', 1, 1, 'GTC', NULL, NULL, NULL, NULL),"
            "ROW(%s, 'BTC-USDT', 'SELL', 'LIMIT', 1, 9, 'GTC', NULL, NULL, NULL, NULL)"
            "]::exchange.order_request[])", (ids["ann"], ids["ben"]))
        admin.execute("SET lock_timeout = '300ms'")
        for change in changes:
            try:
                admin.execute(change)
            except psycopg.errors.LockNotAvailable:
                pass
            else:
                raise AssertionError(f"not held back by the open batch: {change}")
        assert rules() == before
        batch.execute("COMMIT")
        for change in changes:
            admin.execute(change)
        assert rules() == (before[0] + 1, 5, 1)
