"""CLI commands of the ledger domain."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
