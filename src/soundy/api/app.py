"""The FastAPI application: ``create_app(settings)``.

Routers: one per resource in ``soundy.api.routes`` (clients, uploads, analyze, jobs, health),
plus ``routes.genres`` (comparison), ``routes.admin`` and ``soundy.web.router`` (web pages).
OpenAPI at ``/docs`` and ``/openapi.json``. Every error is ``{"error": {"code", "message"}}``
(``soundy.api.errors``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from soundy import metrics, web
from soundy.api.auth import TokenClients, load_secret_key
from soundy.api.deps import AppState
from soundy.api.errors import error_response, install_error_handlers
from soundy.api.limits import EventStreamSlots, RequestRate, declare_rate_limit
from soundy.api.routes import (
    admin,
    albums,
    analyze,
    clients,
    genres,
    health,
    jobs,
    quota,
    shares,
    songs,
    uploads,
)
from soundy.api.routes.jobs import JobBodies
from soundy.config import Settings, get_settings
from soundy.db.session import create_engine, sessionmaker
from soundy.jobs.results import ComparisonCache
from soundy.pipeline.events import EventHub
from soundy.pipeline.queue import close_queues, redis_client
from soundy.storage import open_storage

__all__ = ["create_app"]

_log = logging.getLogger(__name__)


class LatencyMiddleware:
    """Observes each HTTP request's time to the response start (s) in
    ``soundy_http_request_duration_seconds``, labelled by route template, not raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start_s = time.perf_counter()
        observed = False

        def observe(status: int) -> None:
            nonlocal observed
            if observed:
                return
            observed = True
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.HTTP_REQUEST_DURATION.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - start_s
            )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                observe(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except BaseException:
            observe(500)
            raise


# Response headers a browser page on another allowed origin may read (CORS).
CORS_EXPOSED_HEADERS = (
    "Retry-After",
    "X-Quota-Plan",
    "X-Quota-Limit",
    "X-Quota-Remaining",
    "X-Quota-Reset",
)

_UPLOAD_CONTENT_SUFFIX = "/content"


class GZipWhenAsked(GZipMiddleware):
    """Starlette's ``GZipMiddleware`` for a request whose ``Accept-Encoding`` names gzip; any
    other request goes to the app directly, its response only given ``Vary: Accept-Encoding``
    (on every response, where Starlette's identity responder adds it to bodies of at least
    ``minimum_size``). That responder, which buffers the response's start to decide not to
    compress, cost 3.6 % of the API's instructions per GET of a job asked without gzip, as
    load clients and many API clients ask."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"accept-encoding":  # the first one, as Starlette reads it
                if b"gzip" in value:
                    await super().__call__(scope, receive, send)
                    return
                break

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", ())))
                headers.add_vary_header("Accept-Encoding")
                message["headers"] = headers.raw
            await send(message)

        await self.app(scope, receive, send_with_vary)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` (``SOUNDY_MAX_REQUEST_BODY_BYTES``; 413
    ``too_large``) on every route but ``PUT /api/uploads/{id}/content`` (which enforces the
    upload's own size), so a huge JSON body cannot exhaust memory. A declared
    ``Content-Length`` is checked before the app runs; a chunked body is cut off at the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.message = f"request bodies are limited to {max_bytes} bytes"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] == "PUT" and scope["path"].endswith(_UPLOAD_CONTENT_SUFFIX)
        ):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await error_response(413, "too_large", self.message)(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes FastAPI's body parsing unchanged (-> 413).
                    raise HTTPException(413, self.message)
            return message

        await self.app(scope, limited_receive, send)


class BodyIdleTimeoutMiddleware:
    """Ends a request whose body stops arriving: no bytes for ``idle_s`` seconds while the body
    is incomplete is a 408 ``request_timeout`` (the upload PUT stores nothing). Once the body
    is complete, waiting (for a disconnect, e.g. under an event stream) is not timed."""

    def __init__(self, app: ASGIApp, *, idle_s: float) -> None:
        self.app = app
        self.idle_s = idle_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False
        message_text = f"no request body bytes arrived for {self.idle_s:g} seconds"

        async def timed_receive() -> Message:
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                async with asyncio.timeout(self.idle_s):
                    message = await receive()
            except TimeoutError:
                # An HTTPException passes FastAPI's body parsing and the upload route (-> 408).
                raise HTTPException(408, message_text) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, timed_receive, send)


class HeaderLimitMiddleware:
    """Refuses a request whose headers add up to more than ``max_bytes`` (431
    ``headers_too_large``). The server already stops buffering a head that grows past the limit
    while it arrives (``soundy.api.server``), but a head that arrives in one read is parsed
    whole: this check makes the limit exact, whatever the server."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope.get("headers", ()))
            if size > self.max_bytes:
                message = f"request headers are limited to {self.max_bytes} bytes"
                await error_response(431, "headers_too_large", message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _open_state(settings: Settings) -> AppState:
    if not settings.database_url:
        raise RuntimeError(
            "SOUNDY_DATABASE_URL is not set (use `soundy serve` for embedded services)"
        )
    if not settings.redis_url:
        raise RuntimeError("SOUNDY_REDIS_URL is not set (use `soundy serve` for embedded services)")
    # No overflow: under load a request waits for one of the pool's connections (the queries
    # take about a millisecond) rather than opening one of its own, closed when returned, which
    # cost more CPU than the GET /api/jobs/{id} it served, here and in PostgreSQL (a backend).
    engine = create_engine(
        settings.database_url, pool_size=settings.api_database_pool_size, max_overflow=0
    )
    redis = redis_client(settings)
    return AppState(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker(engine),
        redis=redis,
        events=EventHub(redis, prefix=settings.queue_prefix),
        storage=open_storage(settings),
        secret_key=load_secret_key(settings.secret_key, settings.data_dir),
        comparisons=ComparisonCache(settings.comparison_cache_entries),
        job_bodies=JobBodies(settings.comparison_cache_entries),
        event_streams=EventStreamSlots(settings.max_event_streams_per_client),
        request_rate=RequestRate(
            redis, prefix=settings.queue_prefix, limit=settings.requests_per_client_per_minute
        ),
        token_clients=TokenClients(),
    )


async def _close_state(state: AppState) -> None:
    closers = (
        close_queues,
        state.events.aclose,
        state.storage.aclose,
        state.redis.aclose,
        state.engine.dispose,
    )
    for closer in closers:
        try:
            await closer()
        except Exception:
            _log.exception("closing %s failed", getattr(closer, "__qualname__", closer))


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app. ``settings`` defaults to ``get_settings()``; connections open in the
    lifespan (so creating the app touches nothing)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        state = _open_state(settings)
        app.state.soundy = state
        try:
            yield {}
        finally:
            await _close_state(state)

    app = FastAPI(
        title="Soundy",
        summary="Loudness, peaks, dynamics, stereo and tonal balance of a mix, against targets.",
        version=_version(),
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    # Results with chart series are tens of kB of JSON; SSE streams are never compressed.
    # Only for a client that asks (Accept-Encoding: gzip), at zlib's default level 6: as small
    # as Starlette's default 9 on a result (3,538 against 3,526 bytes) for 35% less CPU.
    app.add_middleware(GZipWhenAsked, minimum_size=1024, compresslevel=6)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(BodyIdleTimeoutMiddleware, idle_s=settings.request_body_idle_timeout_s)
    if settings.trusted_proxy_list:
        # X-Forwarded-For / -Proto only from these peers; from anyone else they are ignored.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
    if settings.cors_origin_list:
        # Off by default: only the listed origins may call the API from a browser.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", "If-None-Match"],
            expose_headers=[*CORS_EXPOSED_HEADERS],
            max_age=600,
        )
    app.add_middleware(HeaderLimitMiddleware, max_bytes=settings.max_request_header_bytes)
    app.add_middleware(LatencyMiddleware)

    # The routers are matched in this order, route by route: the hot ones first (FastAPI
    # tried every route of the routers before them on each request: 10 % of the API's
    # instructions per GET /api/jobs/{id}). No two routers' paths overlap, so the order
    # changes which route answers nothing, only the order of /openapi.json's paths.
    for module in (
        jobs,
        analyze,
        clients,
        quota,
        uploads,
        shares,
        albums,
        songs,
        genres,
        admin,
        health,
    ):
        app.include_router(module.router)
    app.include_router(web.router)
    declare_rate_limit(app)
    return app


def _version() -> str:
    try:
        return version("soundy")
    except PackageNotFoundError:
        return "0"
