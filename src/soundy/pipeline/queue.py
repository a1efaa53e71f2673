"""The work queue: BullMQ (the ``bullmq`` package) on Redis, wire-compatible with Node BullMQ.

Queue ``audio-analysis``, job name ``processAudio``, data ``{"jobId", "fileKey", "mode"}``,
BullMQ job id ``analysis-<uuid>``. Adding the same job twice is a no-op (BullMQ keeps the first
job with a given id), so the API and the reconciler may both add a job without doing it twice.

PostgreSQL is the source of truth; this queue only carries work. A failed add is not fatal: the
job row stays ``pending`` and the reconciler adds it again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from bullmq import Queue
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from soundy.errors import TransientError

if TYPE_CHECKING:
    from soundy.config import Settings

__all__ = [
    "ACTIVE_STATES",
    "JOB_NAME",
    "QUEUE_NAME",
    "close_queues",
    "enqueue",
    "failed_reason",
    "is_queued",
    "job_options",
    "queue_counts",
    "queue_job_id",
    "queue_state",
    "queue_workers",
    "redis_client",
    "remove",
]

QUEUE_NAME = "audio-analysis"
JOB_NAME = "processAudio"
# BullMQ states in which a job will still be (or is being) processed.
ACTIVE_STATES = frozenset({"waiting", "active", "delayed", "prioritized", "waiting-children"})
_COUNT_TYPES = ("waiting", "active", "delayed", "completed", "failed")

# One Queue per (event loop, Redis URL, prefix): redis-py clients belong to the loop that made them.
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], Queue]] = (
    weakref.WeakKeyDictionary()
)


def queue_job_id(job_id: object) -> str:
    """The BullMQ job id of a Soundy job: ``analysis-<uuid>``."""
    return f"analysis-{job_id}"


def redis_client(settings: Settings, *, timeout_s: float | None = None) -> aioredis.Redis:
    """A Redis client that fails fast (no retries; ``settings.redis_timeout_s`` per connect and
    per command) and returns ``str``. For producers, admin reads and pub/sub, not for workers."""
    if not settings.redis_url:
        raise TransientError("no Redis URL is configured (SOUNDY_REDIS_URL)")
    timeout_s = settings.redis_timeout_s if timeout_s is None else timeout_s
    client: aioredis.Redis = aioredis.Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    return client


def _queue(settings: Settings) -> Queue:
    loop = asyncio.get_running_loop()
    per_loop = _queues.setdefault(loop, {})
    key = (settings.redis_url or "", settings.queue_prefix)
    queue = per_loop.get(key)
    if queue is None:
        queue = Queue(
            QUEUE_NAME, {"connection": redis_client(settings), "prefix": settings.queue_prefix}
        )
        per_loop[key] = queue
    return queue


async def close_queues() -> None:
    """Close the queues (and their Redis connections) opened on the running loop."""
    per_loop = _queues.pop(asyncio.get_running_loop(), {})
    for queue in per_loop.values():
        with contextlib.suppress(RedisError, OSError):
            await queue.close()


def job_options(settings: Settings, job_id: object) -> dict[str, Any]:
    """BullMQ options: idempotent id, attempts with exponential backoff, bounded history."""
    return {
        "jobId": queue_job_id(job_id),
        "attempts": settings.job_attempts,
        "backoff": {"type": "exponential", "delay": round(settings.job_backoff_s * 1000)},
        "removeOnComplete": {"count": settings.queue_keep_completed},
        "removeOnFail": {"count": settings.queue_keep_failed},
    }


async def enqueue(settings: Settings, *, job_id: object, file_key: str, mode: str) -> None:
    """Add the job to the queue unless a job with its id is already there.

    Raises :class:`TransientError` within about ``settings.redis_timeout_s`` seconds when Redis
    cannot be reached (the job row stays ``pending``; the reconciler adds it later).
    """
    data = {"jobId": str(job_id), "fileKey": file_key, "mode": mode}
    try:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for runs the add in a task of
        # its own, a cost on every POST.
        async with asyncio.timeout(settings.redis_timeout_s * 2):
            await _queue(settings).add(JOB_NAME, data, job_options(settings, job_id))
    except (RedisError, OSError, TimeoutError) as exc:
        raise TransientError(f"the queue (Redis) is unreachable: {exc}") from exc


async def queue_state(settings: Settings, job_id: object) -> str:
    """BullMQ's state of the job: waiting, active, delayed, prioritized, completed, failed, or
    ``unknown`` when Redis holds no such job."""
    try:
        state: str = await _queue(settings).getJobState(queue_job_id(job_id))
    except (RedisError, OSError, TimeoutError) as exc:
        raise TransientError(f"the queue (Redis) is unreachable: {exc}") from exc
    return state


async def is_queued(settings: Settings, job_id: object) -> bool:
    """Whether BullMQ will still run (or is running) the job."""
    return await queue_state(settings, job_id) in ACTIVE_STATES


async def remove(settings: Settings, job_id: object) -> None:
    """Drop a finished BullMQ job so the same id can be added again (used by the reconciler)."""
    try:
        await _queue(settings).remove(queue_job_id(job_id))
    except (RedisError, OSError, TimeoutError) as exc:
        raise TransientError(f"the queue (Redis) is unreachable: {exc}") from exc


async def queue_counts(settings: Settings) -> dict[str, int]:
    """Jobs per BullMQ state: waiting, active, delayed, completed, failed."""
    try:
        counts: dict[str, int] = await _queue(settings).getJobCounts(*_COUNT_TYPES)
    except (RedisError, OSError, TimeoutError) as exc:
        raise TransientError(f"the queue (Redis) is unreachable: {exc}") from exc
    return {name: int(counts.get(name, 0)) for name in _COUNT_TYPES}


async def queue_workers(settings: Settings) -> list[dict[str, Any]]:
    """The queue's live workers as BullMQ lists them (Redis ``CLIENT LIST`` entries whose name is
    ``<prefix>:audio-analysis:w:<worker name>``; ``rawname`` holds that name), one entry per
    connection. Empty when the Redis service forbids ``CLIENT LIST``."""
    try:
        clients: list[dict[str, Any]] = await _queue(settings).get_workers()
    except (RedisError, OSError, TimeoutError) as exc:
        raise TransientError(f"the queue (Redis) is unreachable: {exc}") from exc
    return [c for c in clients if ":w:" in str(c.get("rawname") or "")]


async def failed_reason(settings: Settings, job_id: object) -> str:
    """Why BullMQ failed the job (its ``failedReason``), or a plain sentence if unknown."""
    try:
        job = await _queue(settings).getJob(queue_job_id(job_id))
    except (RedisError, OSError, TimeoutError) as exc:
        raise TransientError(f"the queue (Redis) is unreachable: {exc}") from exc
    reason = getattr(job, "failedReason", None) if job is not None else None
    return str(reason) if reason else "no reason recorded"
