"""The worker alone: how fast one ``soundy worker`` drains a full queue, and its CPU per job.

Run: ``.venv/bin/python bench/worker_drain.py [--jobs 300] [--clip-s 10] [--concurrency N]
[--latency-jobs 20] [--via-api] [--worker-log PATH] [--py-spy OUT.svg]``.

No API in the way (unless ``--via-api``): the bench inserts the job rows itself
(``jobs.create_job``, as the API does) and adds them to the queue (``queue.enqueue``), so what
it measures is the worker's side of issue 10 only.

1. **Unloaded latency.** With the worker idle, N sequential jobs: each is created and queued,
   and its row polled every 2 ms until ``completed``. The time is from just before the insert
   to that poll. "Analysis alone" beside it is what an analysis process runs for the job
   (``_pool.measure``) on the same clip, in a child set up as the worker's analysis processes
   are (one BLAS thread, their malloc settings: bench/analysis_alone.py), its median CPU time of
   10 runs after a warm-up: the floor of a job. With ``--via-api`` the bench also starts
   ``soundy api`` and POSTs each latency job to /api/audio/analyze with bench/pipeline.py's
   body, its time then from just before the POST.
2. **Drain.** ``--jobs`` jobs are queued while the worker is stopped; then the worker starts
   and the bench waits until every row has ended. **Jobs/s** = jobs / (first ``started_at`` ->
   last ``finished_at``), both from the database clock. **CPU ms per job** = the CPU time
   (user + system, from ``/proc`` through psutil) of the worker and its analysis processes over
   the drain, divided by the jobs; minus the analysis alone that is the worker's own overhead.
   PostgreSQL's and Redis's CPU over the drain are printed too (the machine's servers: other
   work on them counts in).

``--callgrind N`` instead counts the worker process's instructions over N jobs (valgrind; its
analysis processes run natively and are not counted). ``BENCH_WORKER_CMD`` replaces the
``soundy`` command the worker is started with (e.g. a Python wrapper that counts its calls).

It uses the machine's PostgreSQL (a database it creates and drops) and Redis (DB 12 with a key
prefix of its own, deleted at the end), and local storage in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import redis
from analysis_alone import analysis_alone
from analyze_speed import generate

from pipeline import SOUNDY, callgrind_instructions, under_callgrind
from soundy import jobs
from soundy.api.auth import create_client
from soundy.config import Settings
from soundy.db.session import create_engine, sessionmaker
from soundy.pipeline import queue
from soundy.storage import open_storage

# bench/pipeline.py's body of POST /api/audio/analyze (its GENRE, DESTINATION), for --via-api.
API_BODY = {"mode": "genre", "genre": "trap", "destination": "streaming"}
CLIP_DIR = Path(tempfile.gettempdir()) / "soundy-bench"


async def _chunks(data: bytes) -> Any:
    yield data


def tree_cpu_s(proc: psutil.Process) -> tuple[float, float, float]:
    """CPU seconds (user + system) of ``proc`` itself and of its live descendants, and the
    system part of ``proc``'s own."""
    own = children = own_system = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            if p.pid == proc.pid:
                own, own_system = t.user + t.system, t.system
            else:
                children += t.user + t.system
    return own, children, own_system


def server_cpu_s(name: str) -> float:
    total = 0.0
    for p in psutil.process_iter(["name"]):
        if name in (p.info["name"] or ""):
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
    return total


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        tag = f"{os.getpid()}"
        self.dbname = f"soundy_wdrain_{tag}"
        self.prefix = f"soundywdrain{tag}"
        admin = args.pg_url
        self.db_url = admin.rsplit("/", 1)[0] + "/" + self.dbname
        self.env = dict(os.environ)
        self.env.update(
            PYTHONUNBUFFERED="1",
            SOUNDY_DATABASE_URL=self.db_url,
            SOUNDY_REDIS_URL=args.redis_url,
            SOUNDY_QUEUE_PREFIX=self.prefix,
            SOUNDY_STORAGE_URL=(tmp / "files").as_uri(),
            SOUNDY_DATA_DIR=str(tmp),
            SOUNDY_SECRET_KEY=secrets.token_urlsafe(32),
        )
        self.settings = Settings(
            database_url=self.db_url,
            redis_url=args.redis_url,
            queue_prefix=self.prefix,
            storage_url=(tmp / "files").as_uri(),
            data_dir=tmp,
        )
        self.worker: subprocess.Popen[bytes] | None = None
        self.log = tmp / "worker.log"
        self.api: subprocess.Popen[bytes] | None = None
        self.http: httpx.AsyncClient | None = None
        self.post: tuple[dict[str, str], dict[str, Any]] | None = None

    async def setup(self, clip: Path) -> None:
        admin = await asyncpg.connect(self.args.pg_url)
        await admin.execute(f'CREATE DATABASE "{self.dbname}"')
        await admin.close()
        subprocess.run([str(SOUNDY), "migrate"], env=self.env, check=True, capture_output=True)
        self.engine = create_engine(self.db_url)
        self.sessions = sessionmaker(self.engine)
        self.storage = open_storage(self.settings)
        self.file_key = f"bench/{clip.name}"
        data = clip.read_bytes()
        await self.storage.write_stream(self.file_key, _chunks(data), max_bytes=len(data) + 1)
        async with self.sessions() as session:
            self.client_id = uuid.uuid4()
            await create_client(session, client_id=self.client_id, plan="unlimited")
        self.db = await asyncpg.connect(self.db_url)
        if self.args.via_api:
            await self.start_api(clip)

    async def start_api(self, clip: Path) -> None:
        """``soundy api`` (as bench/pipeline.py starts it), a client of its own and an upload
        of the clip through it: the latency jobs are then POSTed as bench/pipeline.py does."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        env = {**self.env, "SOUNDY_DEFAULT_PLAN": "unlimited"}
        with (self.tmp / "api.log").open("ab") as out:
            self.api = subprocess.Popen(
                [str(SOUNDY), "api", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0)
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await self.http.get("/readyz")).status_code == 200:
                    break
            if self.api.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start:\n{(self.tmp / 'api.log').read_text()}")
            await asyncio.sleep(0.2)
        token = (await self.http.post("/api/clients")).raise_for_status().json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        data = clip.read_bytes()
        upload = (
            (
                await self.http.post(
                    "/api/uploads", headers=headers, json={"filename": clip.name, "size": len(data)}
                )
            )
            .raise_for_status()
            .json()
        )
        (
            await self.http.put(upload["upload_url"], content=data, headers=upload["headers"])
        ).raise_for_status()
        self.post = (headers, {**API_BODY, "file_key": upload["file_key"]})

    async def teardown(self) -> None:
        self.stop_worker()
        if self.args.worker_log:
            shutil.copy(self.log, self.args.worker_log)
        if self.http is not None:
            await self.http.aclose()
        if self.api is not None and self.api.poll() is None:
            self.api.terminate()
            self.api.wait(30)
        await queue.close_queues()
        with contextlib.suppress(Exception):
            await self.db.close()
        await self.engine.dispose()
        admin = await asyncpg.connect(self.args.pg_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
        await admin.close()
        r = redis.Redis.from_url(self.args.redis_url)
        keys = list(r.scan_iter(f"{self.prefix}:*", count=1000))
        for i in range(0, len(keys), 500):
            r.delete(*keys[i : i + 500])

    async def add_job(self) -> uuid.UUID:
        if self.http is not None and self.post is not None:
            headers, body = self.post
            response = await self.http.post("/api/audio/analyze", json=body, headers=headers)
            response.raise_for_status()
            return uuid.UUID(response.json()["job"]["id"])
        async with self.sessions() as session:
            job = await jobs.create_job(
                session, client_id=self.client_id, file_key=self.file_key, mode="genre"
            )
        await queue.enqueue(self.settings, job_id=job.id, file_key=self.file_key, mode="genre")
        return job.id

    def start_worker(self) -> psutil.Process:
        argv = [*os.environ.get("BENCH_WORKER_CMD", str(SOUNDY)).split(), "worker"]
        if self.args.concurrency:
            argv += ["--concurrency", str(self.args.concurrency)]
        if self.args.callgrind:
            argv = under_callgrind(argv, self.tmp)
        if self.args.py_spy:
            argv = [
                "py-spy", "record", *self.args.py_spy_args.split(), "-r", "250", "-f",
                self.args.py_spy_format, "-o", self.args.py_spy, "--", *argv,
            ]  # fmt: skip
        with self.log.open("ab") as out:
            self.worker = subprocess.Popen(
                argv, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 120
        while "started: queue" not in self.log.read_text(errors="replace"):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()}")
            time.sleep(0.05)
        return psutil.Process(self.worker.pid)

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(2)  # SIGINT: py-spy writes its output, the worker stops
            try:
                self.worker.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, 9)
                self.worker.wait()
        self.worker = None

    async def wait_final(self, job_id: uuid.UUID, timeout_s: float = 60.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = await self.db.fetchval("SELECT status FROM jobs WHERE id = $1", job_id)
            if status in ("completed", "failed"):
                return str(status)
            await asyncio.sleep(0.002)
        raise TimeoutError(f"job {job_id} did not end")

    async def latency(self, n: int) -> dict[str, float]:
        times = []
        ids = []
        for i in range(n + 3):
            start = time.perf_counter()
            job_id = await self.add_job()
            status = await self.wait_final(job_id)
            elapsed_ms = (time.perf_counter() - start) * 1000
            if status != "completed":
                raise RuntimeError(f"job {job_id} {status}")
            if i >= 3:
                times.append(elapsed_ms)
                ids.append(job_id)
        db_ms = await self.db.fetchval(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY "
            "extract(epoch FROM finished_at - created_at) * 1000) FROM jobs WHERE id = ANY($1)",
            ids,
        )
        return {"median_ms": statistics.median(times), "db_median_ms": float(db_ms)}

    async def instructions(self, n: int) -> dict[str, float]:
        """The worker process's own instructions per job (callgrind; its analysis processes
        run natively and are not counted): the worker starts idle, counting is switched on, N
        jobs are queued and run, and the counts are dumped."""
        worker = self.start_worker()
        subprocess.run(["callgrind_control", "-i", "on", str(worker.pid)], check=True)
        ids = [await self.add_job() for _ in range(n)]
        await self.wait_all(ids, timeout_s=3600)
        subprocess.run(["callgrind_control", "-d", str(worker.pid)], check=True)
        if self.args.callgrind_keep:
            for out in self.tmp.glob("callgrind.out.*"):
                if out.stat().st_size:
                    shutil.copy(out, self.args.callgrind_keep)
        total = callgrind_instructions(self.tmp)
        completed = await self.db.fetchval(
            "SELECT count(*) FROM jobs WHERE id = ANY($1) AND status = 'completed'", ids
        )
        return {"jobs": n, "completed": int(completed), "instructions_per_job": total / n}

    async def wait_all(self, ids: list[uuid.UUID], timeout_s: float = 600.0) -> None:
        start = time.monotonic()
        while True:
            left = await self.db.fetchval(
                "SELECT count(*) FROM jobs WHERE id = ANY($1) AND status IN "
                "('pending', 'processing')",
                ids,
            )
            if left == 0:
                return
            if time.monotonic() - start > timeout_s:
                raise TimeoutError(f"{left} jobs still running after {timeout_s:g} s")
            await asyncio.sleep(0.05)

    async def drain(self, n: int) -> dict[str, float]:
        ids = [await self.add_job() for _ in range(n)]
        pg0, redis0 = server_cpu_s("postgres"), server_cpu_s("redis-server")
        worker = self.start_worker()
        cpu0 = tree_cpu_s(worker)
        await self.wait_all(ids)
        cpu1 = tree_cpu_s(worker)
        rss_mb = sum(p.memory_info().rss for p in [worker, *worker.children(recursive=True)]) / 1e6
        backends = await self.db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.dbname,
        )
        pg1, redis1 = server_cpu_s("postgres"), server_cpu_s("redis-server")
        row = await self.db.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'completed') AS completed, "
            "extract(epoch FROM max(finished_at) - min(started_at)) AS span_s FROM jobs "
            "WHERE id = ANY($1)",
            ids,
        )
        return {
            "jobs": n,
            "completed": int(row["completed"]),
            "jobs_per_s": n / float(row["span_s"]),
            "worker_rss_mb": rss_mb,
            "postgres_backends": int(backends),
            "worker_cpu_ms_per_job": (cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) * 1000 / n,
            "worker_main_cpu_ms_per_job": (cpu1[0] - cpu0[0]) * 1000 / n,
            "worker_main_system_ms_per_job": (cpu1[2] - cpu0[2]) * 1000 / n,
            "analysis_processes_cpu_ms_per_job": (cpu1[1] - cpu0[1]) * 1000 / n,
            "postgres_cpu_ms_per_job": (pg1 - pg0) * 1000 / n,
            "redis_cpu_ms_per_job": (redis1 - redis0) * 1000 / n,
        }


async def main_async(args: argparse.Namespace) -> None:
    CLIP_DIR.mkdir(parents=True, exist_ok=True)
    clip = generate(CLIP_DIR / f"clip-{args.clip_s:g}s.wav", args.clip_s, 44100, "PCM_16", seed=7)
    alone_ms = analysis_alone(clip)["cpu_ms"]
    print(f"analysis alone: {alone_ms:.1f} ms CPU ({args.clip_s:g} s clip)", flush=True)
    with tempfile.TemporaryDirectory(prefix="soundy-bench-worker-") as tmp:
        bench = Bench(args, Path(tmp))
        await bench.setup(clip)
        try:
            if args.callgrind:
                counted = await bench.instructions(args.callgrind)
                print(
                    f"callgrind: {counted['completed']}/{counted['jobs']} completed; the worker "
                    f"process ran {counted['instructions_per_job'] / 1e6:.1f} M instructions "
                    "per job",
                    flush=True,
                )
                return
            if args.jobs:
                drained = await bench.drain(args.jobs)
                overhead = drained["worker_cpu_ms_per_job"] - alone_ms
                print(
                    f"drain: {drained['completed']}/{drained['jobs']} completed, "
                    f"{drained['jobs_per_s']:.1f} jobs/s; CPU ms per job: worker (+ analysis "
                    f"processes) {drained['worker_cpu_ms_per_job']:.1f} (analysis alone "
                    f"{alone_ms:.1f}, so {overhead:.1f} besides; the worker process "
                    f"{drained['worker_main_cpu_ms_per_job']:.1f} (system "
                    f"{drained['worker_main_system_ms_per_job']:.1f}), its analysis processes "
                    f"{drained['analysis_processes_cpu_ms_per_job']:.1f}), postgres "
                    f"{drained['postgres_cpu_ms_per_job']:.1f}, redis "
                    f"{drained['redis_cpu_ms_per_job']:.1f}; at the end the worker and its "
                    f"analysis processes held {drained['worker_rss_mb']:.0f} MB RSS and "
                    f"{drained['postgres_backends']} PostgreSQL connections",
                    flush=True,
                )
            else:
                bench.start_worker()
            if args.latency_jobs:
                lat = await bench.latency(args.latency_jobs)
                print(
                    f"unloaded: insert -> completed median {lat['median_ms']:.1f} ms "
                    f"(database finished - created {lat['db_median_ms']:.1f} ms)",
                    flush=True,
                )
        finally:
            await bench.teardown()
    print(f"load average {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--clip-s", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--latency-jobs", type=int, default=20)
    parser.add_argument(
        "--via-api",
        action="store_true",
        help="also start soundy api and POST the latency jobs through it, as bench/pipeline.py",
    )
    parser.add_argument(
        "--callgrind",
        type=int,
        default=0,
        metavar="N",
        help="only count the worker process's instructions over N jobs (valgrind)",
    )
    parser.add_argument("--callgrind-keep", default=None, help="copy the callgrind dump here")
    parser.add_argument("--worker-log", default=None, help="copy the worker's log here at the end")
    parser.add_argument("--py-spy", default=None, help="record the worker with py-spy to this file")
    parser.add_argument("--py-spy-format", default="speedscope")
    parser.add_argument("--py-spy-args", default="", help='e.g. "--subprocesses --idle"')
    parser.add_argument("--pg-url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
