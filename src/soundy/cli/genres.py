"""``soundy genres`` and ``soundy targets build`` (placeholder until the compare work lands)."""

from __future__ import annotations

import typer

targets_app = typer.Typer(help="Build genre target profiles.", no_args_is_help=True)


def genres() -> None:
    """List the genre profiles."""
    raise typer.Exit(2)
