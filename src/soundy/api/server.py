"""How the API is served: uvicorn's options for ``soundy api`` (and the tests' live server).

- HTTP/1.1 by h11, whose request head (request line and headers) is capped at
  ``SOUNDY_MAX_REQUEST_HEADER_BYTES``: a larger one is refused (400) before it is buffered
  (httptools, uvicorn's default when installed, takes headers of any size).
- A connection must deliver a whole request head within ``SOUNDY_REQUEST_HEADER_TIMEOUT_S`` of
  opening (or of the previous response), else it is closed: a client trickling header bytes
  cannot hold a connection open (uvicorn alone waits for ever).
- Idle keep-alive connections close after ``SOUNDY_KEEP_ALIVE_TIMEOUT_S``.
- Forwarded headers (``X-Forwarded-For``, ``-Proto``) are not read by uvicorn: the app trusts
  them only from ``SOUNDY_TRUSTED_PROXIES`` (``soundy.api.app``), whoever starts it.

Slow request bodies are the app's business (``BodyIdleTimeoutMiddleware`` in ``soundy.api.app``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from soundy.config import Settings

__all__ = ["HeaderDeadlineProtocol", "server_config"]


class HeaderDeadlineProtocol(H11Protocol):
    """h11 that closes a connection whose request head has not arrived within the deadline
    (counted from the connection, or from the end of the previous response)."""

    header_timeout_s = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._arm_header_deadline()

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

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request head arrived: a new cycle started
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` (an ASGI app, or an import string with
    ``factory=True`` in ``overrides``) with Soundy's connection limits."""

    protocol = type(
        "SoundyHTTPProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout_s": settings.request_header_timeout_s},
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "http": protocol,
        "h11_max_incomplete_event_size": settings.max_request_header_bytes,
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "proxy_headers": False,
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        "log_config": None,  # keep Soundy's log format
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)
