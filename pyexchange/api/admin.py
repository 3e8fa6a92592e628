"""Database administration methods of :class:`pyexchange.Exchange`: partitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyexchange.client import ClientBase

    _Base = ClientBase
else:
    _Base = object


@dataclass(frozen=True)
class PartitionChange:
    table_name: str
    partition_name: str
    range_start: datetime
    range_end: datetime
    created: bool


class AdminAPI(_Base):
    """Partition management."""

    def create_monthly_partitions(
        self, months_ahead: int = 3, from_date: date | None = None
    ) -> list[PartitionChange]:
        """``exchange.create_monthly_partitions``: ensure this month and ``months_ahead`` more."""
        return self._all(
            "create_monthly_partitions",
            {"months_ahead": months_ahead, "from_date": from_date},
            PartitionChange,
        )
