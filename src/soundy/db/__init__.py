"""Database: tables (``models``), engine and sessions (``session``), migrations (``migrate``).

``run_migrations(database_url)`` applies the packaged Alembic migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["run_migrations"]

if TYPE_CHECKING:
    from soundy.db.migrate import run_migrations as run_migrations


def __getattr__(name: str) -> object:
    if name == "run_migrations":
        from soundy.db.migrate import run_migrations

        return run_migrations
    raise AttributeError(name)
