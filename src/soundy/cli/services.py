"""``soundy serve | api | worker | migrate | keys`` (placeholder until the pipeline work lands)."""

from __future__ import annotations

import typer

keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


def serve() -> None:
    """Run everything: embedded services when needed, migrations, API and workers."""
    raise typer.Exit(2)


def api() -> None:
    """Run the HTTP API only."""
    raise typer.Exit(2)


def worker() -> None:
    """Run a worker."""
    raise typer.Exit(2)


def migrate() -> None:
    """Apply database migrations."""
    raise typer.Exit(2)
