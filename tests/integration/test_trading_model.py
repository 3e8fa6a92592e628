"""Model-based test of matching and settlement: hypothesis generates streams of place and
cancel commands for three users on two pairs that share an asset (BTC-USDT and ETH-BTC); a
small pure-Python reference matcher replays each stream; the final books, the trades, every
balance (available and frozen) and the fee accounts must be identical, and so must the
outcome of every command (its status, or that it was refused).

Each example runs in its own transaction on the shared test database and is rolled back."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration._trading_support import check_invariants, setup_market

D = Decimal
PAIRS = {"BTC-USDT": ("BTC", "USDT"), "ETH-BTC": ("ETH", "BTC")}
USERS = ("ann", "ben", "cat")
FUNDS = {"BTC": D(6), "USDT": D(60), "ETH": D(6)}
MAKER, TAKER = D("0.001"), D("0.002")
DECIMALS = 8


def _down(x: Decimal) -> Decimal:
    return x.quantize(D(1).scaleb(-DECIMALS), rounding=ROUND_DOWN)


@dataclass
class MOrder:
    seq: int
    user: str
    pair: str
    side: str
    price: Decimal
    remaining: Decimal


@dataclass
class Model:
    """The reference: price-time priority, trades at the maker's price, EXPIRE_MAKER
    self-trade prevention, holds (buy: price x amount; sell: amount), fees on what each side
    receives rounded down to 8 decimals."""

    avail: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    frozen: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    fees: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    book: list[MOrder] = field(default_factory=list)
    trades: list[tuple[Any, ...]] = field(default_factory=list)
    seq: int = 0
    funds: dict[str, Decimal] = field(default_factory=lambda: dict(FUNDS))

    def __post_init__(self) -> None:
        for u in USERS:
            for a, amt in self.funds.items():
                self.avail[(u, a)] = amt
                self.frozen[(u, a)] = D(0)

    def _move(self, user: str, asset: str, d_avail: Decimal, d_frozen: Decimal) -> None:
        self.avail[(user, asset)] += d_avail
        self.frozen[(user, asset)] += d_frozen

    def _opposite(self, pair: str, side: str) -> Iterator[MOrder]:
        other = [o for o in self.book if o.pair == pair and o.side != side]
        if side == "BUY":
            other.sort(key=lambda o: (o.price, o.seq))
        else:
            other.sort(key=lambda o: (-o.price, o.seq))
        return iter(other)

    def place(self, user: str, pair: str, side: str, type_: str, amount: Decimal,
              price: Decimal | None, tif: str) -> str:
        base, quote = PAIRS[pair]
        limit = price if type_ == "LIMIT" else None
        rem = amount
        fills: list[tuple[MOrder, Decimal]] = []
        expired: list[MOrder] = []
        for mk in self._opposite(pair, side):
            if limit is not None and (mk.price > limit if side == "BUY" else mk.price < limit):
                break
            if mk.user == user:
                expired.append(mk)
                continue
            q = min(rem, mk.remaining)
            fills.append((mk, q))
            rem -= q
            if rem == 0:
                break
        if tif == "FOK" and rem > 0:
            return "REFUSED"
        cost = sum((mk.price * q for mk, q in fills), D(0))
        if side == "SELL":
            hold = amount
        elif limit is not None:
            hold = limit * amount
        else:
            hold = cost
        held_asset = quote if side == "BUY" else base
        if hold > self.avail[(user, held_asset)]:
            return "REFUSED"
        # hold, STP expiries, fills, end
        self._move(user, held_asset, -hold, hold)
        for mk in expired:
            mk_asset = base if mk.side == "SELL" else quote
            mk_hold = mk.remaining if mk.side == "SELL" else mk.price * mk.remaining
            self._move(mk.user, mk_asset, mk_hold, -mk_hold)
            self.book.remove(mk)
        consumed = D(0)
        for mk, q in fills:
            qv = mk.price * q
            if side == "BUY":
                tfee, mfee = _down(q * TAKER), _down(qv * MAKER)
                paid = limit * q if limit is not None else qv
                self._move(user, quote, paid - qv, -paid)
                self._move(mk.user, quote, qv - mfee, D(0))
                self._move(mk.user, base, D(0), -q)
                self._move(user, base, q - tfee, D(0))
                self.fees[(pair, quote)] = self.fees.get((pair, quote), D(0)) + mfee
                self.fees[(pair, base)] = self.fees.get((pair, base), D(0)) + tfee
                self.trades.append((pair, user, mk.user, mk.price, q, tfee, mfee, False))
                consumed += paid
            else:
                tfee, mfee = _down(qv * TAKER), _down(q * MAKER)
                self._move(user, base, D(0), -q)
                self._move(mk.user, base, q - mfee, D(0))
                self._move(mk.user, quote, D(0), -qv)
                self._move(user, quote, qv - tfee, D(0))
                self.fees[(pair, base)] = self.fees.get((pair, base), D(0)) + mfee
                self.fees[(pair, quote)] = self.fees.get((pair, quote), D(0)) + tfee
                self.trades.append((pair, mk.user, user, mk.price, q, mfee, tfee, True))
                consumed += q
            mk.remaining -= q
            if mk.remaining == 0:
                self.book.remove(mk)
        if rem > 0 and limit is not None and tif == "GTC":
            self.seq += 1
            self.book.append(MOrder(self.seq, user, pair, side, limit, rem))
            return "PARTIALLY_FILLED" if rem < amount else "NEW"
        self._move(user, held_asset, hold - consumed, consumed - hold)
        return "FILLED" if rem == 0 else "EXPIRED"

    def cancel(self, mo: MOrder) -> None:
        base, quote = PAIRS[mo.pair]
        if mo.side == "SELL":
            self._move(mo.user, base, mo.remaining, -mo.remaining)
        else:
            self._move(mo.user, quote, mo.price * mo.remaining, -mo.price * mo.remaining)
        self.book.remove(mo)


PRICES = {"BTC-USDT": [D("9.75"), D(10), D("10.25")],
          "ETH-BTC": [D("0.45"), D("0.5"), D("0.55")]}
place_cmd = st.tuples(
    st.just("place"), st.sampled_from(USERS), st.sampled_from(sorted(PAIRS)),
    st.sampled_from(["BUY", "SELL"]),
    st.sampled_from(["LIMIT", "LIMIT", "LIMIT", "MARKET"]),
    st.sampled_from([D("0.5"), D(1), D("1.5"), D(2), D(4)]),
    st.integers(0, 4), st.sampled_from(["GTC", "GTC", "IOC", "FOK"]))
cancel_cmd = st.tuples(st.just("cancel"), st.sampled_from(USERS), st.integers(0, 10))
commands = st.lists(st.one_of(place_cmd, place_cmd, place_cmd, cancel_cmd), min_size=20,
                    max_size=50)


def _db_state(conn: psycopg.Connection[Any], names: dict[int, str]) -> tuple[Any, ...]:
    book = [(p, names[u], s, D(pr).normalize(), D(r).normalize())
            for p, u, s, pr, r in conn.execute(
                "SELECT tp.symbol, b.user_id, b.side, b.price, b.remaining "
                "FROM exchange.order_book b JOIN exchange.trading_pairs tp ON tp.id = b.trading_pair_id "
                "ORDER BY tp.symbol, b.side, CASE b.side WHEN 'BUY' THEN -b.price ELSE b.price END, b.seq"
            ).fetchall()]
    trades = [(p, names[b], names[s], D(pr).normalize(), D(a).normalize(), D(bf).normalize(),
               D(sf).normalize(), m)
              for p, b, s, pr, a, bf, sf, m in conn.execute(
                  "SELECT tp.symbol, t.buyer_user_id, t.seller_user_id, t.price, t.amount, "
                  "t.buyer_fee, t.seller_fee, t.is_maker_buyer FROM exchange.trades t "
                  "JOIN exchange.trading_pairs tp ON tp.id = t.trading_pair_id ORDER BY t.id"
              ).fetchall()]
    balances = {(names[u], a): (D(av).normalize(), D(fr).normalize())
                for u, a, av, fr in conn.execute(
                    "SELECT a.user_id, s.symbol, a.available_balance, a.frozen_balance "
                    "FROM exchange.accounts a JOIN exchange.assets s ON s.id = a.asset_id "
                    "WHERE a.kind = 'USER'").fetchall() if u in names}
    fees = {(p, a): D(v).normalize() for p, a, v in conn.execute(
        "SELECT tp.symbol, s.symbol, a.available_balance FROM exchange.accounts a "
        "JOIN exchange.assets s ON s.id = a.asset_id "
        "JOIN exchange.trading_pairs tp ON tp.id = a.trading_pair_id "
        "WHERE a.kind = 'FEE' AND a.available_balance <> 0").fetchall()}
    return book, trades, balances, fees


def _model_state(model: Model) -> tuple[Any, ...]:
    def key(o: MOrder) -> tuple[Any, ...]:
        return (o.pair, o.side, -o.price if o.side == "BUY" else o.price, o.seq)
    book = [(o.pair, o.user, o.side, o.price.normalize(), o.remaining.normalize())
            for o in sorted(model.book, key=key)]
    trades = [(p, b, s, pr.normalize(), a.normalize(), bf.normalize(), sf.normalize(), m)
              for p, b, s, pr, a, bf, sf, m in model.trades]
    balances = {k: (model.avail[k].normalize(), model.frozen[k].normalize()) for k in model.avail}
    fees = {k: v.normalize() for k, v in model.fees.items() if v != 0}
    return book, trades, balances, fees


def _cancel(conn: psycopg.Connection[Any], model: Model, ids: dict[str, int],
            db_ids: dict[int, int], cmd: tuple[Any, ...]) -> None:
    """A cancel command: the user's k-th resting order (by age), in the model and the engine."""
    _, user, k = cmd
    mine = sorted((o for o in model.book if o.user == user), key=lambda o: o.seq)
    if not mine:
        return
    mo = mine[k % len(mine)]
    model.cancel(mo)
    st_row = conn.execute("SELECT status FROM exchange.cancel_order(%s, %s)",
                          (ids[user], db_ids[mo.seq])).fetchone()
    assert st_row == ("CANCELED",)


def _start(conn: psycopg.Connection[Any], funds: dict[str, Decimal]
           ) -> tuple[dict[str, int], dict[int, str], Model]:
    """The model's market in the database, each user funded with ``funds``, and a model
    holding the same: user ids by name, names by id, the model."""
    ids = setup_market(
        conn, users=USERS, pairs=tuple((s, b, q) for s, (b, q) in PAIRS.items()),
        price_precision=2, amount_precision=2, maker_fee=str(MAKER), taker_fee=str(TAKER),
        funds={a: str(v) for a, v in funds.items()})
    return ids, {v: k for k, v in ids.items()}, Model(funds=dict(funds))


@pytest.fixture(scope="module")
def model_conn(shared_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(shared_dsn) as conn:
        yield conn


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmds=commands)
def test_engine_matches_the_reference_model(model_conn: psycopg.Connection[Any],
                                            cmds: list[tuple[Any, ...]]) -> None:
    conn = model_conn
    try:
        ids, names, model = _start(conn, FUNDS)
        db_ids: dict[int, int] = {}          # model seq -> DB order id
        for cmd in cmds:
            if cmd[0] == "place":
                _, user, pair, side, type_, amount, pi, tif = cmd
                price = PRICES[pair][pi % len(PRICES[pair])] if type_ == "LIMIT" else None
                if type_ == "MARKET":
                    tif = "GTC" if tif == "GTC" else tif
                expected = model.place(user, pair, side, type_, amount, price, tif)
                try:
                    with conn.transaction():
                        row = conn.execute(
                            "SELECT id, status FROM exchange.place_order(%s, %s, %s, %s, %s, %s, %s)",
                            (ids[user], pair, side, type_, amount, price, tif)).fetchone()
                    assert row is not None
                    got = row[1]
                except psycopg.Error as exc:
                    assert exc.sqlstate in ("EX101", "EX215"), exc
                    got = "REFUSED"
                assert got == expected, (cmd, got, expected)
                if got in ("NEW", "PARTIALLY_FILLED"):
                    assert row is not None
                    db_ids[model.seq] = row[0]
            else:
                _cancel(conn, model, ids, db_ids, cmd)
        assert _db_state(conn, names) == _model_state(model)
        check_invariants(conn)
    finally:
        conn.rollback()


# Funds for about ten holds each, so that most batches go through (a batch is refused whole).
BATCH_FUNDS = {"BTC": D(60), "USDT": D(600), "ETH": D(60)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cmds=commands, size=st.integers(2, 6))
def test_batches_match_the_reference_model(model_conn: psycopg.Connection[Any],
                                           cmds: list[tuple[Any, ...]], size: int) -> None:
    """The same streams sent as ``place_orders`` batches of up to ``size`` consecutive
    placements: the batch writes its orders, trades and makers' fills once at its end, so
    orders of one batch fill each other (a maker placed and filled, several times, in one
    batch). The model places the batch's orders one after another; a batch it would refuse
    in part is refused whole by the engine and changes nothing. Books, trades, balances, fees
    and every order row (filled amounts against the trades, holds, statuses) must agree."""
    conn = model_conn
    try:
        ids, names, model = _start(conn, BATCH_FUNDS)
        db_ids: dict[int, int] = {}          # model seq -> DB order id
        pending: list[tuple[Any, ...]] = []

        def send() -> None:
            nonlocal model
            if not pending:
                return
            before = copy.deepcopy(model)
            seqs, expected = [], []
            for _, user, pair, side, type_, amount, pi, tif in pending:
                price = PRICES[pair][pi % len(PRICES[pair])] if type_ == "LIMIT" else None
                expected.append(model.place(user, pair, side, type_, amount, price, tif))
                seqs.append(model.seq if expected[-1] in ("NEW", "PARTIALLY_FILLED") else None)
            reqs = [(ids[u], pair, side, type_, amount,
                     PRICES[pair][pi % len(PRICES[pair])] if type_ == "LIMIT" else None, tif)
                    for _, u, pair, side, type_, amount, pi, tif in pending]
            values = ", ".join(["ROW(%s, %s, %s, %s, %s, %s, %s, NULL, NULL, NULL, NULL)"] * len(reqs))
            try:
                with conn.transaction():
                    rows = conn.execute(
                        f"SELECT id FROM exchange.place_orders(ARRAY[{values}]::exchange.order_request[])",
                        [x for r in reqs for x in r]).fetchall()
            except psycopg.Error as exc:
                assert exc.sqlstate in ("EX101", "EX215"), exc
                assert "REFUSED" in expected, (pending, expected, exc)
                model = before
            else:
                assert "REFUSED" not in expected, (pending, expected)
                assert len(rows) == len(pending)
                for seq, (oid,) in zip(seqs, rows, strict=True):
                    if seq is not None:
                        db_ids[seq] = oid
            pending.clear()

        for cmd in cmds:
            if cmd[0] == "place":
                if cmd[7] == "FOK" and cmd[6] % 3:
                    # fewer FOKs than alone: one that cannot fill refuses its whole batch
                    cmd = (*cmd[:7], "IOC")
                pending.append(cmd)
                if len(pending) == size:
                    send()
            else:
                send()
                _cancel(conn, model, ids, db_ids, cmd)
        send()
        assert _db_state(conn, names) == _model_state(model)
        check_invariants(conn)
    finally:
        conn.rollback()
