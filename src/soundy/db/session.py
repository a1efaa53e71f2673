"""Async engine and session factory (SQLAlchemy 2 + asyncpg)."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

__all__ = ["IDLE_PING_AFTER_S", "create_engine", "fetch_row", "sessionmaker", "to_async_url"]

# A pooled connection that has not been used for this long (s) is pinged before it is used.
IDLE_PING_AFTER_S = 1.0


def to_async_url(database_url: str) -> str:
    """``postgres://``, ``postgresql://`` -> ``postgresql+asyncpg://`` (other forms unchanged)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if database_url.startswith(prefix):
            return "postgresql+asyncpg://" + database_url[len(prefix) :]
    return database_url


def create_engine(
    database_url: str,
    *,
    pool_size: int = 5,
    max_overflow: int | None = None,
    idle_ping_after_s: float = IDLE_PING_AFTER_S,
    autocommit: bool = False,
) -> AsyncEngine:
    """An async engine for ``database_url``: ``pool_size`` connections kept open, and up to
    ``max_overflow`` (default ``2 * pool_size``) more opened under load, closed when returned.

    A pooled connection idle for more than ``idle_ping_after_s`` seconds is pinged before use,
    and replaced when the ping fails, so a restarted database does not fail the first request
    after it came back. A connection in steady use is not pinged: SQLAlchemy's
    ``pool_pre_ping`` cost three round trips per checkout with asyncpg (BEGIN, ``;``,
    ROLLBACK), more than the query of a ``GET /api/jobs/{id}``. The cost of that: a connection
    used within ``idle_ping_after_s`` before the database restarted fails its next query (one
    503 per such connection, with Retry-After), and that failure, a disconnect, makes
    SQLAlchemy drop every connection of the pool, so the next requests get new ones.

    ``autocommit``: every statement commits by itself (no BEGIN and COMMIT round trips), for
    callers whose every write is one statement; the idle ping is then one round trip too.
    """
    engine = _create_async_engine(
        to_async_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size * 2 if max_overflow is None else max_overflow,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    _ping_idle_connections(engine, idle_ping_after_s)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_after_s: float) -> None:
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["soundy_idle_since_s"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since_s = record.info.get("soundy_idle_since_s")
        if since_s is None or time.monotonic() - since_s <= idle_after_s:
            return  # a new connection, or one in steady use
        try:
            dbapi_connection.ping()  # runs in SQLAlchemy's greenlet, like pool_pre_ping's
        except Exception as error:
            # The pool discards this connection and checks out another (SQLAlchemy retries).
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory; ``expire_on_commit=False`` so returned rows stay readable."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def fetch_row(conn: AsyncConnection, statement: str, *args: object) -> asyncpg.Record | None:
    """The first row of one plain-SQL ``statement`` (``$1``-style ``args``) run by asyncpg itself
    on ``conn``'s pooled connection: outside a transaction the statement commits by itself;
    within one SQLAlchemy opened on ``conn`` (it begins lazily, at its first statement) it is
    part of it. asyncpg prepares it once per connection (its statement cache).

    For the hot statements of ``POST /api/audio/analyze``: SQLAlchemy's execution around a
    statement (compiled cache, parameters, result metadata, a greenlet switch) cost about
    100 us of CPU per statement, more than asyncpg's own work (docs/benchmarks.md). Errors of
    the statement are asyncpg's; a lost connection is handled as SQLAlchemy handles a
    disconnect (this connection and every older one of the pool are replaced) and raised as
    SQLAlchemy raises it, an ``OperationalError`` with ``connection_invalidated`` (the API's
    503).
    """
    driver = (await conn.get_raw_connection()).driver_connection
    assert isinstance(driver, asyncpg.Connection)
    try:
        return await driver.fetchrow(statement, *args)
    except (asyncpg.InterfaceError, asyncpg.PostgresConnectionError, OSError) as error:
        sync = conn.sync_connection
        if sync is not None and not sync.invalidated:
            # What Connection._handle_dbapi_exception does on a disconnect (no public call):
            # the pool's other connections, opened before, are presumed dead too.
            sync.engine.pool._invalidate(sync.connection, error)
        await conn.invalidate(error)
        raise exc.OperationalError(statement, args, error, connection_invalidated=True) from error
