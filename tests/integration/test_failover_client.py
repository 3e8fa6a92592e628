"""The client rides through a lost connection (issue 14) on the ordinary test server: a
pooled connection whose backend is terminated is replaced and the call retried (once, and
applied once); with retries off the caller learns the call was not applied; a multi-host
DSN skips a dead host; market data reads go to the read DSN and nothing else does."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyexchange.cli import main
from pyexchange.client import Exchange
from pyexchange.config import PoolSettings
from pyexchange.errors import DatabaseUnavailable
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
