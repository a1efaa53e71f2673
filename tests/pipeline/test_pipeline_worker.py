"""`soundy worker` processes against real PostgreSQL and Redis: failures, crashes, kills.

Jobs are created through the API (in-process app on the test's database and queue); workers
are real subprocesses. ``start_worker(analysis_delay_s=N)`` starts one whose analyses first
wait N seconds (slow_worker.py: the same worker, given a slower analysis function), so a test
can act while a job is running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time

import psutil
import pytest
from pipeline_support import free_port, sine_wav, submit, wait_job

from soundy.pipeline import queue

pytestmark = pytest.mark.slow

# A stereo 1 kHz sine of peak -20 dBFS at 48 kHz reads -20 + 0.6977 - 0.691 = -19.993 LUFS
# (BS.1770: K-weighting gain at 1 kHz, the -0.691 constant, two channels summed).
EXPECTED_LUFS = -19.993


def _is_processing(job: dict) -> bool:
    return job["status"] == "processing"


def _is_analysing(job: dict) -> bool:
    """In the analysis process (past the download)."""
    return job["status"] == "processing" and job["stage"] in ("decoding", "measuring")


def _analysis_children(worker) -> list[psutil.Process]:
    return [
        p
        for p in worker.descendants()
        if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())
    ]


async def _running_analysis(worker, timeout_s: float = 10.0) -> list[psutil.Process]:
    """The worker's analysis processes, once there are some (polled, not slept for)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (children := _analysis_children(worker)):
        assert asyncio.get_running_loop().time() < deadline, "no analysis process appeared"
        await asyncio.sleep(0.05)
    return children


async def test_corrupt_upload_fails_fast_then_good_jobs_complete_in_the_same_worker(
    api, client_token, upload_bytes, start_worker, settings
):
    worker = start_worker()

    started_s = time.monotonic()
    bad = await submit(
        api, client_token, b"RIFF\x10\x00\x00\x00WAVEjunk" * 64, upload_bytes, filename="broken.wav"
    )
    job = await wait_job(api, client_token, bad, timeout_s=10)
    assert time.monotonic() - started_s < 5
    assert job["status"] == "failed"
    assert job["attempts"] == 1  # permanent: not retried
    assert job["error"]["code"] in {"unsupported_format", "invalid_audio", "empty_audio"}
    assert "broken.wav" in job["error"]["message"] or len(job["error"]["message"]) > 10

    good = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes, genre="pop")
    job = await wait_job(api, client_token, good, timeout_s=20)
    assert job["status"] == "completed", job
    assert job["progress"] == 100 and job["attempts"] == 1 and job["error"] is None
    assert job["result"]["loudness"]["integrated_lufs"] == pytest.approx(EXPECTED_LUFS, abs=0.1)
    assert job["result"]["file"]["name"] == "track.wav"

    # Reference mode: the worker hands the reference job's result to the comparison.
    file_key = await upload_bytes(api, client_token, sine_wav(peak=0.05), filename="mix.wav")
    response = await api.post(
        "/api/audio/analyze",
        json={"file_key": file_key, "mode": "reference", "reference_job_id": good},
        headers={"Authorization": f"Bearer {client_token}"},
    )
    assert response.status_code == 202, response.text
    ref_job = await wait_job(api, client_token, response.json()["job"]["id"], timeout_s=20)
    assert ref_job["status"] == "completed", ref_job
    assert ref_job["result"]["loudness"]["integrated_lufs"] == pytest.approx(
        EXPECTED_LUFS - 6.02, abs=0.1
    )

    # A duplicate delivery of a finished job does no work and changes nothing.
    await queue.remove(settings, good)
    await queue.enqueue(settings, job_id=good, file_key="ignored", mode="genre")
    await asyncio.to_thread(worker.wait_for_log, "duplicate delivery skipped", 10)
    again = await wait_job(api, client_token, good)
    assert again["attempts"] == 1 and again["result"] == job["result"]
    assert worker.popen.poll() is None
    log = worker.log()
    assert f"job={bad}" in log and f"job={good}" in log  # every job line carries its id
    await queue.close_queues()


async def test_redis_down_at_creation_then_the_reconciler_queues_the_job(
    make_api, api, client_token, upload_bytes, start_worker, settings
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    redis_down = await make_api(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    file_key = await upload_bytes(api, client_token, sine_wav(peak=0.1))
    started_s = time.monotonic()
    response = await redis_down.post(
        "/api/audio/analyze",
        json={"file_key": file_key, "mode": "genre"},
        headers={"Authorization": f"Bearer {client_token}"},
    )
    assert response.status_code == 202, response.text
    assert time.monotonic() - started_s < 5
    job_id = response.json()["job"]["id"]
    assert not await queue.is_queued(settings, job_id)

    start_worker()  # Redis is reachable for the worker: its reconciler adds the job
    job = await wait_job(api, client_token, job_id, timeout_s=20)
    assert job["status"] == "completed", job
    assert job["result"]["loudness"]["integrated_lufs"] == pytest.approx(EXPECTED_LUFS, abs=0.1)
    await queue.close_queues()


async def test_worker_killed_mid_job_another_worker_completes_it_once(
    api, client_token, upload_bytes, start_worker, settings
):
    first = start_worker(analysis_delay_s=4)
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    job = await wait_job(api, client_token, job_id, until=_is_analysing, timeout_s=10)
    assert job["attempts"] == 1
    analysis = await _running_analysis(first)

    os.kill(first.pid, signal.SIGKILL)
    first.popen.wait(5)
    # The killed worker's analysis process dies with it.
    _gone, alive = psutil.wait_procs(analysis, timeout=5)
    assert not alive

    second = start_worker(analysis_delay_s=1)
    job = await wait_job(api, client_token, job_id, timeout_s=30)
    assert job["status"] == "completed", job
    assert job["attempts"] == 2
    assert job["result"]["loudness"]["integrated_lufs"] == pytest.approx(EXPECTED_LUFS, abs=0.1)
    assert "completed in" not in first.log()
    assert second.log().count("completed in") == 1
    # BullMQ records the completion just after the row (the processor returns last).
    for _ in range(50):
        counts = await queue.queue_counts(settings)
        if counts["completed"]:
            break
        await asyncio.sleep(0.1)
    assert counts["completed"] == 1 and counts["failed"] == 0 and counts["active"] == 0
    await queue.close_queues()


async def test_analysis_crash_fails_that_job_and_the_worker_goes_on(
    api, client_token, upload_bytes, start_worker
):
    worker = start_worker(analysis_delay_s=3)
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    await wait_job(api, client_token, job_id, until=_is_analysing, timeout_s=10)
    (child,) = await _running_analysis(worker)
    child.kill()

    job = await wait_job(api, client_token, job_id, timeout_s=10)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "analysis_crashed"
    assert "stopped unexpectedly" in job["error"]["message"]
    assert job["attempts"] == 1

    next_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    job = await wait_job(api, client_token, next_id, timeout_s=20)
    assert job["status"] == "completed", (job, worker.log()[-3000:])
    assert worker.popen.poll() is None


async def test_job_over_the_time_limit_fails_with_timeout(
    api, client_token, upload_bytes, start_worker
):
    start_worker(analysis_delay_s=5, SOUNDY_JOB_TIMEOUT_S="1")
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    job = await wait_job(api, client_token, job_id, timeout_s=10)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "timeout"
    assert "longer than 1 seconds" in job["error"]["message"]


async def test_sigterm_lets_the_running_job_finish_then_exits(
    api, client_token, upload_bytes, start_worker
):
    worker = start_worker(analysis_delay_s=2)
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    await wait_job(api, client_token, job_id, until=_is_processing, timeout_s=10)
    analysis = _analysis_children(worker)

    worker.popen.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(worker.popen.wait, 15) == 0
    job = await wait_job(api, client_token, job_id, timeout_s=1)
    assert job["status"] == "completed", job
    log = worker.log()
    assert "stopping: SIGTERM" in log and "stopped: SIGTERM" in log
    _gone, alive = psutil.wait_procs(analysis, timeout=3)
    assert not alive


async def test_progress_and_stages_reach_live_subscribers_in_order(
    api, client_token, upload_bytes, start_worker, settings
):
    from soundy.pipeline import events

    start_worker(analysis_delay_s=1.5)
    job_id = await submit(api, client_token, sine_wav(peak=0.1, duration_s=4.0), upload_bytes)
    client = queue.redis_client(settings)
    hub = events.EventHub(client, prefix=settings.queue_prefix)
    try:
        feed = hub.subscribe(job_id)
        assert await anext(feed) == {"type": "subscribed"}
        running = await wait_job(api, client_token, job_id, until=_is_processing, timeout_s=10)
        assert running["stage"] in {"downloading", "decoding"}
        received = await asyncio.wait_for(_collect(feed), timeout=20)
    finally:
        await hub.aclose()
        await client.aclose()

    stages = [event["stage"] for event in received if event["status"] == "processing"]
    order = ["downloading", "decoding", "measuring"]
    seen = [stage for stage in order if stage in stages]
    assert seen[-2:] == ["decoding", "measuring"]
    assert [order.index(stage) for stage in stages] == sorted(order.index(s) for s in stages)
    percents = [event["progress"] for event in received if event["status"] == "processing"]
    assert percents == sorted(percents) and percents[0] >= 0 and percents[-1] < 100
    assert received[-1]["status"] == "completed" and received[-1]["progress"] == 100
    job = await wait_job(api, client_token, job_id, timeout_s=1)
    assert job["status"] == "completed" and job["stage"] == "done"


async def test_a_codec_check_job_shows_its_stage_and_stores_the_decodes(
    api, client_token, upload_bytes, start_worker, settings
):
    from soundy.pipeline import events

    start_worker()
    # A sine at full scale: every codec's decode passes 0 dBTP.
    job_id = await submit(
        api, client_token, sine_wav(peak=0.99, duration_s=6.0), upload_bytes, codec_check=True
    )
    client = queue.redis_client(settings)
    hub = events.EventHub(client, prefix=settings.queue_prefix)
    try:
        feed = hub.subscribe(job_id)
        assert await anext(feed) == {"type": "subscribed"}
        received = await asyncio.wait_for(_collect(feed), timeout=120)
    finally:
        await hub.aclose()
        await client.aclose()
    checking = [e["progress"] for e in received if e.get("stage") == "codec_check"]
    assert checking, [e.get("stage") for e in received]
    assert min(checking) >= 40 and checking == sorted(checking)
    measuring = [e["progress"] for e in received if e.get("stage") == "measuring"]
    assert max(measuring) <= 40
    job = await wait_job(api, client_token, job_id, timeout_s=5)
    assert job["status"] == "completed" and job["codec_check"] is True
    checked = {e["platform"]: e for e in job["result"]["codec_check"]}
    assert set(checked) == {"Spotify", "Apple Music", "YouTube", "SoundCloud"}
    assert {e["codec"] for e in checked.values()} == {"aac", "opus", "mp3"}
    # The plain job has none.
    plain_id = await submit(api, client_token, sine_wav(peak=0.1, duration_s=2.0), upload_bytes)
    plain = await wait_job(api, client_token, plain_id, timeout_s=60)
    assert plain["codec_check"] is False and "codec_check" not in plain["result"]
    assert [p["mode"] for p in plain["result"]["playback"]][:3] == ["normal", "loud", "quiet"]


async def _collect(feed) -> list[dict]:
    return [event async for event in feed]


async def test_sigterm_past_the_grace_period_hands_the_job_back_to_another_worker(
    api, client_token, upload_bytes, start_worker
):
    first = start_worker(analysis_delay_s=6, SOUNDY_WORKER_SHUTDOWN_GRACE_S="0.5")
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    await wait_job(api, client_token, job_id, until=_is_processing, timeout_s=10)
    analysis = _analysis_children(first)

    first.popen.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(first.popen.wait, 10) == 0
    assert "handing 1 running job(s) back" in first.log()
    _gone, alive = psutil.wait_procs(analysis, timeout=3)
    assert not alive
    job = await wait_job(api, client_token, job_id, until=lambda job: True)
    assert job["status"] == "processing"  # not failed: handed back

    start_worker()
    job = await wait_job(api, client_token, job_id, timeout_s=30)
    assert job["status"] == "completed", job
    assert job["attempts"] == 2


async def test_redis_restart_while_workers_run_loses_no_job(
    make_api, api, client_token, upload_bytes, start_worker, tmp_path
):
    from soundy.embedded import EmbeddedRedis

    server = EmbeddedRedis(tmp_path / "redis")
    redis_url = server.start()
    port = server.port
    restarted: EmbeddedRedis | None = None
    try:
        worker = start_worker(SOUNDY_REDIS_URL=redis_url)
        own_redis_api = await make_api(redis_url=redis_url)
        file_key = await upload_bytes(api, client_token, sine_wav(peak=0.1))

        server.stop()  # Redis goes away under a running worker and API
        response = await own_redis_api.post(
            "/api/audio/analyze",
            json={"file_key": file_key, "mode": "genre"},
            headers={"Authorization": f"Bearer {client_token}"},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["job"]["id"]
        await asyncio.sleep(1.0)

        restarted = EmbeddedRedis(tmp_path / "redis", port=port)
        restarted.start()
        job = await wait_job(api, client_token, job_id, timeout_s=30)
        assert job["status"] == "completed", (job, worker.log()[-3000:])
        assert worker.popen.poll() is None
    finally:
        for redis_server in (server, restarted):
            if redis_server is not None:
                redis_server.stop()


async def test_transient_storage_fault_is_retried_then_fails_with_a_reason(
    api, client_token, upload_bytes, start_worker, settings
):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    # The worker's storage is an S3 endpoint nobody listens on: every download is a
    # transient fault (the API stored the file locally).
    worker = start_worker(
        SOUNDY_STORAGE_URL="s3://soundy-test/uploads",
        SOUNDY_S3_ENDPOINT_URL=f"http://127.0.0.1:{closed_port}",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="y",
    )
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    job = await wait_job(api, client_token, job_id, timeout_s=30)
    assert job["status"] == "failed"
    assert job["attempts"] == settings.job_attempts == 3
    assert job["error"]["code"] == "temporarily_unavailable"
    assert "unreachable" in job["error"]["message"]
    log = worker.log()
    assert log.count("failed, will retry") == 2 and log.count("giving up") == 1
    for _ in range(50):
        counts = await queue.queue_counts(settings)
        if counts["failed"]:
            break
        await asyncio.sleep(0.1)
    assert counts["failed"] == 1
    await queue.close_queues()


async def test_an_idle_worker_takes_a_new_job_at_once(
    api, client_token, upload_bytes, start_worker
):
    """Seen by hand: with BullMQ's 5 s drain delay, a worker idle for more than ~10 s took a new
    job only 3-4 s after it was queued. A producer waits for that, so it is a regression test."""
    from datetime import datetime

    worker = start_worker()
    await asyncio.to_thread(worker.wait_for_log, "started: queue", 30)
    await asyncio.sleep(12.5)
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    job = await wait_job(api, client_token, job_id, timeout_s=20)
    assert job["status"] == "completed", job
    created = datetime.fromisoformat(job["created_at"])
    started = datetime.fromisoformat(job["started_at"])
    assert (started - created).total_seconds() < 1.0, (job["created_at"], job["started_at"])


async def test_a_standalone_worker_serves_its_own_metrics(
    api, client_token, upload_bytes, start_worker, spawn, worker_env
):
    """SOUNDY_WORKER_METRICS_PORT: a worker apart from the API (no PROMETHEUS_MULTIPROC_DIR)
    counts what it finished on its own /metrics; a port already taken stops it with a reason."""
    import httpx

    port = free_port()
    worker = start_worker(SOUNDY_WORKER_METRICS_PORT=str(port))
    assert f"metrics: http://127.0.0.1:{port}/metrics" in worker.log()
    good = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    bad = await submit(api, client_token, b"not audio at all" * 64, upload_bytes)
    assert (await wait_job(api, client_token, good, timeout_s=20))["status"] == "completed"
    failed = await wait_job(api, client_token, bad, timeout_s=20)
    assert failed["status"] == "failed"

    text = (await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/metrics")).text
    assert "soundy_jobs_completed_total 1.0" in text
    assert f'soundy_jobs_failed_total{{code="{failed["error"]["code"]}"}} 1.0' in text
    assert "soundy_job_duration_seconds_count 2.0" in text
    assert "process_resident_memory_bytes" in text

    second = spawn(
        ["worker"], {**worker_env, "SOUNDY_WORKER_METRICS_PORT": str(port)}, name="worker"
    )
    assert await asyncio.to_thread(second.popen.wait, 30) == 1
    assert f"cannot serve worker metrics on 127.0.0.1:{port}" in second.log()
