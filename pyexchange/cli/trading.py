"""CLI commands of the trading domain."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
