"""The queue's contract with BullMQ (real Redis): wire format, idempotent add, fast failure."""

from __future__ import annotations

import asyncio
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
    hub = events.EventHub(client, prefix=settings.queue_prefix)
    try:
        stream = hub.subscribe(job_id)
        assert await anext(stream) == {"type": "subscribed"}
        sent = [
            {"status": "processing", "progress": 10, "stage": "decoding"},
            {"status": "processing", "progress": 50, "stage": "measuring"},
            {"status": "completed", "progress": 100, "stage": None},
        ]
        # Two in one round trip (the worker's batch of stage changes), then the last alone.
        await events.publish(client, job_id, *sent[:2], prefix=settings.queue_prefix)
        await events.publish(client, job_id, sent[2], prefix=settings.queue_prefix)
        received = [event async for event in stream]
        assert received == [{"job_id": str(job_id), **event} for event in sent]
        assert hub.channels == 0  # the ended stream unsubscribed
    finally:
        await hub.aclose()
        await client.aclose()


async def test_subscriber_gets_heartbeats_while_nothing_happens(settings):
    client = queue.redis_client(settings)
    hub = events.EventHub(client, prefix=settings.queue_prefix)
    try:
        stream = hub.subscribe(uuid.uuid4(), heartbeat_s=0.2)
        assert await anext(stream) == {"type": "subscribed"}
        assert await anext(stream) == {"type": "heartbeat"}
        await stream.aclose()
    finally:
        await hub.aclose()
        await client.aclose()


async def test_many_watchers_share_one_redis_connection(settings):
    """500 readers of 250 jobs (more than redis-py's 100-connection pool) each get their own
    job's events over one pub/sub connection, and leaving unsubscribes."""
    client = queue.redis_client(settings)
    publisher = queue.redis_client(settings)
    hub = events.EventHub(client, prefix=settings.queue_prefix)

    async def subscribers() -> int:
        return sum(1 for c in await publisher.client_list() if int(c.get("sub", 0)) > 0)

    job_ids = [uuid.uuid4() for _ in range(250)]
    streams = [hub.subscribe(job_id) for job_id in job_ids for _ in range(2)]
    try:
        before = await subscribers()
        for stream in streams:
            assert await anext(stream) == {"type": "subscribed"}
        assert hub.channels == 250
        assert await subscribers() == before + 1  # one connection, not 500
        for job_id in job_ids:
            for event in (
                {"status": "processing", "progress": 40, "stage": "measuring"},
                {"status": "completed", "progress": 100, "stage": None},
            ):
                await events.publish(publisher, job_id, event, prefix=settings.queue_prefix)
        received = await asyncio.wait_for(
            asyncio.gather(*(_all(stream) for stream in streams)), timeout=30
        )
        for index, of_one in enumerate(received):
            job_id = str(job_ids[index // 2])
            assert [(e["job_id"], e["progress"]) for e in of_one] == [(job_id, 40), (job_id, 100)]
        assert hub.channels == 0  # every ended stream unsubscribed
    finally:
        await hub.aclose()
        await client.aclose()
        await publisher.aclose()


async def _all(stream) -> list[dict]:
    return [event async for event in stream]
