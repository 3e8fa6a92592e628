"""The soak: many connections doing everything at once for a while, with the invariants
checked while it runs and at the end.

    python -m benchmarks.soak --duration 60 --clients 8      (make soak SOAK_DURATION=60 ...)

Each client (a thread with its own connection) draws operations at random: deposits,
transfers, withdrawals (then completed or cancelled), orders of every type and time in force
(LIMIT GTC/IOC/FOK, MARKET by amount and by quote amount, STOP_LOSS, STOP_LOSS_LIMIT,
LIMIT_MAKER), batches of orders over several markets and users, cancels and cancel-alls, on
pairs that share their quote asset. A refusal with a project code (EXnnn: insufficient
funds, a FOK that cannot fill, a post-only order that would cross...) is part of the game
and counted; any other error (a deadlock, a constraint, a bug) is a failure.

A monitor checks, every ``--check-every`` seconds and once more at the end, in one
REPEATABLE READ snapshot:
- ``reconcile()`` is empty (assets sum to zero, the journal replays, frozen = open holds);
- no book is crossed; every resting order is in the book with its remaining amount, every
  open order's hold is its price x remaining (buys) or its remaining (sells), an ended order
  holds nothing, an order's filled amount is the sum of its trades;
- the K-lines equal the trades: per pair and interval, the candles' trade counts, volumes
  and quote volumes sum to the trades';
- the outbox is complete: every trade has one ``trade_executed`` event, every order one
  ``order_placed`` (a stop order a second one, marked triggered, when it enters the book), every deposit one ``deposit_credited``, every withdrawal its
  ``withdrawal_requested`` and, when it ended, its ``withdrawal_completed`` or
  ``withdrawal_cancelled``.
With ``--risk``, every risk rule type is active (ORDER_RATE, MAX_OPEN_ORDERS, PRICE_BAND as
FLAG, MAX_ORDER_NOTIONAL as REJECT, DAILY_WITHDRAWAL_LIMIT as FLAG, LARGE_WITHDRAWAL_REVIEW
as REVIEW) and every other user is KYC level 1 (daily trade and withdrawal limits): the
per-user counter rows that place_orders and withdraw lock join the game.
It exits 1 when anything failed or broke. It creates its own database (dropped afterwards)
unless given ``--database-dsn`` (tests pass their clone).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from benchmarks.common import bench_database, server_dsn

D = Decimal
QUOTE = "SQT"
BASES = ("SKA", "SKB", "SKC")
MID = {"SKA": D(100), "SKB": D(20), "SKC": D(5)}
ORDER_TYPES = ("LIMIT", "LIMIT_IOC", "LIMIT_FOK", "MARKET", "MARKET_QUOTE", "STOP_LOSS",
               "STOP_LOSS_LIMIT", "LIMIT_MAKER")

# The book, holds and ledger: what every trading test checks too (tests/integration).
TRADING_INVARIANTS = """
SELECT 'crossed book' AS problem, tp.symbol AS detail
  FROM exchange.trading_pairs tp
 WHERE (SELECT max(price) FROM exchange.order_book b WHERE b.trading_pair_id = tp.id AND b.side = 'BUY')
    >= (SELECT min(price) FROM exchange.order_book b WHERE b.trading_pair_id = tp.id AND b.side = 'SELL')
UNION ALL
SELECT 'filled amount differs from its trades', o.id::text
  FROM exchange.orders o
 WHERE o.filled_amount <> COALESCE((SELECT sum(t.amount) FROM exchange.trades t
                                     WHERE t.buyer_order_id = o.id OR t.seller_order_id = o.id), 0)
UNION ALL
SELECT 'hold left on an ended order', o.id::text
  FROM exchange.orders o
 WHERE o.status NOT IN ('NEW', 'PARTIALLY_FILLED', 'PENDING') AND o.hold_amount <> 0
UNION ALL
SELECT 'open order not in the book with its remaining amount', o.id::text
  FROM exchange.orders o
 WHERE o.status IN ('NEW', 'PARTIALLY_FILLED')
   AND NOT EXISTS (SELECT 1 FROM exchange.order_book b WHERE b.order_id = o.id
                      AND b.remaining = o.remaining_amount)
UNION ALL
SELECT 'book row of an ended order', b.order_id::text
  FROM exchange.order_book b JOIN exchange.orders o ON o.id = b.order_id
 WHERE o.status NOT IN ('NEW', 'PARTIALLY_FILLED')
UNION ALL
SELECT 'hold differs from its open order', o.id::text
  FROM exchange.orders o
 WHERE o.status IN ('NEW', 'PARTIALLY_FILLED')
   AND o.hold_amount <> CASE o.side WHEN 'BUY' THEN o.price * o.remaining_amount
                                    ELSE o.remaining_amount END
UNION ALL
SELECT 'ledger: ' || r.check_name,
       concat_ws(' ', r.asset, r.account_id, r.expected, r.actual, r.detail)
  FROM exchange.reconcile() r
"""

# ... and what a soak adds: K-lines against trades, the outbox complete.
INVARIANTS = TRADING_INVARIANTS + """UNION ALL
SELECT 'k-lines differ from the trades', concat_ws(' ', tp.symbol, k.interval, k.n, t.n, k.v, t.v)
  FROM exchange.trading_pairs tp
 CROSS JOIN LATERAL (SELECT count(*) AS n, COALESCE(sum(amount), 0) AS v,
                            COALESCE(sum(quote_amount), 0) AS q
                       FROM exchange.trades x WHERE x.trading_pair_id = tp.id) t
  JOIN LATERAL (SELECT i.interval, COALESCE(sum(kl.trades_count), 0) AS n,
                       COALESCE(sum(kl.volume), 0) AS v, COALESCE(sum(kl.quote_volume), 0) AS q
                  FROM unnest(enum_range(NULL::exchange.kline_interval)) AS i(interval)
                  LEFT JOIN exchange.klines kl ON kl.trading_pair_id = tp.id
                                              AND kl.interval = i.interval
                 GROUP BY i.interval) k ON true
 WHERE k.n <> t.n OR k.v <> t.v OR k.q <> t.q
UNION ALL
SELECT 'outbox: trade without one trade_executed', t.id::text
  FROM exchange.trades t
 WHERE (SELECT count(*) FROM exchange.outbox_events e
         WHERE e.aggregate_type = 'trade' AND e.aggregate_id = t.id::text
           AND e.event_type = 'trade_executed') <> 1
UNION ALL
SELECT 'outbox: order without one order_placed', o.id::text
  FROM exchange.orders o
 WHERE (SELECT count(*) FROM exchange.outbox_events e
         WHERE e.aggregate_type = 'order' AND e.aggregate_id = o.id::text
           AND e.event_type = 'order_placed' AND NOT e.event_data ? 'triggered') <> 1
UNION ALL
SELECT 'outbox: deposits and deposit_credited events differ', concat_ws(' ', d.n, e.n)
  FROM (SELECT count(*) AS n FROM exchange.journal j WHERE j.type = 'DEPOSIT') d,
       (SELECT count(*) AS n FROM exchange.outbox_events e
         WHERE e.event_type = 'deposit_credited') e
 WHERE d.n <> e.n
UNION ALL
SELECT 'outbox: withdrawal without its events', w.id::text
  FROM exchange.withdrawals w
 WHERE NOT EXISTS (SELECT 1 FROM exchange.outbox_events e
                    WHERE e.aggregate_type = 'withdrawal' AND e.aggregate_id = w.id::text
                      AND e.event_type = 'withdrawal_requested')
    OR (w.status = 'COMPLETED' AND NOT EXISTS (
            SELECT 1 FROM exchange.outbox_events e
             WHERE e.aggregate_type = 'withdrawal' AND e.aggregate_id = w.id::text
               AND e.event_type = 'withdrawal_completed'))
    OR (w.status = 'CANCELLED' AND NOT EXISTS (
            SELECT 1 FROM exchange.outbox_events e
             WHERE e.aggregate_type = 'withdrawal' AND e.aggregate_id = w.id::text
               AND e.event_type = 'withdrawal_cancelled'))
"""


@dataclass
class SoakReport:
    ops: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    checks: int = 0
    trades: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.violations


RISK_RULES = (
    ("soak rate", "ORDER_RATE", {"max_orders": 1000, "window_seconds": 1}, "FLAG"),
    ("soak open", "MAX_OPEN_ORDERS", {"max_open_orders": 500, "symbol": f"{BASES[0]}-{QUOTE}"},
     "FLAG"),
    ("soak band", "PRICE_BAND", {"max_deviation_pct": 2}, "FLAG"),
    ("soak notional", "MAX_ORDER_NOTIONAL", {"max_notional": "250", "symbol": f"{BASES[0]}-{QUOTE}"},
     "REJECT"),
    ("soak daily", "DAILY_WITHDRAWAL_LIMIT", {"asset": QUOTE, "max_amount": "100000"}, "FLAG"),
    ("soak large", "LARGE_WITHDRAWAL_REVIEW", {"threshold": "15", "asset": BASES[0]}, "REVIEW"),
)


def setup(dsn: str, users: int, *, risk: bool = False) -> list[int]:
    """Assets, the pairs (every base against one quote), ACTIVE users funded in every asset;
    with ``risk``, a rule of every type and every other user at KYC level 1."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if risk:
            row = conn.execute("SELECT id FROM exchange.bootstrap_admin('soakadmin', "
                               "'soakadmin@example.org', 'a long passphrase')").fetchone()
            assert row is not None
            conn.execute("SELECT set_config('exchange.acting_user_id', %s, false)", (str(row[0]),))
        for sym in (QUOTE, *BASES):
            conn.execute("SELECT exchange.create_asset(%s, %s, 'CRYPTO', 8)", (sym, sym))
        for base in BASES:
            conn.execute("SELECT exchange.create_trading_pair(%s, %s, %s, 2, 4, 0, 0, 0.001, 0.002)",
                         (f"{base}-{QUOTE}", base, QUOTE))
        ids = []
        tag = uuid.uuid4().hex[:6]
        for n in range(users):
            row = conn.execute(
                "INSERT INTO exchange.users (username, email, password_hash, status, kyc_level) "
                "VALUES (%s, %s, 'x', 'ACTIVE', %s) RETURNING id",
                (f"soak{tag}{n}", f"soak{tag}{n}@example.org", 1 if risk and n % 2 else 2)
            ).fetchone()
            assert row is not None
            ids.append(row[0])
            for sym, amount in ((QUOTE, "1000000"), *((b, "5000") for b in BASES)):
                conn.execute("SELECT exchange.deposit(%s, %s, %s, %s)",
                             (row[0], sym, D(amount), f"soak-fund-{tag}-{n}-{sym}"))
        if risk:
            for name, kind, conditions, action in RISK_RULES:
                conn.execute("SELECT exchange.create_risk_rule(%s, %s, %s, %s)",
                             (name, kind, Jsonb(conditions), Jsonb({"action": action})))
        return ids


class Client(threading.Thread):
    def __init__(self, dsn: str, users: list[int], seed: int, deadline: float,
                 report: SoakReport) -> None:
        super().__init__(daemon=True)
        self.dsn, self.users, self.deadline, self.report = dsn, users, deadline, report
        self.rnd = random.Random(seed)

    def run(self) -> None:
        ops = (self.deposit, self.transfer, self.withdrawal, self.order, self.order,
               self.order, self.order, self.batch, self.cancel)
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while time.monotonic() < self.deadline:
                op = self.rnd.choice(ops)
                try:
                    name = op(conn)
                except psycopg.Error as exc:
                    code = exc.sqlstate or "?"
                    with self.report.lock:
                        if code.startswith("EX"):
                            self.report.refusals[code] += 1
                        else:
                            self.report.failures.append(f"{op.__name__}: {code} {exc}")
                    continue
                with self.report.lock:
                    self.report.ops[name] += 1

    # --- operations ---------------------------------------------------------------------------
    def _user(self) -> int:
        return self.rnd.choice(self.users)

    def _asset(self) -> str:
        return self.rnd.choice((QUOTE, *BASES))

    def deposit(self, conn: psycopg.Connection[Any]) -> str:
        conn.execute("SELECT exchange.deposit(%s, %s, %s, %s)",
                     (self._user(), self._asset(), D(self.rnd.randint(1, 500)) / 10,
                      uuid.uuid4().hex))
        return "deposit"

    def transfer(self, conn: psycopg.Connection[Any]) -> str:
        a, b = self.rnd.sample(self.users, 2)
        conn.execute("SELECT exchange.transfer(%s, %s, %s, %s, %s)",
                     (a, b, self._asset(), D(self.rnd.randint(1, 500)) / 10, uuid.uuid4().hex))
        return "transfer"

    def withdrawal(self, conn: psycopg.Connection[Any]) -> str:
        row = conn.execute("SELECT exchange.withdraw(%s, %s, %s, %s)",
                           (self._user(), self._asset(), D(self.rnd.randint(1, 200)) / 10,
                            uuid.uuid4().hex)).fetchone()
        assert row is not None
        if self.rnd.random() < 0.5:
            conn.execute("SELECT exchange.complete_withdrawal(%s, %s)", (row[0], "soak"))
            return "withdrawal completed"
        conn.execute("SELECT exchange.cancel_withdrawal(%s, %s)", (row[0], "soak"))
        return "withdrawal cancelled"

    def _request(self, user: int | None = None) -> tuple[Any, ...]:
        base = self.rnd.choice(BASES)
        kind = self.rnd.choice(ORDER_TYPES)
        side = self.rnd.choice(("BUY", "SELL"))
        mid = MID[base]
        price = (mid * (1 + D(self.rnd.randint(-30, 30)) / 1000)).quantize(D("0.01"))
        amount = D(self.rnd.randint(1, 300)) / 100
        tif, stop, quote, typ = "GTC", None, None, kind
        if kind in ("LIMIT_IOC", "LIMIT_FOK"):
            typ, tif = "LIMIT", kind[-3:]
        elif kind == "MARKET":
            price = None
        elif kind == "MARKET_QUOTE":
            typ, side, price, amount = "MARKET", "BUY", None, None
            quote = (mid * D(self.rnd.randint(1, 200)) / 100).quantize(D("0.01"))
        elif kind in ("STOP_LOSS", "STOP_LOSS_LIMIT"):
            # a stop below the market for sells, above for buys (it waits, PENDING)
            off = D(self.rnd.randint(1, 20)) / 1000
            stop = (mid * (1 - off if side == "SELL" else 1 + off)).quantize(D("0.01"))
            price = price if kind == "STOP_LOSS_LIMIT" else None
        return (user or self._user(), f"{base}-{QUOTE}", side, typ, amount, price, tif, None,
                stop, quote, None)

    def order(self, conn: psycopg.Connection[Any]) -> str:
        r = self._request()
        conn.execute("SELECT * FROM exchange.place_order(%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                     "%s, %s)", r).fetchall()
        return f"order {r[3]} {r[6]}" + (" by quote" if r[9] is not None else "")

    def batch(self, conn: psycopg.Connection[Any]) -> str:
        rows = [self._request() for _ in range(self.rnd.randint(2, 4))]
        cols = list(zip(*rows, strict=True))
        conn.execute(
            "SELECT count(*) FROM exchange.place_orders(ARRAY(SELECT ROW(u, s, sd, t, a, p, tif, "
            "NULL, sp, q, NULL)::exchange.order_request FROM unnest(%s::bigint[], %s::text[], "
            "%s::text[], %s::text[], %s::numeric[], %s::numeric[], %s::text[], %s::numeric[], "
            "%s::numeric[]) WITH ORDINALITY AS r(u, s, sd, t, a, p, tif, sp, q, o) ORDER BY o))",
            (list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]),
             list(cols[5]), list(cols[6]), list(cols[8]), list(cols[9])))
        return "batch"

    def cancel(self, conn: psycopg.Connection[Any]) -> str:
        user = self._user()
        if self.rnd.random() < 0.1:
            conn.execute("SELECT count(*) FROM exchange.cancel_all_orders(%s, %s)",
                         (user, f"{self.rnd.choice(BASES)}-{QUOTE}"))
            return "cancel all"
        rows = conn.execute("SELECT id FROM exchange.get_orders(%s, NULL, true, 20)",
                            (user,)).fetchall()
        if not rows:
            return "cancel (none open)"
        conn.execute("SELECT * FROM exchange.cancel_order(%s, %s)",
                     (user, self.rnd.choice(rows)[0])).fetchall()
        return "cancel"


def check(dsn: str, report: SoakReport) -> list[str]:
    """The invariants, in one snapshot; records and returns the violations."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        rows = conn.execute(INVARIANTS).fetchall()
        trades = conn.execute("SELECT count(*) FROM exchange.trades").fetchone()
        conn.rollback()
    found = [f"{p}: {d}" for p, d in rows]
    with report.lock:
        report.checks += 1
        report.violations.extend(found)
        report.trades = int(trades[0]) if trades else 0
    return found


def soak(dsn: str, duration: float, clients: int, *, users: int = 12, seed: int = 1,
         check_every: float = 2.0, risk: bool = False) -> SoakReport:
    """Set up the market in ``dsn`` (a migrated database), run, check; the report."""
    ids = setup(dsn, users, risk=risk)
    report = SoakReport()
    deadline = time.monotonic() + duration
    workers = [Client(dsn, ids, seed * 1000 + i, deadline, report) for i in range(clients)]
    for w in workers:
        w.start()
    while any(w.is_alive() for w in workers):
        for w in workers:
            w.join(timeout=check_every / max(len(workers), 1))
        if any(w.is_alive() for w in workers):
            check(dsn, report)
    check(dsn, report)
    return report


def print_report(report: SoakReport, duration: float, clients: int) -> None:
    total = sum(report.ops.values())
    print(f"soak: {clients} clients, {duration:.0f} s: {total} calls served "
          f"({total / max(duration, 1e-9):.0f}/s), {sum(report.refusals.values())} typed refusals, "
          f"{report.trades} trades, {report.checks} invariant checks")
    for name, n in sorted(report.ops.items()):
        print(f"  {name:<28} {n}")
    print("  refusals: " + ", ".join(f"{c} {n}" for c, n in sorted(report.refusals.items())))
    for f in report.failures[:20]:
        print(f"FAILURE {f}")
    for v in report.violations[:20]:
        print(f"VIOLATION {v}")
    print("OK" if report.ok else f"FAILED: {len(report.failures)} failures, "
          f"{len(report.violations)} violations")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--clients", type=int, default=8, help="connections (default 8)")
    ap.add_argument("--users", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--check-every", type=float, default=2.0, help="seconds between checks")
    ap.add_argument("--risk", action="store_true",
                    help="every risk rule type active, every other user at KYC level 1")
    ap.add_argument("--dsn", help="the server (default: PYEXCHANGE_BENCH_DSN or libpq env)")
    ap.add_argument("--database-dsn", help="soak this migrated database instead of a new one")
    args = ap.parse_args(argv)
    if args.database_dsn:
        report = soak(args.database_dsn, args.duration, args.clients, users=args.users,
                      seed=args.seed, check_every=args.check_every, risk=args.risk)
    else:
        with bench_database(server_dsn(args.dsn), "pyx_soak", migrate=True) as dsn:
            report = soak(dsn, args.duration, args.clients, users=args.users, seed=args.seed,
                          check_every=args.check_every, risk=args.risk)
    print_report(report, args.duration, args.clients)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
