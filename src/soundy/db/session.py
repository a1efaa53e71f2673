"""Async engine and session factory (SQLAlchemy 2 + asyncpg)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

__all__ = ["create_engine", "sessionmaker", "to_async_url"]


def to_async_url(database_url: str) -> str:
    """``postgres://``, ``postgresql://`` -> ``postgresql+asyncpg://`` (other forms unchanged)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url[len(prefix) :]
    return database_url


def create_engine(database_url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An async engine for ``database_url``; connections are checked before use
    (``pool_pre_ping``) so a restarted database does not fail the first request."""
    return _create_async_engine(
        to_async_url(database_url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory; ``expire_on_commit=False`` so returned rows stay readable."""
    return async_sessionmaker(engine, expire_on_commit=False)
