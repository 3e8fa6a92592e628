"""CLI commands of the identity domain."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
