"""Live job progress over Redis pub/sub (the feed behind ``GET /api/jobs/{id}/events``).

Channel ``<prefix>:soundy:job:<job id>`` (prefix = ``SOUNDY_QUEUE_PREFIX``, default ``bull``).
Each message is one JSON object::

    {"job_id": "...", "status": "processing", "progress": 42, "stage": "measuring"}
    {"job_id": "...", "status": "completed", "progress": 100, "stage": null}
    {"job_id": "...", "status": "failed", "progress": 37, "stage": "decoding",
     "error": {"code": "unsupported_format", "message": "..."}}

Pub/sub is fire-and-forget: a subscriber sees only what is published after it subscribed, so a
reader first subscribes, then reads the job's row from PostgreSQL, then follows the events.
PostgreSQL stays the source of truth; events only make the progress bar move without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from soundy.config import get_settings

__all__ = ["TERMINAL_STATUSES", "EventHub", "channel", "publish"]

TERMINAL_STATUSES = frozenset({"completed", "failed"})


def _prefix(prefix: str | None) -> str:
    if prefix is not None:
        return prefix
    return get_settings().queue_prefix


def channel(job_id: object, *, prefix: str | None = None) -> str:
    """The pub/sub channel of one job."""
    return f"{_prefix(prefix)}:soundy:job:{job_id}"


async def publish(
    redis: aioredis.Redis,
    job_id: object,
    *events: dict[str, Any],
    prefix: str | None = None,
) -> None:
    """Publish ``events`` in order (``job_id`` is added to each) to the job's channel: one
    round trip to Redis for all of them (a pipeline; subscribers get them one by one)."""
    name = channel(job_id, prefix=prefix)
    messages = [json.dumps({"job_id": str(job_id), **e}, allow_nan=False) for e in events]
    if len(messages) == 1:
        await redis.publish(name, messages[0])
        return
    async with redis.pipeline(transaction=False) as pipe:
        for message in messages:
            pipe.publish(name, message)
        await pipe.execute()


class EventHub:
    """One Redis pub/sub connection shared by every live-event reader of a process.

    A pub/sub subscription holds its Redis connection: one per reader would make 500 browsers
    watching their jobs 500 connections, and redis-py's pool stops at 100, past which readers
    fell back to polling PostgreSQL. The hub subscribes each channel once on its one
    connection, and a reader task hands every message to the readers of its channel (a queue
    each). If that
    connection fails, every reader gets the error (they fall back to polling) and the next
    subscription opens a new connection.
    """

    def __init__(self, redis: aioredis.Redis, *, prefix: str | None = None) -> None:
        self._redis = redis
        self._prefix = prefix
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any] | BaseException]]] = {}
        self._lock = asyncio.Lock()

    @property
    def channels(self) -> int:
        """Channels subscribed now (one per job being watched)."""
        return len(self._queues)

    async def _add(self, name: str, queue: asyncio.Queue[dict[str, Any] | BaseException]) -> None:
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            if name not in self._queues:
                await self._pubsub.subscribe(name)
                self._queues[name] = set()
            self._queues[name].add(queue)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read(self._pubsub))

    async def _remove(
        self, name: str, queue: asyncio.Queue[dict[str, Any] | BaseException]
    ) -> None:
        async with self._lock:
            readers = self._queues.get(name)
            if readers is None:
                return
            readers.discard(queue)
            if not readers:
                del self._queues[name]
                if self._pubsub is not None:
                    with contextlib.suppress(Exception):
                        await self._pubsub.unsubscribe(name)

    async def _read(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None or message.get("type") != "message":
                    continue
                name = message["channel"]
                name = name.decode() if isinstance(name, bytes) else str(name)
                try:
                    event = json.loads(message["data"])
                except (TypeError, ValueError):
                    continue
                if isinstance(event, dict):
                    for queue in tuple(self._queues.get(name, ())):
                        queue.put_nowait(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the connection failed: tell every reader, start afresh
            async with self._lock:
                for readers in self._queues.values():
                    for queue in readers:
                        queue.put_nowait(exc)
                self._queues.clear()
                if self._pubsub is pubsub:
                    self._pubsub = None
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def subscribe(
        self, job_id: object, *, heartbeat_s: float | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the job's events as they are published; stops after a ``completed`` or
        ``failed`` one.

        The first item is always ``{"type": "subscribed"}``, yielded once the subscription is
        sent: read the job's current state from the database *after* it, so no event falls
        between the read and the subscription. With ``heartbeat_s``, ``{"type": "heartbeat"}``
        is yielded after that many seconds without an event (to re-check the database).
        Closing the generator (``aclose``) unsubscribes; a failed connection raises here.
        """
        name = channel(job_id, prefix=self._prefix)
        queue: asyncio.Queue[dict[str, Any] | BaseException] = asyncio.Queue()
        await self._add(name, queue)
        try:
            yield {"type": "subscribed"}
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=heartbeat_s)
                except TimeoutError:
                    yield {"type": "heartbeat"}
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.get("status") in TERMINAL_STATUSES:
                    return
        finally:
            await self._remove(name, queue)

    async def aclose(self) -> None:
        """Stop the reader and close the shared connection."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        self._pubsub = None
        self._queues.clear()
