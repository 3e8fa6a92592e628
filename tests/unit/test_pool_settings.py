"""Pool sizes, timeouts and the prepare threshold come from the environment and the CLI,
the option over the variable over the default (issue 14)."""

from __future__ import annotations

import pytest

from pyexchange.cli.pooling import settings_from_options
from pyexchange.config import PoolSettings, configured_read_dsn, pool_settings_from_env
from pyexchange.errors import ConfigurationError


def test_defaults() -> None:
    s = pool_settings_from_env({})
    assert s == PoolSettings()
    assert (s.min_size, s.max_size, s.prepare_threshold) == (1, 4, 5)


def test_environment() -> None:
    s = pool_settings_from_env({
        "PYEXCHANGE_POOL_MIN": "2", "PYEXCHANGE_POOL_MAX": "9",
        "PYEXCHANGE_POOL_TIMEOUT": "7.5", "PYEXCHANGE_POOL_MAX_IDLE": "30",
        "PYEXCHANGE_CONNECT_TIMEOUT": "3", "PYEXCHANGE_PREPARE_THRESHOLD": "off",
        "PYEXCHANGE_FAILOVER_TIMEOUT": "0"})
    assert s == PoolSettings(min_size=2, max_size=9, timeout=7.5, max_idle=30,
                             connect_timeout=3, prepare_threshold=None, failover_timeout=0)


@pytest.mark.parametrize("env", [
    {"PYEXCHANGE_POOL_MAX": "many"},
    {"PYEXCHANGE_POOL_MIN": "5", "PYEXCHANGE_POOL_MAX": "2"},
    {"PYEXCHANGE_POOL_MAX": "0"},
    {"PYEXCHANGE_PREPARE_THRESHOLD": "sometimes"},
    {"PYEXCHANGE_CONNECT_TIMEOUT": "0"},
])
def test_bad_values_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        pool_settings_from_env(env)


def test_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYEXCHANGE_POOL_MAX", "9")
    monkeypatch.setenv("PYEXCHANGE_PREPARE_THRESHOLD", "off")
    s = settings_from_options({"pool_max": 3, "prepare_threshold": None, "pool_min": None})
    assert (s.max_size, s.prepare_threshold, s.min_size) == (3, None, 1)
    s = settings_from_options({"prepare_threshold": "12"})
    assert s.prepare_threshold == 12


def test_read_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYEXCHANGE_READ_DSN", raising=False)
    assert configured_read_dsn() is None
    monkeypatch.setenv("PYEXCHANGE_READ_DSN", "host=standby")
    assert configured_read_dsn() == "host=standby"
    assert configured_read_dsn("host=other") == "host=other"
