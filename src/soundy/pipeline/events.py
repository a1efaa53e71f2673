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

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from soundy.config import get_settings

__all__ = ["TERMINAL_STATUSES", "channel", "publish", "subscribe"]

TERMINAL_STATUSES = frozenset({"completed", "failed"})


def _prefix(prefix: str | None) -> str:
    if prefix is not None:
        return prefix
    return get_settings().queue_prefix


def channel(job_id: object, *, prefix: str | None = None) -> str:
    """The pub/sub channel of one job."""
    return f"{_prefix(prefix)}:soundy:job:{job_id}"


async def publish(
    redis: aioredis.Redis, job_id: object, event: dict[str, Any], *, prefix: str | None = None
) -> None:
    """Publish ``event`` (``job_id`` is added) to the job's channel."""
    message = {"job_id": str(job_id), **event}
    await redis.publish(channel(job_id, prefix=prefix), json.dumps(message, allow_nan=False))


async def subscribe(
    redis: aioredis.Redis,
    job_id: object,
    *,
    prefix: str | None = None,
    heartbeat_s: float | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Yield the job's events as they are published; stops after a ``completed`` or ``failed``
    one.

    The first item is always ``{"type": "subscribed"}``, yielded once the subscription is
    active: read the job's current state from the database *after* it, so no event can fall
    between the read and the subscription. With ``heartbeat_s``, ``{"type": "heartbeat"}`` is
    yielded after that many seconds without an event (to re-check the database or keep a
    connection alive). Closing the generator (``aclose``) unsubscribes.
    """
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel(job_id, prefix=prefix))
    try:
        yield {"type": "subscribed"}
        last_s = time.monotonic()
        while True:
            wait_s = 1.0 if heartbeat_s is None else min(1.0, heartbeat_s)
            message = await pubsub.get_message(timeout=wait_s)
            if message is None or message.get("type") != "message":
                if heartbeat_s is not None and time.monotonic() - last_s >= heartbeat_s:
                    last_s = time.monotonic()
                    yield {"type": "heartbeat"}
                continue
            last_s = time.monotonic()
            data = message["data"]
            try:
                event = json.loads(data)
            except (TypeError, ValueError):
                continue
            if not isinstance(event, dict):
                continue
            yield event
            if event.get("status") in TERMINAL_STATUSES:
                return
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()  # type: ignore[no-untyped-call]
