"""The queue's contract with BullMQ (real Redis): wire format, idempotent add, fast failure."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest
import redis.asyncio as aioredis

from soundy.errors import TransientError
from soundy.pipeline import events, queue


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_enqueue_twice_makes_one_bullmq_job_in_node_wire_format(settings):
    job_id = uuid.uuid4()
    for _ in range(2):
        await queue.enqueue(settings, job_id=job_id, file_key="uploads/a/b.wav", mode="genre")

    counts = await queue.queue_counts(settings)
    assert counts == {"waiting": 1, "active": 0, "delayed": 0, "completed": 0, "failed": 0}
    assert await queue.is_queued(settings, job_id)

    # What a Node BullMQ consumer or dashboard reads from Redis.
    client = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        key = f"{settings.queue_prefix}:audio-analysis:analysis-{job_id}"
        stored = await client.hgetall(key)
        waiting = await client.lrange(f"{settings.queue_prefix}:audio-analysis:wait", 0, -1)
    finally:
        await client.aclose()
    assert waiting == [f"analysis-{job_id}"]
    assert stored["name"] == "processAudio"
    assert json.loads(stored["data"]) == {
        "jobId": str(job_id),
        "fileKey": "uploads/a/b.wav",
        "mode": "genre",
    }
    opts = json.loads(stored["opts"])
    assert opts["attempts"] == settings.job_attempts
    assert opts["backoff"] == {"type": "exponential", "delay": settings.job_backoff_s * 1000}
    await queue.close_queues()


async def test_unknown_job_is_not_queued(settings):
    assert await queue.queue_state(settings, uuid.uuid4()) == "unknown"
    assert not await queue.is_queued(settings, uuid.uuid4())
    await queue.close_queues()


async def test_redis_down_raises_transient_error_quickly(settings):
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{_closed_port()}/0"})
    started_s = time.monotonic()
    with pytest.raises(TransientError):
        await queue.enqueue(down, job_id=uuid.uuid4(), file_key="k", mode="genre")
    with pytest.raises(TransientError):
        await queue.queue_counts(down)
    assert time.monotonic() - started_s < 3 * settings.redis_timeout_s
    await queue.close_queues()


async def test_events_reach_a_subscriber_in_order_and_end_with_the_job(settings):
    job_id = uuid.uuid4()
    client = queue.redis_client(settings)
    try:
        stream = events.subscribe(client, job_id, prefix=settings.queue_prefix)
        assert await anext(stream) == {"type": "subscribed"}
        sent = [
            {"status": "processing", "progress": 10, "stage": "decoding"},
            {"status": "processing", "progress": 50, "stage": "measuring"},
            {"status": "completed", "progress": 100, "stage": None},
        ]
        for event in sent:
            await events.publish(client, job_id, event, prefix=settings.queue_prefix)
        received = [event async for event in stream]
        assert received == [{"job_id": str(job_id), **event} for event in sent]
    finally:
        await client.aclose()


async def test_subscriber_gets_heartbeats_while_nothing_happens(settings):
    client = queue.redis_client(settings)
    try:
        stream = events.subscribe(
            client, uuid.uuid4(), prefix=settings.queue_prefix, heartbeat_s=0.2
        )
        assert await anext(stream) == {"type": "subscribed"}
        assert await anext(stream) == {"type": "heartbeat"}
        await stream.aclose()
    finally:
        await client.aclose()
