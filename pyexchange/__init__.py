"""pyexchange: a PostgreSQL-native spot exchange core. The engine is PL/pgSQL in schema
``exchange``; this package is a thin typed door to it."""

from pyexchange import errors
from pyexchange.client import Exchange

__all__ = ["Exchange", "errors"]
__version__ = "0.1.0"
