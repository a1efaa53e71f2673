"""``soundy serve | api | worker | migrate | keys create | list | revoke``: running the service.

``serve`` is the one-command start: embedded PostgreSQL and Redis when their URLs are not set,
migrations, then the API and the worker processes as children; Ctrl-C or SIGTERM stops all of it
within 20 seconds. ``api``, ``worker`` and ``migrate`` are the parts, for production, where each
runs under its own supervisor (systemd, Kubernetes, ...). See docs/operations.md.

cli/main.py imports this module for every command, `soundy analyze` included, whose start-up is
measured: so each command imports what it needs (settings, uvicorn, the worker) in its body.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from soundy.errors import SoundyError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from soundy.config import Settings

_T = TypeVar("_T")

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
    processes: Annotated[
        int | None,
        typer.Option(min=1, help="API processes on the port [default: SOUNDY_API_PROCESSES, 1]."),
    ] = None,
) -> None:
    """Run the HTTP API only (needs SOUNDY_DATABASE_URL and SOUNDY_REDIS_URL)."""
    # Start-up path (module docstring).
    from soundy.api.server import run_api

    settings = _settings(host=host, port=port)
    if processes is not None:
        settings = settings.model_copy(update={"api_processes": processes})
    if not settings.database_url or not settings.redis_url:
        raise _fail("soundy api needs SOUNDY_DATABASE_URL and SOUNDY_REDIS_URL (or `soundy serve`)")
    run_api(settings)


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Jobs analysed at once [default: SOUNDY_WORKER_CONCURRENCY, 2]."),
    ] = None,
) -> None:
    """Run a worker: take analysis jobs from the queue until SIGTERM (needs the two URLs)."""
    # Start-up path (module docstring).
    import asyncio

    import uvloop

    from soundy.pipeline.worker import run_worker

    settings = _settings()
    try:
        # uvloop: the worker's own CPU per job is mostly event-loop and socket work (queue,
        # database, pub/sub calls), which uvloop does in C (docs/benchmarks.md, "The worker").
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            code = runner.run(run_worker(settings, concurrency=concurrency))
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


def _database_url(command: str) -> str:
    settings = _settings()
    if not settings.database_url:
        raise _fail(f"soundy {command} needs SOUNDY_DATABASE_URL")
    return settings.database_url


def _with_session(database_url: str, work: Callable[[AsyncSession], Awaitable[_T]]) -> _T:
    """Run ``work(session)`` on a one-connection engine of ``database_url``."""
    # Start-up path (module docstring).
    import asyncio

    from soundy.db.session import create_engine, sessionmaker

    async def _run() -> _T:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(_run())


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="A name to recognise the key by.")],
    plan: Annotated[
        str | None,
        typer.Option(
            help="Its plan: free, plus, pro, studio, unlimited or one an operator made "
            "[default: SOUNDY_DEFAULT_PLAN, free]."
        ),
    ] = None,
) -> None:
    """Create a named API key and print its token (shown once; only its hash is stored)."""
    # Start-up path (module docstring).
    from soundy.api.auth import create_client
    from soundy.jobs.quota import check_plan

    database_url = _database_url("keys create")
    settings = _settings()

    async def _create(session: AsyncSession) -> str:
        if plan is not None:
            await check_plan(session, settings, plan)
        return await create_client(session, name=name, is_key=True, plan=plan)

    try:
        token = _with_session(database_url, _create)
    except SoundyError as exc:
        raise _fail(exc.message) from exc
    typer.echo(token)
    on_plan = f" on the {plan} plan" if plan else ""
    print(
        f"created API key {name!r}{on_plan}; send it as 'Authorization: Bearer <token>' "
        "(it is shown only now)",
        file=sys.stderr,
    )


@keys_app.command("list")
def keys_list(
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per key.")] = False,
) -> None:
    """List the API keys: id, name, plan, analyses this month, created, revoked."""
    # Start-up path (module docstring).
    import json

    from sqlalchemy import select

    from soundy.db.models import Client
    from soundy.jobs.quota import quota_of

    database_url = _database_url("keys list")
    settings = _settings()

    async def _list(session: AsyncSession) -> list[dict[str, object]]:
        keys = (
            await session.execute(
                select(Client).where(Client.is_key.is_(True)).order_by(Client.created_at)
            )
        ).scalars()
        rows: list[dict[str, object]] = []
        for key in keys:
            quota = await quota_of(session, settings, client_id=key.id, plan=key.plan)
            rows.append(
                {
                    "id": str(key.id),
                    "name": key.name,
                    "plan": quota.plan,
                    "analyses_this_month": quota.used,
                    "analyses_per_month": quota.limit,
                    "created_at": key.created_at.isoformat(),
                    "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
                }
            )
        return rows

    rows = _with_session(database_url, _list)
    if json_output:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    if not rows:
        typer.echo("no API keys (create one with `soundy keys create NAME`)")
        return
    typer.echo(f"{'id':36}  {'name':20}  {'plan':10}  {'this month':>10}  {'created':10}  revoked")
    for row in rows:
        limit = row["analyses_per_month"]
        used = f"{row['analyses_this_month']}/{'-' if limit is None else limit}"
        revoked = str(row["revoked_at"] or "")[:10] or "-"
        typer.echo(
            f"{row['id']:36}  {str(row['name'])[:20]:20}  {row['plan']!s:10}  {used:>10}  "
            f"{str(row['created_at'])[:10]:10}  {revoked}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (soundy keys list).")],
) -> None:
    """Revoke an API key: its token gets 401 from now on (its jobs and results stay)."""
    # Start-up path (module docstring).
    import uuid

    from sqlalchemy import func, update

    from soundy.db.models import Client

    try:
        client_id = uuid.UUID(key_id)
    except ValueError as exc:
        raise _fail(f"{key_id!r} is not a key id (soundy keys list shows them)") from exc
    database_url = _database_url("keys revoke")

    async def _revoke(session: AsyncSession) -> bool:
        revoked = await session.execute(
            update(Client)
            .where(Client.id == client_id, Client.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(Client.id)
        )
        await session.commit()
        return revoked.first() is not None

    if not _with_session(database_url, _revoke):
        raise _fail(f"no API key {key_id} that is not already revoked")
    typer.echo(f"revoked {key_id}")
