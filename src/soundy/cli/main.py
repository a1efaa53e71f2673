"""``soundy``: the command-line entry point. Each command lives in its own module here and
imports what it needs inside its body, so starting one command does not import the others'."""

from __future__ import annotations

import typer

from soundy.cli import analyze, genres, services, share

app = typer.Typer(
    name="soundy",
    help="Analyse music mixes and masters; run the Soundy service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("analyze")(analyze.analyze)
app.command("genres")(genres.genres)
app.add_typer(genres.targets_app, name="targets")
app.command("serve")(services.serve)
app.command("api")(services.api)
app.command("worker")(services.worker)
app.command("migrate")(services.migrate)
app.add_typer(services.keys_app, name="keys")
app.add_typer(share.share_app, name="share")

if __name__ == "__main__":
    app()
