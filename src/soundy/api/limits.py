"""Per-client limits of the API (docs/configuration.md, "Limits"): request rate, live event
streams, and the fixed-window counter they and ``POST /api/clients`` share.

- **Request rate**: at most ``SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE`` authenticated requests per
  client and clock minute, counted in Redis (shared by every API process). While Redis does not
  answer the limit is not enforced (logged), and not asked again for ``_REDIS_BACKOFF_S``, so an
  outage does not add a Redis timeout to every request.
- **Event streams**: at most ``SOUNDY_MAX_EVENT_STREAMS_PER_CLIENT`` open
  ``GET /api/jobs/{id}/events`` streams per client on one API process (a stream holds a
  connection and a subscription of that process; counted in its memory, so nothing can leak
  when a process dies).

Uploads in flight are counted in PostgreSQL by ``POST /api/uploads`` (``routes/uploads.py``).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI
from redis.exceptions import RedisError

from soundy.api.errors import RetryLater

__all__ = [
    "EventStreamSlots",
    "RequestRate",
    "StreamSlot",
    "declare_rate_limit",
    "fixed_window_count",
]

_log = logging.getLogger(__name__)

# After Redis failed to count, requests go uncounted for this long (s) before it is tried again.
_REDIS_BACKOFF_S = 5.0
_REQUEST_WINDOW_S = 60
# A client over its stream limit is told to retry after this long (s): streams end when their
# job does, and the page's jobs take seconds.
_STREAM_RETRY_AFTER_S = 5


# INCR and EXPIRE as one script: one round trip, as atomic as MULTI/EXEC, and half the client
# CPU of redis-py's transaction pipeline (every authenticated request runs it).
_COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


async def fixed_window_count(redis: aioredis.Redis, key: str, window_s: int) -> int:
    """INCR a fixed-window counter (it expires a minute after its window); the new count.
    Raises ``RedisError`` / ``OSError`` when Redis does not answer."""
    # EVALSHA; redis-py loads the script when this Redis does not know it yet.
    count = await redis.register_script(_COUNT_IN_WINDOW)(keys=[key], args=[window_s + 60])
    return int(count)


@dataclass
class RequestRate:
    """The per-client request rate of one API process's Redis."""

    redis: aioredis.Redis
    prefix: str
    limit: int
    # After Redis failed to count: requests go uncounted until then (time.monotonic()).
    _skip_until_s: float = 0.0

    async def check(self, client_id: uuid.UUID) -> None:
        """:class:`RetryLater` (429, ``Retry-After`` = seconds to the next minute) once a client
        made more than ``limit`` requests in this clock minute."""
        if time.monotonic() < self._skip_until_s:
            return
        now_s = int(time.time())
        window = now_s // _REQUEST_WINDOW_S
        key = f"{self.prefix}:soundy:ratelimit:requests:{client_id}:{window}"
        try:
            count = await fixed_window_count(self.redis, key, _REQUEST_WINDOW_S)
        except (RedisError, OSError) as exc:
            self._skip_until_s = time.monotonic() + _REDIS_BACKOFF_S
            _log.warning(
                "request rate not checked for %.0f s (Redis unavailable): %s",
                _REDIS_BACKOFF_S,
                exc,
            )
            return
        if count > self.limit:
            raise RetryLater(
                f"too many requests (limit {self.limit} per minute per client); slow down",
                retry_after_s=(window + 1) * _REQUEST_WINDOW_S - now_s,
            )


@dataclass
class StreamSlot:
    """One open event stream of a client; :meth:`release` (idempotent) frees it."""

    slots: EventStreamSlots
    client_id: uuid.UUID
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.slots.release(self.client_id)


@dataclass
class EventStreamSlots:
    """The open event streams of this API process, per client."""

    limit: int
    _open: Counter[uuid.UUID] = field(default_factory=Counter)

    def acquire(self, client_id: uuid.UUID) -> StreamSlot:
        """A slot for one more stream, or :class:`RetryLater` (429) at the limit."""
        if self._open[client_id] >= self.limit:
            raise RetryLater(
                f"{self._open[client_id]} event streams of yours are open (limit {self.limit}); "
                "close one, or poll GET /api/jobs/{id}",
                retry_after_s=_STREAM_RETRY_AFTER_S,
            )
        self._open[client_id] += 1
        return StreamSlot(self, client_id)

    def release(self, client_id: uuid.UUID) -> None:
        self._open[client_id] -= 1
        if self._open[client_id] <= 0:
            del self._open[client_id]

    def open_count(self, client_id: uuid.UUID) -> int:
        return self._open[client_id]


_RATE_LIMITED = {
    "description": "rate_limited: over a per-client limit (SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE "
    "on every authenticated route); Retry-After says when to try again.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def declare_rate_limit(app: FastAPI) -> None:
    """Declare the request rate's 429 in /openapi.json on every operation that takes a client's
    bearer token (its ``security``; not the operator's ``/api/admin``), unless it declares a
    429 of its own."""
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = make_schema()
            for path, operations in schema.get("paths", {}).items():
                if path.startswith("/api/admin"):
                    continue
                for operation in operations.values():
                    if isinstance(operation, dict) and operation.get("security"):
                        operation.setdefault("responses", {}).setdefault("429", _RATE_LIMITED)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
