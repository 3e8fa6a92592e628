"""CLI commands of the server domain."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
