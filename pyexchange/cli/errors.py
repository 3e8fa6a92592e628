"""How the command line words an error: the database speaks to SQL callers (``Pass p_price.``),
the CLI rewrites those parameter names into its own options (``--price``) before printing."""

from __future__ import annotations

import re

from rich.markup import escape

from pyexchange.errors import ExchangeError

#: SQL parameter -> the CLI's option or argument for it, where the two names differ.
CLI_NAMES: dict[str, str] = {
    "p_user_id": "--user",
    "p_amount": "AMOUNT",
    "p_time_in_force": "--tif",
    "p_stp_mode": "--stp",
    "p_min_order_amount": "--min-amount",
    "p_maker_fee_rate": "--maker-fee",
    "p_taker_fee_rate": "--taker-fee",
    "p_status": "STATUS",
    "p_action": "the action",
}

_PARAM = re.compile(r"\bp_[a-z][a-z0-9_]*\b")


def cli_words(text: str) -> str:
    """``text`` with each SQL parameter name (``p_price``) replaced by the CLI's option
    (``--price``)."""
    return _PARAM.sub(lambda m: CLI_NAMES.get(m.group(0), "--" + m.group(0)[2:].replace("_", "-")),
                      text)


def cli_message(exc: ExchangeError) -> str:
    """The error as the CLI prints it (rich markup in it escaped)."""
    return escape(cli_words(str(exc)))
