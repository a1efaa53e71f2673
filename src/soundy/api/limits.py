"""Per-client limits of the API (docs/configuration.md, "Limits"): request rate, live event
streams, and the fixed-window counter they and ``POST /api/clients`` share.

- **Request rate**: at most ``SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE`` authenticated requests per
  client and clock minute, counted in Redis (shared by every API process). An API process takes
  a client's requests from Redis in leases of 1 % of the limit (at least 1, at most
  ``_LEASE_MAX``): a lease is added to the client's count at once, and its requests are then
  served without a round trip. The count in Redis is never below the requests served, so the
  limit is never exceeded; a lease a process does not use up in its minute is lost, so a client
  whose requests go to N processes may be refused up to (N - 1) x (lease - 1) requests early (5
  per other process at the default 600). While Redis does not answer the limit is not enforced
  (logged), and not asked again for ``_REDIS_BACKOFF_S``, so an outage does not add a Redis
  timeout to every request.
- **Event streams**: at most ``SOUNDY_MAX_EVENT_STREAMS_PER_CLIENT`` open
  ``GET /api/jobs/{id}/events`` streams per client on one API process (a stream holds a
  connection and a subscription of that process; counted in its memory, so nothing can leak
  when a process dies).

Uploads in flight are counted in PostgreSQL by ``POST /api/uploads`` (``routes/uploads.py``).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI
from redis.exceptions import NoScriptError, RedisError

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


# A lease of a client's requests is at most this many: the round trip it saves is already
# rare at this size, and a larger one would only be lost at the end of a minute.
_LEASE_MAX = 100

# INCRBY and EXPIRE as one script: one round trip, as atomic as MULTI/EXEC, and half the client
# CPU of redis-py's transaction pipeline.
_COUNT_IN_WINDOW = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_COUNT_IN_WINDOW_SHA = hashlib.sha1(_COUNT_IN_WINDOW.encode()).hexdigest()


async def fixed_window_count(redis: aioredis.Redis, key: str, window_s: int, by: int = 1) -> int:
    """Add ``by`` to a fixed-window counter (it expires a minute after its window); the new
    count. Raises ``RedisError`` / ``OSError`` when Redis does not answer."""
    args = (key, window_s + 60, by)
    try:
        count = await redis.evalsha(_COUNT_IN_WINDOW_SHA, 1, *args)
    except NoScriptError:  # a Redis that has not run it yet (EVAL keeps it for EVALSHA)
        count = await redis.eval(_COUNT_IN_WINDOW, 1, *args)
    return int(count)


@dataclass
class RequestRate:
    """The per-client request rate of one API process's Redis."""

    redis: aioredis.Redis
    prefix: str
    limit: int
    # After Redis failed to count: requests go uncounted until then (time.monotonic()).
    _skip_until_s: float = 0.0
    # The clock minute the leases are of, and each client's requests left in its lease.
    _window: int = -1
    _leased: dict[uuid.UUID, int] = field(default_factory=dict)

    @property
    def lease(self) -> int:
        """Requests taken from Redis at a time: 1 % of the limit, 1 to ``_LEASE_MAX``."""
        return max(1, min(_LEASE_MAX, self.limit // 100))

    async def check(self, client_id: uuid.UUID) -> None:
        """:class:`RetryLater` (429, ``Retry-After`` = seconds to the next minute) once a client
        made more than ``limit`` requests in this clock minute."""
        if time.monotonic() < self._skip_until_s:
            return
        now_s = int(time.time())
        window = now_s // _REQUEST_WINDOW_S
        if window != self._window:
            self._window, self._leased = window, {}
        left = self._leased.get(client_id, 0)
        if left > 0:
            self._leased[client_id] = left - 1
            return
        key = f"{self.prefix}:soundy:ratelimit:requests:{client_id}:{window}"
        lease = self.lease
        try:
            count = await fixed_window_count(self.redis, key, _REQUEST_WINDOW_S, by=lease)
        except (RedisError, OSError) as exc:
            self._skip_until_s = time.monotonic() + _REDIS_BACKOFF_S
            _log.warning(
                "request rate not checked for %.0f s (Redis unavailable): %s",
                _REDIS_BACKOFF_S,
                exc,
            )
            return
        # Of the lease, only what fits under the limit is granted (the rest is counted, never
        # served: every request after it in this minute is refused anyway).
        granted = min(lease, self.limit - (count - lease))
        if granted > 0:
            if window == self._window:  # requests taken meanwhile by this process add up
                self._leased[client_id] = self._leased.get(client_id, 0) + granted - 1
            return
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
