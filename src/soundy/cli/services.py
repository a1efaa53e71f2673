"""``soundy serve | api | worker | migrate | keys create``: running the service.

``serve`` is the one-command start: embedded PostgreSQL and Redis when their URLs are not set,
migrations, then the API and the worker processes as children; Ctrl-C or SIGTERM stops all of it
within 20 seconds. ``api``, ``worker`` and ``migrate`` are the parts, for production, where each
runs under its own supervisor (systemd, Kubernetes, ...). See docs/operations.md.

cli/main.py imports this module for every command, `soundy analyze` included, whose start-up is
measured: so each command imports what it needs (settings, uvicorn, the worker) in its body.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from soundy.errors import SoundyError

if TYPE_CHECKING:
    from soundy.config import Settings

keys_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)


def _settings(**overrides: object) -> Settings:
    # Start-up path (module docstring): pydantic-settings loads only for the service commands.
    from soundy.config import get_settings
    from soundy.pipeline.logs import configure_logging

    settings = get_settings()
    updates = {key: value for key, value in overrides.items() if value is not None}
    if updates:
        settings = settings.model_copy(update=updates)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return settings


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"soundy: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def serve(
    host: Annotated[str | None, typer.Option(help="Address the API listens on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port the API listens on.")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Worker processes, each analysing one file at a time "
            "[default: SOUNDY_WORKER_CONCURRENCY, 2].",
        ),
    ] = None,
) -> None:
    """Run everything: embedded services when needed, migrations, the API and the workers."""
    from soundy.cli._serve import run_serve  # start-up path (module docstring)

    settings = _settings(host=host, port=port)
    n_workers = settings.worker_concurrency if workers is None else workers
    try:
        code = run_serve(settings, workers=n_workers)
    except SoundyError as exc:  # e.g. embedded mode without the 'embedded' extra
        raise _fail(exc.message) from exc
    raise typer.Exit(code)


def api(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the HTTP API only (needs SOUNDY_DATABASE_URL and SOUNDY_REDIS_URL)."""
    # Start-up path (module docstring).
    import uvicorn

    from soundy.api.server import server_config

    settings = _settings(host=host, port=port)
    if not settings.database_url or not settings.redis_url:
        raise _fail("soundy api needs SOUNDY_DATABASE_URL and SOUNDY_REDIS_URL (or `soundy serve`)")
    uvicorn.Server(server_config("soundy.api.app:create_app", settings, factory=True)).run()


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Jobs analysed at once [default: SOUNDY_WORKER_CONCURRENCY, 2]."),
    ] = None,
) -> None:
    """Run a worker: take analysis jobs from the queue until SIGTERM (needs the two URLs)."""
    # Start-up path (module docstring).
    import asyncio

    from soundy.pipeline.worker import run_worker

    settings = _settings()
    try:
        code = asyncio.run(run_worker(settings, concurrency=concurrency))
    except SoundyError as exc:
        raise _fail(exc.message) from exc
    raise typer.Exit(code)


def migrate() -> None:
    """Apply database migrations (safe to run while other processes run them too)."""
    from soundy.db.migrate import run_migrations  # start-up path (module docstring)

    settings = _settings()
    if not settings.database_url:
        raise _fail("soundy migrate needs SOUNDY_DATABASE_URL")
    run_migrations(settings.database_url)
    typer.echo("database is up to date")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A name to recognise the key by.")],
) -> None:
    """Create a named API key and print its token (shown once; only its hash is stored)."""
    # Start-up path (module docstring).
    import asyncio

    from soundy.api.auth import create_client
    from soundy.db.session import create_engine, sessionmaker

    settings = _settings()
    if not settings.database_url:
        raise _fail("soundy keys create needs SOUNDY_DATABASE_URL")
    database_url = settings.database_url

    async def _create() -> str:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with sessionmaker(engine)() as session:
                return await create_client(session, name=name, is_key=True)
        finally:
            await engine.dispose()

    token = asyncio.run(_create())
    typer.echo(token)
    print(f"created API key {name!r}; send it as 'Authorization: Bearer <token>'", file=sys.stderr)
