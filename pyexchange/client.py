"""``pyexchange.Exchange``: a pooled, typed client of the SQL API.

The domain methods live in mixins under :mod:`pyexchange.api`, one module per domain; the
plumbing they share (pool, named queries, typed rows, error translation) is
:class:`pyexchange.base.ClientBase`. This module only assembles them.
"""

from __future__ import annotations

from pyexchange.api.admin import AdminAPI
from pyexchange.api.events import EventsAPI
from pyexchange.api.identity import IdentityAPI
from pyexchange.api.keys import KeysAPI
from pyexchange.api.ledger import LedgerAPI
from pyexchange.api.operations import OperationsAPI
from pyexchange.api.risk import RiskAPI
from pyexchange.api.trading import TradingAPI
from pyexchange.base import ClientBase

__all__ = ["ClientBase", "Exchange"]


class Exchange(AdminAPI, LedgerAPI, TradingAPI, IdentityAPI, EventsAPI, RiskAPI, OperationsAPI, KeysAPI,
               ClientBase):
    """The typed door to the exchange: one method per SQL function.

    >>> with Exchange() as ex:   # DSN from --dsn / PYEXCHANGE_DSN / libpq env / embedded
    ...     ex.partition_status()
    """
