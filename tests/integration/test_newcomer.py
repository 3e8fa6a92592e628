"""A newcomer's first hour (issue 18): output a script can read, errors that say what to do,
destructive commands that ask first, users by username, fills, and defaults that fit."""

from __future__ import annotations

import csv
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from decimal import ROUND_DOWN, Decimal
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from pyexchange import Exchange
from pyexchange.cli import main
from pyexchange.cli.errors import cli_words
from pyexchange.errors import NotAuthenticated, PermissionDenied, UserNotFound
from tests.integration._trading_support import place, setup_market
from tests.integration.test_access import _counts, login_as  # noqa: F401 - fixture

D = Decimal


def cli(dsn: str, *args: str, acting: int | None = None) -> Result:
    head = ["--dsn", dsn] + (["--as", str(acting)] if acting is not None else [])
    return CliRunner().invoke(main, [*head, *args])


@pytest.fixture
def market(clone_dsn: str) -> dict[str, int]:
    """alice, bob, carol on BTC-USDT; bob rests an ask, alice takes part of it."""
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        users = setup_market(conn, price_precision=2, amount_precision=6)
        place(conn, users["bob"], "SELL", "LIMIT", "0.5", "60000")
        place(conn, users["alice"], "BUY", "LIMIT", "0.123456", "60000")
    return users


# --- output a script can read ----------------------------------------------------------------
def test_order_list_prints_json_csv_and_whole_tables(clone_dsn: str,
                                                      market: dict[str, int]) -> None:
    out = cli(clone_dsn, "order", "list", "--user", str(market["bob"]), "--format", "json")
    assert out.exit_code == 0, out.output
    [order] = json.loads(out.stdout)
    # decimals are exact strings, ids numbers, a missing value null
    assert order["amount"] == "0.5" and order["filled"] == "0.123456"
    assert order["price"] == "60000" and isinstance(order["id"], int)
    assert order["stop"] is None and order["status"] == "PARTIALLY_FILLED"

    out = cli(clone_dsn, "order", "list", "--user", "bob", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["filled"] for r in rows] == ["0.123456"] and rows[0]["symbol"] == "BTC-USDT"

    # piped (not a terminal), a table is as wide as its content: nothing is cut to "…"
    out = cli(clone_dsn, "order", "list", "--user", "bob")
    assert out.exit_code == 0 and "…" not in out.stdout
    assert "0.123456" in out.stdout and "PARTIALLY_FILLED" in out.stdout


def test_every_list_and_show_command_takes_format() -> None:
    """Commands named list/show/status (and the market data ones) accept --format."""
    names = {"list", "show", "status", "book", "trades", "klines", "ticker", "balances",
             "history", "fills", "batches", "report", "statement", "events", "verify"}
    missing: list[str] = []

    def walk(cmd: Any, path: str) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{path} {name}")
            return
        if path.split()[-1] in names and not any(
                "--format" in p.opts for p in cmd.params if hasattr(p, "opts")):
            missing.append(path)

    walk(main, "pyexchange")
    assert not missing, missing


def test_fills_and_order_show(clone_dsn: str, market: dict[str, int]) -> None:
    out = cli(clone_dsn, "fills", "alice", "--format", "json")
    assert out.exit_code == 0, out.output
    [fill] = json.loads(out.stdout)
    assert fill["side"] == "BUY" and fill["role"] == "TAKER" and fill["fee_asset"] == "BTC"
    # the taker fee, truncated to the base asset's 8 decimals
    assert fill["amount"] == "0.123456"
    assert D(fill["fee"]) == (D("0.123456") * D("0.002")).quantize(D("1e-8"), ROUND_DOWN)
    out = cli(clone_dsn, "order", "show", "--user", "bob", "1", "--format", "json")
    shown = json.loads(out.stdout)
    assert shown["id"] == 1 and [f["role"] for f in shown["fills"]] == ["MAKER"]
    assert shown["fills"][0]["fee_asset"] == "USDT" and shown["fills"][0]["side"] == "SELL"


def test_user_trades_access_from_both_sides(clone_dsn: str, market: dict[str, int],
                                            login_as: Any) -> None:  # noqa: F811
    app = login_as("app")
    before = _counts(clone_dsn)
    with Exchange(app, acting_user_id=market["carol"]) as ex, pytest.raises(PermissionDenied):
        ex.get_user_trades(market["alice"])  # carol may not read alice's fills
    assert _counts(clone_dsn) == before
    with Exchange(app, acting_user_id=market["alice"]) as ex:
        assert [t.role for t in ex.get_user_trades(market["alice"])] == ["TAKER"]
        with pytest.raises(PermissionDenied):  # nor learn whether another user exists
            ex.get_user_trades(999_999)
    with Exchange(app) as ex, pytest.raises(NotAuthenticated):  # an app login acts for someone
        ex.get_user_trades(market["alice"])
    with Exchange(clone_dsn) as ex, pytest.raises(UserNotFound):  # a DBA session learns it
        ex.get_user_trades(999_999)


def test_placement_says_when_self_trade_prevention_expired_an_order(
        clone_dsn: str, market: dict[str, int]) -> None:
    out = cli(clone_dsn, "order", "place", "--user", "carol", "BTC-USDT", "SELL", "LIMIT", "1",
              "--price", "61000")
    assert out.exit_code == 0, out.output
    out = cli(clone_dsn, "order", "place", "--user", "carol", "BTC-USDT", "BUY", "LIMIT", "1",
              "--price", "61000", "--format", "json")
    placed = json.loads(out.stdout)
    assert "expired your resting order" in placed["notes"], placed
    out = cli(clone_dsn, "order", "place", "--user", "carol", "BTC-USDT", "SELL", "LIMIT", "1",
              "--price", "59000", "--stp", "EXPIRE_TAKER", "--format", "json")
    placed = json.loads(out.stdout)
    assert placed["status"] == "EXPIRED" and "expired this order" in placed["notes"], placed


# --- errors that say what to do ------------------------------------------------------------
def test_a_refused_port_fails_in_one_line_naming_where() -> None:
    out = CliRunner().invoke(main, ["--dsn", "postgresql://nobody@127.0.0.1:5593/somedb",
                                    "order", "list", "--user", "1"])
    assert out.exit_code == 1
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error"), out.output
    assert "127.0.0.1" in lines[0] and "5593" in lines[0] and "somedb" in lines[0]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a stuck server, a firewall
    that lets the SYN through)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 5594))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield 5594
    finally:
        stop.set()
        thread.join(5)
        for c in held:
            c.close()
        sock.close()


def test_a_silent_server_fails_in_seconds_not_after_the_pool_timeout(silent_server: int) -> None:
    started = time.monotonic()
    out = CliRunner().invoke(main, ["--dsn", f"postgresql://x@127.0.0.1:{silent_server}/db",
                                    "balances", "1"])
    elapsed = time.monotonic() - started
    assert out.exit_code == 1 and len(out.output.strip().splitlines()) == 1, out.output
    assert f"port {silent_server}" in out.output
    assert elapsed < 20, elapsed  # the pool would wait 30 s, printing a line per attempt


def test_an_unmigrated_database_says_to_migrate(empty_dsn: str) -> None:
    out = cli(empty_dsn, "pair", "list")
    assert out.exit_code == 1 and "pyexchange db migrate" in out.output, out.output


def test_hints_speak_of_cli_options(clone_dsn: str, market: dict[str, int]) -> None:
    assert cli_words("Pass p_price.") == "Pass --price."
    assert cli_words("p_stop_price and p_user_id") == "--stop-price and --user"
    out = cli(clone_dsn, "order", "place", "--user", "alice", "BTC-USDT", "BUY", "LIMIT", "1")
    assert out.exit_code == 1 and "--price" in out.output and "p_price" not in out.output


def test_insufficient_funds_names_asset_and_amounts(clone_dsn: str,
                                                    market: dict[str, int]) -> None:
    out = cli(clone_dsn, "transfer", "carol", "alice", "BTC", "1000")
    assert out.exit_code == 1 and "EX101" in out.output, out.output
    assert "BTC" in out.output and "100" in out.output and "1000" in out.output
    assert "account" not in out.output.split("DETAIL")[0]


def test_statement_of_an_unknown_user_is_refused(clone_dsn: str) -> None:
    out = cli(clone_dsn, "clearing", "statement", "424242", "--date", "2026-11-27")
    assert out.exit_code == 1 and "EX309" in out.output, out.output


# --- destructive commands ask first --------------------------------------------------------
def test_partitions_prune_without_yes_refuses_and_changes_nothing(clone_dsn: str) -> None:
    def partitions() -> int:
        with psycopg.connect(clone_dsn) as conn:
            row = conn.execute("SELECT count(*) FROM pg_inherits").fetchone()
            return int(row[0]) if row else -1
    before = partitions()
    out = cli(clone_dsn, "partitions", "prune", "--keep-months", "0")
    assert out.exit_code == 1 and "--yes" in out.output, out.output
    assert partitions() == before


def test_server_reset_without_yes_refuses_before_touching_anything(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "pyx-home"
    monkeypatch.setenv("PYEXCHANGE_HOME", str(home))
    out = CliRunner().invoke(main, ["server", "reset"])
    assert out.exit_code == 1 and "--yes" in out.output, out.output
    assert not home.exists()


# --- users by username, defaults that fit --------------------------------------------------
def test_users_by_username_and_derived_precisions(clone_dsn: str) -> None:
    with psycopg.connect(clone_dsn, autocommit=True) as conn:
        conn.execute("SELECT exchange.create_asset('BTC', 'Bitcoin', 'CRYPTO', 8)")
        conn.execute("SELECT exchange.create_asset('USDT', 'Tether', 'CRYPTO', 6)")
        conn.execute("INSERT INTO exchange.users (username, email, password_hash, status, "
                     "kyc_level) VALUES ('dora', 'dora@example.org', 'x', 'ACTIVE', 1)")
    out = cli(clone_dsn, "pair", "create", "BTC-USDT", "BTC", "USDT", "--format", "json")
    assert out.exit_code == 0, out.output
    [pair] = json.loads(out.stdout)
    assert (pair["tick"], pair["step"]) == ("0.01", "0.0001")  # 2 + 4 <= USDT's 6 decimals
    assert cli(clone_dsn, "deposit", "dora", "USDT", "12.5").exit_code == 0
    out = cli(clone_dsn, "balances", "dora", "--format", "json")
    assert json.loads(out.stdout)[0]["available"] == "12.5"
    out = cli(clone_dsn, "balances", "nobody-here")
    assert out.exit_code == 1 and "EX309" in out.output
