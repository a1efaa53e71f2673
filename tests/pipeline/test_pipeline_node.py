"""Wire compatibility with Node BullMQ, shown with real Node and npm's packages (tests/node).

- A Node ``bullmq`` producer adds a job the way the seed's API does and a `soundy worker`
  completes it;
- a Node ``bullmq`` worker takes a job that Soundy's API queued and sees the same data;
- bull-board (``@bull-board/api`` + ``@bull-board/express``) lists Soundy's queue and its jobs;
- a Node job whose row does not exist fails in BullMQ at once, with the reason.

The queue and job names are fixed in tests/node/common.mjs (the seed's), not read from Soundy,
so these tests fail if the two sides drift apart. Each test has its own queue prefix (the
``settings`` fixture), passed to Node as ``QUEUE_PREFIX``. Outcomes are read from BullMQ's state
in Redis (Node's ``QueueEvents`` and ``Job.fromId``, Soundy's queue helpers), never after sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pipeline_support import sine_wav, submit, wait_job

from soundy import jobs
from soundy.api.auth import client_for_token
from soundy.pipeline import queue

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
ENSURE_NODE_DEPS = Path(__file__).resolve().parents[2] / "scripts" / "ensure-node-deps"
# A stereo 1 kHz sine of peak -20 dBFS at 48 kHz reads -20 + 0.6977 - 0.691 = -19.993 LUFS
# (BS.1770: K-weighting gain at 1 kHz, the -0.691 constant, two channels summed).
EXPECTED_LUFS = -19.993
BOARD_PATH = "/admin/queues"


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` executable, with tests/node's packages installed from the committed lock."""
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node is not installed: the Node interop tests need Node 20 and npm")
    subprocess.run([str(ENSURE_NODE_DEPS)], check=True, timeout=600)
    return executable


class NodeScript:
    """A running tests/node script; each line it prints on stdout is one JSON object."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str, stderr_path: Path) -> None:
        self.proc = proc
        self.name = name
        self.stderr_path = stderr_path

    def _stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def line(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """The next JSON object the script prints."""
        assert self.proc.stdout is not None
        try:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout_s)
        except TimeoutError:
            raise AssertionError(
                f"{self.name} printed nothing within {timeout_s} s:\n{self._stderr()}"
            ) from None
        if not raw:
            code = await self.proc.wait()
            raise AssertionError(f"{self.name} exited ({code}) early:\n{self._stderr()}")
        parsed: dict[str, Any] = json.loads(raw)
        return parsed

    async def exited(self, timeout_s: float = 30.0) -> None:
        """Wait for the script to exit, and check it succeeded."""
        code = await asyncio.wait_for(self.proc.wait(), timeout_s)
        assert code == 0, f"{self.name} exited {code}:\n{self._stderr()}"


@pytest.fixture
async def node_script(
    node: str, settings: Any, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[NodeScript]]]:
    """``await node_script("produce.mjs", *args)`` -> a script on the test's Redis and queue
    prefix; killed at teardown if still running."""
    started: list[NodeScript] = []

    async def _start(script: str, *args: str, **env: str) -> NodeScript:
        stderr_path = tmp_path / f"node-{len(started)}-{script}.stderr"
        with open(stderr_path, "wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                node,
                str(NODE_DIR / script),
                *args,
                cwd=NODE_DIR,
                env={
                    **os.environ,
                    "REDIS_URL": str(settings.redis_url),
                    "QUEUE_PREFIX": settings.queue_prefix,
                    **env,
                },
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        running = NodeScript(proc, script, stderr_path)
        started.append(running)
        return running

    yield _start
    for running in started:
        if running.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                running.proc.kill()
            await running.proc.wait()


async def test_a_job_added_by_node_like_the_seed_is_completed_by_a_soundy_worker(
    node_script, api, client_token, upload_bytes, db_session, start_worker
):
    # The row and the upload exist, as the seed's API makes them before it queues the job.
    file_key = await upload_bytes(api, client_token, sine_wav(peak=0.1))
    client = await client_for_token(db_session, client_token)
    row = await jobs.create_job(
        db_session, client_id=client.id, file_key=file_key, mode="genre", genre="pop"
    )
    job_id = str(row.id)
    producer = await node_script(
        "produce.mjs", json.dumps({"jobId": job_id, "fileKey": file_key, "mode": "genre"})
    )
    assert await producer.line() == {
        "event": "added",
        "id": f"analysis-{job_id}",
        "name": "processAudio",
    }

    # The worker starts after the add, so its reconciler finds the job queued (by Node).
    start_worker()
    finished = await producer.line(timeout_s=60)
    assert finished["state"] == "completed", finished
    assert finished["returnvalue"] == {"completed": True}  # the Soundy worker's return value
    assert finished["attemptsMade"] == 1
    await producer.exited()

    job = await wait_job(api, client_token, job_id, timeout_s=10)
    assert job["status"] == "completed" and job["attempts"] == 1, job
    assert job["result"]["loudness"]["integrated_lufs"] == pytest.approx(EXPECTED_LUFS, abs=0.1)


async def test_a_node_worker_takes_a_job_soundy_queued_with_the_same_data(
    node_script, api, client_token, upload_bytes, settings
):
    job_id = await submit(api, client_token, sine_wav(), upload_bytes)
    stored = await wait_job(api, client_token, job_id, until=lambda job: True)
    assert stored["status"] == "pending"  # no Soundy worker runs in this test

    consumer = await node_script("consume.mjs")
    seen = await consumer.line()
    await consumer.exited()
    assert seen["id"] == f"analysis-{job_id}"
    assert seen["name"] == "processAudio"
    assert seen["data"] == {"jobId": job_id, "fileKey": stored["file_key"], "mode": "genre"}
    assert seen["attemptsMade"] == 0
    assert seen["opts"]["attempts"] == settings.job_attempts
    assert seen["opts"]["backoff"] == {
        "type": "exponential",
        "delay": round(settings.job_backoff_s * 1000),
    }
    # Soundy reads the Node worker's completion from the same Redis keys.
    assert await queue.queue_state(settings, job_id) == "completed"
    await queue.close_queues()


async def _board_queue(client: httpx.AsyncClient, status: str = "latest") -> dict[str, Any]:
    """bull-board's JSON for Soundy's queue (its jobs included: it is the active queue)."""
    response = await client.get(
        f"{BOARD_PATH}/api/queues",
        params={"activeQueue": queue.QUEUE_NAME, "status": status, "page": "1"},
    )
    assert response.status_code == 200, response.text
    listed = {entry["name"]: entry for entry in response.json()["queues"]}
    assert queue.QUEUE_NAME in listed, listed.keys()
    entry: dict[str, Any] = listed[queue.QUEUE_NAME]
    return entry


async def test_bull_board_lists_soundys_queue_and_its_jobs(
    node_script, api, client_token, upload_bytes, start_worker
):
    job_id = await submit(api, client_token, sine_wav(peak=0.1), upload_bytes)
    board = await node_script("board.mjs")
    port = (await board.line())["port"]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        listed = await _board_queue(client)
        assert listed["counts"]["waiting"] == 1
        (shown,) = listed["jobs"]
        assert shown["id"] == f"analysis-{job_id}" and shown["name"] == "processAudio"
        assert shown["data"]["jobId"] == job_id

        # Once a Soundy worker has run it, the board shows it completed, with the return value.
        start_worker()
        job = await wait_job(api, client_token, job_id, timeout_s=60)
        assert job["status"] == "completed", job
        # The row completes first; BullMQ marks its job completed when the handler returns.
        deadline = asyncio.get_running_loop().time() + 10
        while (listed := await _board_queue(client, status="completed"))["counts"][
            "completed"
        ] == 0 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        assert listed["counts"]["completed"] == 1 and listed["counts"]["waiting"] == 0
        (shown,) = listed["jobs"]
        assert shown["id"] == f"analysis-{job_id}"
        assert shown["returnValue"] == {"completed": True} and not shown["isFailed"]


@pytest.mark.parametrize("job_id", ["no-row", "not-a-uuid"])
async def test_a_node_job_without_a_job_row_fails_at_once_with_the_reason(
    job_id, node_script, start_worker, settings
):
    if job_id == "no-row":
        job_id = str(uuid.uuid4())  # a well-formed id that no row has
        reason = f"no job {job_id} in the database"
    else:
        reason = "'not-a-uuid' is not a job id (a UUID)"
    start_worker()
    producer = await node_script(
        "produce.mjs",
        json.dumps({"jobId": job_id, "fileKey": "uploads/x/track.wav", "mode": "genre"}),
    )
    assert (await producer.line())["event"] == "added"
    finished = await producer.line(timeout_s=30)
    await producer.exited()
    # Failed on its first attempt (not retried, not left waiting or active), with the reason.
    assert finished["state"] == "failed", finished
    assert finished["attemptsMade"] == 1
    assert reason in finished["failedReason"]
    assert finished["error"] == finished["failedReason"]  # what Node's waitUntilFinished throws
    assert await queue.queue_state(settings, job_id) == "failed"
    assert reason in await queue.failed_reason(settings, job_id)
    await queue.close_queues()
