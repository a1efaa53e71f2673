"""Typed dependencies for route functions, declared once.

``app.state.soundy`` holds one :class:`AppState` (made in the app's lifespan). Routes ask for
what they need::

    async def route(session: SessionDep, client: ClientDep, state: StateDep) -> ...
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from soundy.api.auth import TokenClients, client_for_token
from soundy.api.limits import EventStreamSlots, RequestRate
from soundy.config import Settings
from soundy.db.models import Client

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from soundy.api.routes.jobs import JobBodies
    from soundy.jobs.results import ComparisonCache
    from soundy.pipeline.events import EventHub
    from soundy.storage import Storage

__all__ = [
    "AppState",
    "ClientDep",
    "ClientIdDep",
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
    # Live job events: one shared pub/sub connection for every SSE stream of this process.
    events: EventHub
    storage: Storage
    # Signs local upload URLs (see soundy.api.auth.load_secret_key).
    secret_key: bytes
    # Jobs' comparisons computed on read (soundy.jobs.results).
    comparisons: ComparisonCache
    # Completed jobs' GET /api/jobs/{id} bodies (soundy.api.routes.jobs.JobBodies).
    job_bodies: JobBodies
    # Open event streams per client (SOUNDY_MAX_EVENT_STREAMS_PER_CLIENT).
    event_streams: EventStreamSlots
    # Authenticated requests per client and minute (SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE).
    request_rate: RequestRate
    # Which client a token belongs to, for routes that check revocation themselves.
    token_clients: TokenClients


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.soundy
    return state


# The dependencies are ``async def`` although they do not await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hand-off per request (about 0.3 ms of CPU each).
async def _state_dependency(request: Request) -> AppState:
    return get_state(request)


StateDep = Annotated[AppState, Depends(_state_dependency)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class _BearerToken(HTTPBearer):
    """FastAPI's HTTP bearer scheme, answering the token itself: /openapi.json declares it on
    every route that needs a token, as ``HTTPBearer`` does, and each request resolves one
    dependency, not ``HTTPBearer`` and a second one to take the token out of its credentials
    model. Never raises: a missing token is Soundy's own 401 (the caller's), not FastAPI's."""

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return request_token(request)


def request_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


bearer_token = _BearerToken(
    scheme_name="HTTPBearer", auto_error=False, description="The token of POST /api/clients."
)

# The security requirement ``bearer_token`` adds to a route's /openapi.json operation, for the
# two hottest routes (GET /api/jobs/{id}, POST /api/audio/analyze), which read the token with
# request_token instead: resolving it as a dependency was 6 % of a GET's instructions.
BEARER_OPENAPI: dict[str, Any] = {"security": [{"HTTPBearer": []}]}


async def get_client(
    session: SessionDep, state: StateDep, token: Annotated[str | None, Depends(bearer_token)]
) -> Client:
    """The authenticated client (401 ``unauthorized`` without a valid bearer token, 429 over
    ``SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE``)."""
    client = await client_for_token(session, token)
    await state.request_rate.check(client.id)
    return client


ClientDep = Annotated[Client, Depends(get_client)]


async def get_client_id(request: Request) -> uuid.UUID:
    """The id of the client a bearer token was made for, with the same 401 and 429 as
    :func:`get_client`, except that a revoked key passes: for a route whose own statement
    refuses a revoked client (``soundy.jobs.service.submit``). A token seen before costs no
    database round trip (:class:`soundy.api.auth.TokenClients`)."""
    # The state from the request, not StateDep: each dependency FastAPI resolves costs CPU on
    # every request (with StateDep here and in the route, about 7 % of a POST's instructions).
    # The token by request_token, not the bearer_token dependency (the route declares it in
    # /openapi.json with BEARER_OPENAPI).
    state = get_state(request)
    client_id = await state.token_clients.client_id(state.engine, request_token(request))
    await state.request_rate.check(client_id)
    return client_id


ClientIdDep = Annotated[uuid.UUID, Depends(get_client_id)]
