"""``soundy genres [--json]`` and ``soundy targets build DIR --genre KEY --label L``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

targets_app = typer.Typer(help="Build genre target profiles.", no_args_is_help=True)


def genres(
    json_output: bool = typer.Option(False, "--json", help="Print a JSON list of {key, label}."),
) -> None:
    """List the genre profiles (shipped ones and those in SOUNDY_GENRES_DIR)."""
    # Start-up path: cli/main.py imports this module for every command; this one's needs load here.
    import json

    from rich.console import Console
    from rich.table import Table

    from soundy.compare import ProfileError, list_profiles

    try:
        profiles = list_profiles()
    except ProfileError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    if json_output:
        rows = [{"key": p.key, "label": p.label} for p in profiles]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="Genres")
    for column in ("Key", "Label", "Master loudness (LUFS)", "True peak (dBTP)", "Tilt (dB/oct)"):
        table.add_column(column)
    for p in profiles:
        lufs = p.metrics.get("loudness.integrated_lufs")
        tp = p.metrics.get("peaks.true_peak_dbtp")
        tilt = p.metrics.get("spectrum.tilt_db_per_octave")
        table.add_row(
            p.key,
            p.label,
            ""
            if lufs is None
            else f"{lufs.target:g} ({lufs.min:g}..{lufs.max:g})"
            if lufs.min is not None and lufs.max is not None
            else f"{lufs.target:g}",
            "" if tp is None else f"{tp.target:g}",
            "" if tilt is None else f"{tilt.target:g}",
        )
    Console().print(table)


@targets_app.command("build")
def build(
    directory: Path = typer.Argument(
        ..., exists=True, file_okay=False, dir_okay=True, help="Folder of reference tracks."
    ),
    genre: str = typer.Option(..., "--genre", help="Profile key, e.g. 'deep_house'."),
    label: str = typer.Option(..., "--label", help="Name shown to users, e.g. 'Deep House'."),
    out: Path | None = typer.Option(None, "--out", help="Output file (default: ./KEY.json)."),
    workers: int = typer.Option(0, "--workers", help="Processes (0 = one per CPU)."),
) -> None:
    """Measure every audio file in DIR and write a profile from their medians and 10-90 % ranges.

    Put the file into SOUNDY_GENRES_DIR to offer the genre in the CLI and the API.
    """
    # Start-up path: cli/main.py imports this module for every command; this one's needs load here.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from soundy.compare import ProfileError
    from soundy.compare.build import audio_files, measure_directory, profile_from_results
    from soundy.config import get_settings

    files = audio_files(directory)
    if not files:
        typer.echo(f"error: no audio files in {directory}", err=True)
        raise typer.Exit(1)
    processes = workers if workers > 0 else (os.cpu_count() or 1)
    with Progress(
        TextColumn("[bold]measuring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    ) as progress:
        task = progress.add_task("", total=len(files))

        def done(path: Path, error: str | None) -> None:
            progress.update(task, advance=1, description=path.name)
            if error is not None:
                progress.console.print(f"[yellow]skipped {path.name}: {error}")

        results, failures = measure_directory(
            files,
            max_duration_s=get_settings().max_duration_s,
            workers=min(processes, len(files)),
            on_done=done,
        )
    try:
        profile = profile_from_results(results, key=genre, label=label)
    except ProfileError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    target = out or Path(f"{genre}.json")
    target.write_text(profile.model_dump_json(indent=2) + "\n", encoding="utf-8")
    typer.echo(
        f"wrote {target} from {len(results)} tracks"
        + (f" ({len(failures)} skipped)" if failures else "")
    )
