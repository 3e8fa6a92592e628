"""Database administration methods of :class:`pyexchange.Exchange`: partitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pyexchange.base import ClientBase


@dataclass(frozen=True)
class PartitionChange:
    table_name: str
    partition_name: str
    range_start: datetime
    range_end: datetime
    created: bool


@dataclass(frozen=True)
class PartitionInfo:
    """One partition of a partitioned table, or (``missing``) a month ahead without one."""

    table_name: str
    partition_name: str | None
    month: date | None  # None for a partition whose bounds are not one calendar month
    range_start: datetime | None
    range_end: datetime | None
    row_count: int | None  # None when missing, or an estimate not yet available
    total_bytes: int | None
    missing: bool


@dataclass(frozen=True)
class DroppedPartition:
    table_name: str
    partition_name: str
    range_start: datetime
    range_end: datetime


@dataclass(frozen=True)
class TableRows:
    table_name: str
    partitioned: bool
    row_count: int


class AdminAPI(ClientBase):
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

    def partition_status(self, months_ahead: int = 3, exact: bool = True) -> list[PartitionInfo]:
        """``exchange.partition_status``: every partition with its month, rows and size, and
        the months missing among this month and the next ``months_ahead``."""
        return self._all(
            "partition_status", {"months_ahead": months_ahead, "exact": exact}, PartitionInfo
        )

    def drop_partitions_older_than(
        self, keep_months: int, dry_run: bool = False
    ) -> list[DroppedPartition]:
        """``exchange.drop_partitions_older_than``: detach and drop the partitions older than
        this month and the ``keep_months`` before it. Raises
        :class:`~pyexchange.errors.PartitionInUse` when one still holds an open order."""
        return self._all(
            "drop_partitions_older_than",
            {"keep_months": keep_months, "dry_run": dry_run},
            DroppedPartition,
        )

    def table_row_counts(self) -> list[TableRows]:
        """Every table of schema ``exchange`` with its exact row count (partitioned tables
        once, through their partitions)."""
        return self._all("table_row_counts", None, TableRows)
