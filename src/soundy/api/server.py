"""How the API is served: uvicorn's options for ``soundy api`` (and the tests' live server).

- HTTP/1.1 by httptools (llhttp, C; uvicorn's fastest parser: h11, pure Python, cost about a
  third of the API's CPU per ``GET /api/jobs/{id}``, docs/benchmarks.md). llhttp itself takes
  request heads of any size, so :class:`LimitedHeadProtocol` counts the bytes of a head while it
  arrives and refuses one past ``SOUNDY_MAX_REQUEST_HEADER_BYTES`` (431, connection closed)
  before it is buffered further.
- A connection must deliver a whole request head within ``SOUNDY_REQUEST_HEADER_TIMEOUT_S`` of
  opening (or of the previous response), else it is closed: a client trickling header bytes
  cannot hold a connection open (uvicorn alone waits for ever).
- Idle keep-alive connections close after ``SOUNDY_KEEP_ALIVE_TIMEOUT_S``.
- Forwarded headers (``X-Forwarded-For``, ``-Proto``) are not read by uvicorn: the app trusts
  them only from ``SOUNDY_TRUSTED_PROXIES`` (``soundy.api.app``), whoever starts it.

- ``SOUNDY_API_PROCESSES`` processes serve the API (``run_api``): uvicorn's supervisor binds
  the port once and starts that many, each taking connections from the same socket and each
  with its own app (pools, caches, the event hub).

Slow request bodies are the app's business (``BodyIdleTimeoutMiddleware`` in ``soundy.api.app``).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from soundy.config import Settings

__all__ = ["LimitedHeadProtocol", "run_api", "server_config"]

_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: 33\r\n"
    b"\r\n"
    b"request head over the size limit\n"
)


class LimitedHeadProtocol(HttpToolsProtocol):
    """httptools with a size limit and a deadline on each request head.

    A head is awaited from the connection's start and from the end of each request's body (a
    pipelined next head may follow at once). While one is awaited, every byte received counts
    towards ``max_head_bytes``; the read that completes a head is not counted (its body may be
    most of it), so the limit is exact to one read (the app's ``HeaderLimitMiddleware`` then
    makes it exact). The deadline, ``header_timeout_s``, runs from the connection and from the
    end of each response: a head still missing then closes the connection.
    """

    def __init__(
        self,
        *args: Any,
        header_timeout_s: float = 10.0,
        max_head_bytes: int = 16 * 1024,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = header_timeout_s
        self.max_head_bytes = max_head_bytes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._awaiting_head = True
        self._head_bytes = 0
        self._head_seen = False
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        counting = self._awaiting_head
        self._head_seen = False
        super().data_received(data)
        if not (counting and self._awaiting_head and not self._head_seen):
            return
        self._head_bytes += len(data)
        if self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self.transport.write(_HEAD_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_seen = True
        self._cancel_header_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(
            self.header_timeout_s, self._header_deadline_passed
        )

    def _cancel_header_deadline(self) -> None:
        handle = getattr(self, "_header_deadline", None)
        if handle is not None:
            handle.cancel()
            self._header_deadline = None

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        # No request in progress: its head never came. (Once a request is being served, the
        # body's own idle timeout applies instead.)
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.transport.is_closing():
            self.transport.close()


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` (an ASGI app, or an import string with
    ``factory=True`` in ``overrides``) with Soundy's connection limits."""

    # A partial, not a subclass made here: with several processes the config is pickled.
    protocol = functools.partial(
        LimitedHeadProtocol,
        header_timeout_s=settings.request_header_timeout_s,
        max_head_bytes=settings.max_request_header_bytes,
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "http": protocol,
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "proxy_headers": False,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        "workers": settings.api_processes,
        "log_config": None,  # keep Soundy's log format
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def run_api(settings: Settings) -> None:
    """Serve ``soundy.api.app:create_app`` until SIGTERM/SIGINT: in this process, or with
    ``SOUNDY_API_PROCESSES`` > 1 in that many child processes of uvicorn's supervisor."""
    config = server_config("soundy.api.app:create_app", settings, factory=True)
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()
