"""Across hosts: the API, two worker hosts, PostgreSQL, Redis and S3 (SeaweedFS) each on a host
of its own (a network namespace with its own address, ``netns_lab.py``), as in the production
layout of docs/operations.md ("Proven under faults"). The test process is the client, on the
machine's own namespace, and talks only to the hosts' addresses.

- A worker host cut off the network mid-job: its job completes on the other worker host, once;
  back on the network, its late result is refused and nothing of the row changes.
- Redis cut off from the API (not from the workers): uploads and job creation still answer, and
  the reconciler (in the workers) queues the job, which completes while the API still cannot
  reach Redis.

Needs root (to make namespaces); skips, saying why, only where they cannot be made.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from netns_lab import Lab, LabRefused, lab_refusal
from pipeline_support import FAST_RECOVERY_ENV, SLOW_WORKER, sine_wav

from private_services import PrivatePostgres, PrivateRedis, Service, netns_prefix
from s3_server import running_seaweedfs

pytestmark = [pytest.mark.hosts, pytest.mark.slow]

API_PORT = 8000
SOUNDY = [sys.executable, "-m", "soundy.cli.main"]


@dataclass
class Hosts:
    lab: Lab
    root: Path
    env: dict[str, str]
    pg: PrivatePostgres
    api: Service
    workers: dict[str, Service] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{self.lab.hosts['api'].ip}:{API_PORT}"

    def start_worker(self, host: str, *, analysis_delay_s: float | None = None) -> Service:
        """A `soundy worker` on ``host`` (slow analyses with a delay), ready for jobs."""
        if analysis_delay_s is None:
            argv = [*SOUNDY, "worker", "--concurrency", "1"]
        else:
            argv = [sys.executable, str(SLOW_WORKER), str(analysis_delay_s), "1"]
        worker = Service(
            host,
            argv,
            self.root / f"{host}-{len(self.workers)}.log",
            env=self.env,
            prefix=netns_prefix(self.lab.hosts[host].netns),
        )
        worker.spawn()
        self.workers[f"{host}-{len(self.workers)}"] = worker
        wait_for(lambda: "started: queue" in log_of(worker), 60, f"{host} ready", worker)
        return worker


def log_of(service: Service) -> str:
    return service.log_path.read_text(errors="replace")


def job_lines(service: Service, job_id: str) -> list[str]:
    """The messages ``service`` logged about ``job_id`` (JSON log lines)."""
    out = []
    for line in log_of(service).splitlines():
        if line.startswith("{") and f'"job_id": "{job_id}"' in line:
            out.append(json.loads(line)["message"])
    return out


def wait_for(ready: Any, timeout_s: float, what: str, service: Service | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if service is not None and not service.alive():
            raise AssertionError(f"{what}: the process exited:\n{service.tail()}")
        if time.monotonic() > deadline:
            tail = service.tail() if service is not None else ""
            raise AssertionError(f"{what}: not within {timeout_s} s\n{tail}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    refusal = lab_refusal()
    if refusal:
        pytest.skip(refusal)
    lab = Lab()
    services: list[Service] = []
    try:
        lab.open()
    except LabRefused as exc:
        pytest.skip(f"the kernel refuses the lab's bridge: {exc}")
    root = lab.workdir
    try:
        for name in ("api", "worker-a", "worker-b", "postgres", "redis", "s3"):
            lab.add_host(name)
        h = lab.hosts
        pg = PrivatePostgres(
            root / "postgres",
            host=h["postgres"].ip,
            port=5432,
            prefix=netns_prefix(h["postgres"].netns),
        )
        services.append(pg)
        pg.start()
        db_url = pg.create_database("soundy")
        redis = PrivateRedis(
            root / "redis", host=h["redis"].ip, port=6379, prefix=netns_prefix(h["redis"].netns)
        )
        services.append(redis)
        redis.start()
        (root / "s3").mkdir()
        with running_seaweedfs(
            root / "s3", ip=h["s3"].ip, prefix=netns_prefix(h["s3"].netns)
        ) as s3:
            drop = ("SOUNDY_", "DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "AWS_")
            env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
            env.update(FAST_RECOVERY_ENV)
            env.update(
                PYTHONUNBUFFERED="1",
                SOUNDY_DATABASE_URL=db_url,
                SOUNDY_REDIS_URL=redis.url(),
                SOUNDY_STORAGE_URL=f"s3://{s3.bucket}/hosts",
                SOUNDY_S3_ENDPOINT_URL=s3.endpoint,
                AWS_ACCESS_KEY_ID=s3.access_key,
                AWS_SECRET_ACCESS_KEY=s3.secret_key,
                AWS_DEFAULT_REGION="us-east-1",
                SOUNDY_SECRET_KEY="hosts-test-secret",
                SOUNDY_DATA_DIR=str(root / "data"),
                SOUNDY_PUBLIC_URL=f"http://{h['api'].ip}:{API_PORT}",
                SOUNDY_LOG_JSON="true",
            )
            subprocess.run(
                [*netns_prefix(h["api"].netns), *SOUNDY, "migrate"],
                env=env,
                check=True,
                capture_output=True,
            )
            api = Service(
                "api",
                [*SOUNDY, "api", "--host", h["api"].ip, "--port", str(API_PORT)],
                root / "api.log",
                env=env,
                prefix=netns_prefix(h["api"].netns),
            )
            services.append(api)
            api.spawn()
            hosts = Hosts(lab, root, env, pg, api)
            try:
                yield hosts
            finally:
                services.extend(hosts.workers.values())
    finally:
        for service in services:
            service.kill()
        lab.close()  # whatever else still runs in the namespaces, and the files


async def api_ready(http: httpx.AsyncClient, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the API host never got ready"
        await asyncio.sleep(0.2)


async def new_token(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.post("/api/clients")
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def submit(http: httpx.AsyncClient, auth: dict[str, str], data: bytes) -> str:
    """The README's three calls; the PUT goes straight to the S3 host. Returns the job id."""
    created = await http.post(
        "/api/uploads", json={"filename": "mix.wav", "size": len(data)}, headers=auth
    )
    assert created.status_code == 201, created.text
    upload = created.json()
    put = await http.put(upload["upload_url"], content=data, headers=upload["headers"])
    assert put.status_code == 200, put.text
    response = await http.post(
        "/api/audio/analyze", json={"file_key": upload["file_key"], "mode": "genre"}, headers=auth
    )
    assert response.status_code == 202, response.text
    return str(response.json()["job"]["id"])


async def job_row(hosts: Hosts, job_id: str) -> dict[str, Any]:
    conn = await asyncpg.connect(hosts.pg.url("soundy"), timeout=10)
    try:
        row = await conn.fetchrow(
            "SELECT status, attempts, progress, stage, result, finished_at, error_code"
            " FROM jobs WHERE id = $1",
            uuid.UUID(job_id),
        )
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def wait_row(hosts: Hosts, job_id: str, until: Any, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        row = await job_row(hosts, job_id)
        if until(row):
            return row
        assert time.monotonic() < deadline, f"job {job_id} not there in {timeout_s} s: {row}"
        await asyncio.sleep(0.2)


async def test_a_worker_host_cut_off_mid_job_its_job_completes_on_the_other_host_once(hosts):
    worker_a = hosts.start_worker("worker-a", analysis_delay_s=8)
    async with httpx.AsyncClient(base_url=hosts.base_url, timeout=30) as http:
        await api_ready(http)
        auth = await new_token(http)
        job_id = await submit(http, auth, sine_wav(peak=0.1))
        await wait_row(hosts, job_id, lambda r: r["status"] == "processing", 30)
        wait_for(
            lambda: any(m.startswith("attempt 1/") for m in job_lines(worker_a, job_id)),
            10,
            "worker-a's attempt logged",
            worker_a,
        )

        hosts.lab.cut("worker-a")  # mid-job: worker-a's analysis still has seconds to go
        worker_b = hosts.start_worker("worker-b")
        done = await wait_row(hosts, job_id, lambda r: r["status"] != "processing", 60)
        assert done["status"] == "completed", done
        assert done["attempts"] == 2  # worker-a's attempt, then worker-b's
        assert any(m.startswith("completed in") for m in job_lines(worker_b, job_id))

        hosts.lab.restore("worker-a")
        # worker-a finishes its analysis, and its late result is refused by the row.
        wait_for(
            lambda: (
                "finished elsewhere meanwhile; this result was not stored"
                in job_lines(worker_a, job_id)
            ),
            90,
            "worker-a's late result refused",
            worker_a,
        )
        after = await job_row(hosts, job_id)
        assert after == done  # status, attempts, progress, stage, result, finished_at
        assert not any(m.startswith("completed in") for m in job_lines(worker_a, job_id))
        api_job = (await http.get(f"/api/jobs/{job_id}", headers=auth)).json()
        assert api_job["status"] == "completed" and api_job["attempts"] == 2
    worker_a.kill()


async def test_redis_cut_off_from_the_api_jobs_are_still_made_and_the_reconciler_queues_them(
    hosts,
):
    if not any(w.alive() and w.name == "worker-b" for w in hosts.workers.values()):
        hosts.start_worker("worker-b")
    async with httpx.AsyncClient(base_url=hosts.base_url, timeout=30) as http:
        await api_ready(http)
        auth = await new_token(http)  # POST /api/clients counts in Redis: before the cut
        hosts.lab.cut_between("api", "redis")
        try:
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and "redis" in ready.text  # the cut is real
            started = time.monotonic()
            job_id = await submit(http, auth, sine_wav(peak=0.1))
            assert time.monotonic() - started < 15  # answered, after Redis's timeouts at most
            wait_for(
                lambda: f"job {job_id}: queue add failed" in log_of(hosts.api),
                10,
                "the API's failed queue add logged",
            )
            done = await wait_row(hosts, job_id, lambda r: r["status"] == "completed", 60)
            assert done["attempts"] == 1
            requeued = [w for w in hosts.workers.values() if f"job {job_id} (pending" in log_of(w)]
            assert requeued, "no worker's reconciler logged re-adding the job"
            job = await http.get(f"/api/jobs/{job_id}", headers=auth)  # PostgreSQL only
            assert job.status_code == 200 and job.json()["status"] == "completed"
        finally:
            hosts.lab.join("api", "redis")
        await api_ready(http, timeout_s=30)
