"""The client rides through a lost connection (issue 14) on the ordinary test server: a
pooled connection whose backend is terminated is replaced and the call retried (once, and
applied once); with retries off the caller learns the call was not applied; a multi-host
DSN skips a dead host; market data reads go to the read DSN and nothing else does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.cli import main
from pyexchange.client import Exchange
from pyexchange.config import PoolSettings
from pyexchange.errors import DatabaseUnavailable, OutcomeUnknown
from tests.integration._trading_support import balance, setup_market

DEAD_PORT = 5559  # in this suite's range; nothing listens there


def _terminate(dsn: str, application_name: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application_name,)).fetchall()
    return len(rows)


@pytest.fixture
def market(clone_dsn: str) -> dict[str, int]:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        return setup_market(conn, users=("rider", "other"))


def test_a_terminated_connection_is_replaced_and_the_call_applied_once(
        clone_dsn: str, market: dict[str, int]) -> None:
    dsn = clone_dsn + " application_name=pyx-rider"
    uid = market["rider"]
    with Exchange(dsn, pool=PoolSettings(min_size=1, max_size=1)) as ex:
        before = ex.balances(uid)
        assert _terminate(clone_dsn, "pyx-rider") == 1
        ex.deposit(uid, "USDT", Decimal(5), "rider-1")
        assert ex.failover_retries == 1
        ex.deposit(uid, "USDT", Decimal(5), "rider-1")  # the same key again: no new credit
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert balance(conn, uid, "USDT")[0] == next(b for b in before
                                                 if b.asset == "USDT").available + 5


def test_with_retries_off_the_caller_learns_it_was_not_applied(
        clone_dsn: str, market: dict[str, int]) -> None:
    dsn = clone_dsn + " application_name=pyx-noretry"
    uid = market["rider"]
    with Exchange(dsn, pool=PoolSettings(min_size=1, max_size=1, failover_timeout=0)) as ex:
        ex.balances(uid)
        assert _terminate(clone_dsn, "pyx-noretry") == 1
        with pytest.raises(DatabaseUnavailable):
            ex.deposit(uid, "USDT", Decimal(5), "noretry-1")
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM exchange.idempotency_keys "
                            "WHERE key = 'noretry-1'").fetchone() == (0,)


def _cut_during_the_call(clone_dsn: str, application_name: str,
                         call: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """Run ``call`` (an order through submit_order) while the market's lock is held, so the
    procedure queues its request, commits it and waits; terminate its backend there (after
    a commit of the procedure, before its result); then release the market. Returns what
    ``call`` returned or raised."""
    outcome: list[Any] = [None, None]

    def run() -> None:
        try:
            outcome[0] = call()
        except BaseException as exc:  # handed to the test
            outcome[1] = exc

    with psycopg.connect(clone_dsn) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(1601, id) FROM exchange.trading_pairs "
                       "WHERE symbol = 'BTC-USDT'")
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        with psycopg.connect(clone_dsn, autocommit=True) as watch:
            while watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                    "AND wait_event = 'advisory'", (application_name,)).fetchone() != (1,):
                assert time.monotonic() < deadline, "the order never waited for its market"
                time.sleep(0.05)
        assert _terminate(clone_dsn, application_name) == 1
        time.sleep(0.5)  # an exact call's retry queues behind the holder too
    thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome[0], outcome[1]


def _orders(clone_dsn: str, uid: int) -> list[tuple[int, str | None]]:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT id, client_order_id FROM exchange.orders WHERE user_id = %s ORDER BY id",
            (uid,))]


def test_an_order_with_a_client_order_id_rides_through_a_connection_cut_inside_its_call(
        clone_dsn: str, market: dict[str, int]) -> None:
    """submit_order commits inside (its request, queued behind a busy market) before its
    result reaches the client: the cut leaves the outcome unknown, and the retry with the
    same client_order_id is exact: the queued request is placed once and the retry gets
    that order back."""
    dsn = clone_dsn + " application_name=pyx-submit-cut"
    uid = market["rider"]
    with Exchange(dsn, pool=PoolSettings(min_size=1, max_size=1)) as ex:
        order, error = _cut_during_the_call(clone_dsn, "pyx-submit-cut", lambda: ex.place_order(
            uid, "BTC-USDT", "BUY", "LIMIT", Decimal(1), Decimal(50), client_order_id="cut-1"))
        assert error is None, repr(error)
        assert ex.failover_retries == 1
    assert _orders(clone_dsn, uid) == [(order.id, "cut-1")]


def test_an_order_without_a_client_order_id_cut_inside_its_call_is_outcome_unknown(
        clone_dsn: str, market: dict[str, int]) -> None:
    """Without a client_order_id a retry could place the order twice: the caller learns the
    outcome is unknown, and it was indeed applied (its queued request is placed later)."""
    dsn = clone_dsn + " application_name=pyx-submit-unknown"
    uid = market["rider"]
    with Exchange(dsn, pool=PoolSettings(min_size=1, max_size=1)) as ex:
        _, error = _cut_during_the_call(clone_dsn, "pyx-submit-unknown", lambda: ex.place_order(
            uid, "BTC-USDT", "BUY", "LIMIT", Decimal(1), Decimal(50)))
        assert isinstance(error, OutcomeUnknown), repr(error)
        assert ex.failover_retries == 0
        assert _orders(clone_dsn, uid) == []  # queued and committed, not placed yet
        ex.process_order_requests()  # places the request nobody waits for any more
    assert len(_orders(clone_dsn, uid)) == 1


def test_an_order_on_a_dead_pooled_connection_is_retried_as_not_sent(
        clone_dsn: str, market: dict[str, int]) -> None:
    """A pooled connection that died while idle fails before the CALL is sent: not
    committed, so even an order without a client_order_id is retried, and placed once."""
    dsn = clone_dsn + " application_name=pyx-submit-idle"
    uid = market["rider"]
    with Exchange(dsn, pool=PoolSettings(min_size=1, max_size=1)) as ex:
        ex.balances(uid)
        assert _terminate(clone_dsn, "pyx-submit-idle") == 1
        order = ex.place_order(uid, "BTC-USDT", "BUY", "LIMIT", Decimal(1), Decimal(50))
        assert ex.failover_retries == 1
    assert _orders(clone_dsn, uid) == [(order.id, None)]


def _multi_host(dsn: str) -> str:
    parts = conninfo_to_dict(dsn)
    return make_conninfo(**{**{k: str(v) for k, v in parts.items() if v is not None},
                            "host": f"127.0.0.1,{parts['host']}",
                            "port": f"{DEAD_PORT},{parts['port']}",
                            "target_session_attrs": "read-write"})


def test_market_data_reads_go_to_the_read_dsn(clone_dsn: str,
                                              market: dict[str, int]) -> None:
    reader = clone_dsn + " application_name=pyx-reader"
    with Exchange(_multi_host(clone_dsn), read_dsn=reader,
                  pool=PoolSettings(min_size=0, max_size=1, connect_timeout=2)) as ex:
        ex.get_order_book("BTC-USDT")
        ex.get_recent_trades("BTC-USDT")
        ex.get_ticker_24hr("BTC-USDT")
        ex.get_klines("BTC-USDT")
        assert ex.read_pool is not None
        with psycopg.connect(clone_dsn, autocommit=True) as conn:
            used = conn.execute("SELECT count(*) FROM pg_stat_activity "
                                "WHERE application_name = 'pyx-reader'").fetchone()
            assert used == (1,)
        ex.deposit(market["other"], "USDT", Decimal(1), "reader-1")
        assert ex.read_pool.get_stats().get("requests_num", 0) == 4


def test_cli_takes_a_multi_host_dsn_and_the_pool_options(
        clone_dsn: str, market: dict[str, int]) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["--dsn", _multi_host(clone_dsn), "--read-dsn", clone_dsn,
                              "--pool-min", "0", "--pool-max", "2", "--pool-timeout", "5",
                              "--pool-max-idle", "60", "--connect-timeout", "2",
                              "--prepare-threshold", "off", "--failover-timeout", "5",
                              "balances", str(market["rider"])])
    assert ok.exit_code == 0, ok.output
    assert "USDT" in ok.output
    refused = runner.invoke(main, ["--dsn", clone_dsn, "balances", str(market["rider"])],
                            env={"PYEXCHANGE_POOL_MIN": "3", "PYEXCHANGE_POOL_MAX": "2"})
    assert refused.exit_code == 1, refused.output  # the environment's sizes are refused
