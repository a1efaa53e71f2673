"""Typed dependencies for route functions, declared once.

``app.state.soundy`` holds one :class:`AppState` (made in the app's lifespan). Routes ask for
what they need::

    async def route(session: SessionDep, client: ClientDep, state: StateDep) -> ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from soundy.api.auth import client_for_token
from soundy.config import Settings
from soundy.db.models import Client

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from soundy.jobs.results import ComparisonCache
    from soundy.storage import Storage

__all__ = [
    "AppState",
    "ClientDep",
    "SessionDep",
    "StateDep",
    "bearer_token",
    "get_state",
]


@dataclass
class AppState:
    """Everything a request may use; created at startup, closed at shutdown."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    storage: Storage
    # Signs local upload URLs (see soundy.api.auth.load_secret_key).
    secret_key: bytes
    # Jobs' comparisons computed on read (soundy.jobs.results).
    comparisons: ComparisonCache


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.soundy
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def get_client(request: Request, session: SessionDep) -> Client:
    """The authenticated client (401 ``unauthorized`` without a valid bearer token)."""
    return await client_for_token(session, bearer_token(request))


ClientDep = Annotated[Client, Depends(get_client)]
