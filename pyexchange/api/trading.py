"""The trading domain's methods of :class:`pyexchange.Exchange`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyexchange.client import ClientBase

    _Base = ClientBase
else:
    _Base = object


class TradingAPI(_Base):
    """Methods for the trading domain."""
