"""``soundy analyze`` (owned by the analysis engine work; placeholder until it lands)."""

from __future__ import annotations

import typer


def analyze(files: list[str] = typer.Argument(..., help="Audio files to analyse.")) -> None:
    """Analyse audio files and print a report."""
    raise typer.Exit(2)
