"""Concurrency: ten connections place and cancel random orders on three pairs that share
assets (BTC-USDT, ETH-USDT, ETH-BTC) for a bounded time. Afterwards no book is crossed, each
order's filled amount equals the sum of its trades, no hold is left on an ended order, every
resting order's hold is exact, reconcile() is empty, and nothing failed with a deadlock or
any error other than the expected refusals."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from decimal import Decimal

import psycopg

from tests.integration._trading_support import check_invariants, setup_market

D = Decimal
PAIRS = (("BTC-USDT", "BTC", "USDT"), ("ETH-USDT", "ETH", "USDT"), ("ETH-BTC", "ETH", "BTC"))
MID = {"BTC-USDT": 100, "ETH-USDT": 50, "ETH-BTC": 2}
EXPECTED = {"EX101", "EX216", "EX217", "EX215", "EX214"}
DURATION = 12.0
THREADS = 10


def _worker(dsn: str, users: list[int], seed: int, stop: float, outcomes: Counter[str],
            errors: list[str], lock: threading.Lock) -> None:
    rnd = random.Random(seed)
    mine: list[tuple[int, int]] = []
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
                else:
                    sym = rnd.choice(PAIRS)[0]
                    side = rnd.choice(("BUY", "SELL"))
                    kind = rnd.choices(("LIMIT", "MARKET", "IOC", "STOP"), (80, 8, 8, 4))[0]
                    tick = D("0.01")
                    price = (D(MID[sym]) + tick * rnd.randint(-40, 40)).quantize(tick)
                    amount = D(rnd.randint(1, 300)) / 100
                    if kind == "MARKET":
                        row = conn.execute(
                            "SELECT id, status FROM exchange.place_order(%s, %s, %s, 'MARKET', %s)",
                            (user, sym, side, amount)).fetchone()
                    elif kind == "STOP":
                        stop_px = price - 10 * tick if side == "SELL" else price + 10 * tick
                        row = conn.execute(
                            "SELECT id, status FROM exchange.place_order(%s, %s, %s, "
                            "'STOP_LOSS_LIMIT', %s, %s, 'GTC', NULL, %s)",
                            (user, sym, side, amount, price, stop_px)).fetchone()
                    else:
                        row = conn.execute(
                            "SELECT id, status FROM exchange.place_order(%s, %s, %s, 'LIMIT', %s, %s, %s)",
                            (user, sym, side, amount, price,
                             "IOC" if kind == "IOC" else "GTC")).fetchone()
                    assert row is not None
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
        check_invariants(conn)
        # every trade is one balanced TRADE journal record
        assert conn.execute(
            "SELECT count(*) FROM exchange.journal WHERE type = 'TRADE'").fetchone() == n_trades
