"""Apply the Alembic migrations shipped inside the package (``soundy migrate``; ``serve`` on start).

Safe to run from several processes at once: the upgrade runs in one transaction that first
takes a PostgreSQL advisory lock, so a second runner waits and then finds nothing to do.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from soundy.db.session import to_async_url

__all__ = ["MIGRATION_LOCK_ID", "alembic_config", "run_migrations", "run_migrations_async"]

# pg_advisory_xact_lock key for migrations (arbitrary, fixed: "soundy" in ASCII, truncated).
MIGRATION_LOCK_ID = 0x736F756E6479

_MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic ``Config`` pointing at the packaged migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", to_async_url(database_url).replace("%", "%%"))
    return config


async def run_migrations_async(database_url: str, *, revision: str = "head") -> None:
    """Upgrade the database at ``database_url`` to ``revision`` under the advisory lock."""
    config = alembic_config(database_url)
    engine = create_async_engine(to_async_url(database_url), poolclass=pool.NullPool)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_ID}
            )
            await connection.run_sync(_upgrade)
    finally:
        await engine.dispose()


def run_migrations(database_url: str, *, revision: str = "head") -> None:
    """Blocking form of :func:`run_migrations_async`; works inside or outside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_migrations_async(database_url, revision=revision))
        return
    # Called from a running loop (e.g. a sync helper inside async code): use a fresh thread.
    errors: list[BaseException] = []

    def _target() -> None:
        try:
            asyncio.run(run_migrations_async(database_url, revision=revision))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=_target, name="soundy-migrate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
