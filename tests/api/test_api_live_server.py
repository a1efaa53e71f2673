"""Against a real HTTP server (uvicorn on a loopback port): the SSE stream delivers the current
state at once and progress while the job runs, not only when it ends; the upload PUT streams
through a real server; metrics add up across processes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap

import httpx

from soundy import jobs
from soundy.pipeline import events
from soundy.pipeline.queue import redis_client


async def test_sse_delivers_state_and_progress_while_the_job_runs(
    live_url, settings, client_token, auth, db_session
):
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as http:
        created = (
            await http.post(
                "/api/uploads", json={"filename": "a.wav", "size": 4}, headers=auth(client_token)
            )
        ).json()
        put = await http.put(created["upload_url"], content=b"abcd", headers=created["headers"])
        assert put.status_code == 200, put.text
        job_id = (
            await http.post(
                "/api/audio/analyze",
                json={"file_key": created["file_key"]},
                headers=auth(client_token),
            )
        ).json()["job"]["id"]

        redis = redis_client(settings)
        seen: list[dict] = []
        try:
            async with (
                asyncio.timeout(20),
                http.stream(
                    "GET", f"/api/jobs/{job_id}/events", headers=auth(client_token)
                ) as stream,
            ):
                assert stream.status_code == 200
                lines = stream.aiter_lines()

                async def next_event() -> dict:
                    async for line in lines:
                        if line.startswith("data: "):
                            return json.loads(line[6:])
                    raise AssertionError("stream ended early")

                # The current state arrives while the job is still pending.
                seen.append(await next_event())
                assert seen[-1]["status"] == "pending"
                assert await jobs.start_attempt(db_session, job_id)
                assert await jobs.set_progress(db_session, job_id, progress=55, stage="measuring")
                await events.publish(
                    redis,
                    job_id,
                    {"status": "processing", "progress": 55, "stage": "measuring"},
                    prefix=settings.queue_prefix,
                )
                # Progress arrives live, before the job ends.
                seen.append(await next_event())
                assert (seen[-1]["status"], seen[-1]["progress"]) == ("processing", 55)
                assert await jobs.complete(db_session, job_id, result={"schema_version": 1})
                await events.publish(
                    redis,
                    job_id,
                    {"status": "completed", "progress": 100, "stage": None},
                    prefix=settings.queue_prefix,
                )
                seen.append(await next_event())
                assert seen[-1]["status"] == "completed"
                # ... and then the stream ends by itself.
                async for line in lines:
                    assert not line.startswith("data: ")
        finally:
            await redis.aclose()


def test_worker_counters_appear_on_the_api_metrics_in_multiprocess_mode(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = (
        "from soundy import metrics; metrics.JOBS_COMPLETED.inc(2); "
        "metrics.JOBS_FAILED.labels(code='empty_audio').inc()"
    )
    subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=60)
    api = textwrap.dedent(
        """
        from soundy import metrics
        metrics.JOBS_CREATED.inc(3)
        print(metrics.render().decode())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", api], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    assert "soundy_jobs_created_total 3.0" in out
    assert "soundy_jobs_completed_total 2.0" in out
    assert 'soundy_jobs_failed_total{code="empty_audio"} 1.0' in out
