"""The service around the analysis, measured against the seed's own stack (issue 10).

Run: ``make bench-pipeline`` (or ``.venv/bin/python bench/pipeline.py [--duration S] [--quick]``).

One run starts, one after the other on this machine, three stacks and puts each through the
same phases:

- **soundy api+worker**: ``soundy migrate``, ``soundy api`` and one ``soundy worker`` at default
  settings, on the machine's PostgreSQL (a database this run creates and drops) and Redis (a
  dedicated DB number and a key prefix of this run, whose keys it deletes at the end);
- **soundy serve**: ``soundy serve`` in embedded mode (its own PostgreSQL and Redis under a
  temporary data directory, deleted at the end), with its default two worker processes;
- **node replica**: the seed's pipeline in ``bench/peers/node`` (Express, BullMQ, pg, a no-op
  worker of concurrency 5 that stores a real Soundy result of the 10 s clip as every result, so
  both sides serve the same payload), on the machine's PostgreSQL and Redis.

Phases, for each stack:

1. **unloaded latency**: N sequential jobs each of a 1 s and a 10 s stereo clip (after 3 warm-up
   jobs); a job's latency is from just before its POST /api/audio/analyze to the moment a poll of
   its PostgreSQL row (every 2 ms) first sees ``completed``. The database's own
   ``finished - created`` is given beside it, and the analysis alone (the floor of a job): what
   a worker's analysis process runs per job, timed in a child set up like one
   (bench/analysis_alone.py; in this process OpenBLAS's spinning threads doubled its CPU).
2. **POST load**: wrk (2 threads, 32 connections, ``--duration`` s by default) posts
   /api/audio/analyze of one uploaded 10 s clip; then the bench waits until every job it created
   has ended. **End-to-end jobs/s** = those jobs / (first ``created_at`` -> last finish).
3. **GET load**: wrk reads GET /api/jobs/{id} of one completed 10 s job (1 s warm-up first).
4. **SSE** (soundy api+worker only): during a POST load run, W watchers (500 by default) each post
   a job and follow GET /api/jobs/{id}/events; each must see its job's progress (a
   ``processing`` event) and its final ``completed`` event. The API's RSS before, at the peak and
   after, and its Redis connections (``CLIENT LIST`` entries matched to the API process's sockets,
   with their pub/sub subscriptions) show whether one subscription costs one connection.

CPU seconds per process (psutil, user + system) are summed over phases 2 and 3; what the rest of
the machine used meanwhile is printed too, since the machine may be shared. Soundy needs a client
token and an upload before a job: the bench creates them through the API. The load runs need more
jobs in flight per client than the default limit of 5, so the bench raises
``SOUNDY_MAX_JOBS_IN_FLIGHT_PER_CLIENT`` for both Soundy stacks (the check stays on) and prints so.

Prints a table with the ratios Soundy/replica and the issue's targets; writes every figure as JSON
to ``bench/out/pipeline-<time>.json``. ``--quick`` is a small run (CI smoke, under 2 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import psutil
import redis
from analysis_alone import analysis_alone
from analyze_speed import generate

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
NODE_DIR = HERE / "peers" / "node"
WRK_SCRIPT = HERE / "wrk" / "request.lua"
OUT_DIR = HERE / "out"
SOUNDY = Path(sys.executable).parent / "soundy"
CLIP_DIR = Path(tempfile.gettempdir()) / "soundy-bench"
CLIPS = {"1s": 1.0, "10s": 10.0}

# Raised for the load runs (the default is 5): a flood from one client must not be answered 429.
IN_FLIGHT_LIMIT = 1_000_000
FINAL = ("completed", "failed")
WARMUP_JOBS = 3
# The request body every stack gets (Soundy's names; the replica's are the seed's).
GENRE, DESTINATION = "trap", "streaming"

Groups = Callable[[], dict[str, list[psutil.Process]]]


@dataclass
class Config:
    duration_s: float
    threads: int
    connections: int
    latency_jobs: int
    watchers: int
    drain_cap_s: float
    sse_cap_s: float
    serve: bool
    pg_url: str
    redis_url: str
    quick: bool
    # SOUNDY_API_PROCESSES of both Soundy stacks (None: Soundy's default).
    api_processes: int | None = None


# -- processes ---------------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.popen.pid)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


@dataclass
class Run:
    cfg: Config
    tmp: Path
    tag: str
    procs: list[Proc] = field(default_factory=list)
    wrk_pids: list[int] = field(default_factory=list)

    def start(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None = None
    ) -> Proc:
        log = self.tmp / f"{name.replace(' ', '_')}.log"
        with log.open("wb") as out:
            # Its own session: a stop signals only this process and what it started.
            popen = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, timeout_s: float = 30.0) -> None:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)
            try:
                proc.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(5)
        if proc in self.procs:
            self.procs.remove(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree(proc: psutil.Process) -> list[psutil.Process]:
    """The process and its descendants (those alive now)."""
    with contextlib.suppress(psutil.Error):
        return [proc, *proc.children(recursive=True)]
    return []


def base_env() -> dict[str, str]:
    """This environment without any service URL a parent shell may carry."""
    drop = ("SOUNDY_", "DATABASE_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONUNBUFFERED"] = "1"
    return env


# -- CPU accounting ----------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds (user + system) of each group of processes over a ``with`` block.

    Sampled every 0.5 s so that processes that start or end inside the block count too (up to
    their last sample); the whole machine's busy time gives what other work used meanwhile.
    """

    def __init__(self, groups: Groups) -> None:
        self.groups = groups
        self.first: dict[tuple[str, int, float], float] = {}
        self.last: dict[tuple[str, int, float], float] = {}
        self.seconds: dict[str, float] = {}
        self.other_s = 0.0
        self.steal_s = 0.0
        self.wall_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> CpuMeter:
        self.t0 = time.time()
        self.sys0 = psutil.cpu_times()
        self._sample()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def _sample(self) -> None:
        seen: set[int] = set()
        for group, procs in self.groups().items():
            for proc in procs:
                if proc.pid in seen:
                    continue
                seen.add(proc.pid)
                try:
                    with proc.oneshot():
                        times = proc.cpu_times()
                        created = proc.create_time()
                except psutil.Error:
                    continue
                key = (group, proc.pid, created)
                value = times.user + times.system
                if key not in self.first:
                    self.first[key] = value if created < self.t0 else 0.0
                self.last[key] = value

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.wall_s = time.time() - self.t0
        for key, value in self.last.items():
            self.seconds[key[0]] = self.seconds.get(key[0], 0.0) + value - self.first[key]
        sys1 = psutil.cpu_times()
        busy = sum(
            getattr(sys1, name) - getattr(self.sys0, name)
            for name in ("user", "nice", "system", "irq", "softirq")
        )
        self.other_s = max(0.0, busy - sum(self.seconds.values()))
        self.steal_s = getattr(sys1, "steal", 0.0) - getattr(self.sys0, "steal", 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 2),
            "cpu_s": {k: round(v, 2) for k, v in self.seconds.items()},
            "other_work_cpu_s": round(self.other_s, 2),
            "steal_s": round(self.steal_s, 2),
        }


def add_cpu(total: dict[str, float], meter: CpuMeter) -> None:
    for name, value in meter.seconds.items():
        total[name] = total.get(name, 0.0) + value
    total["(other work on the machine)"] = total.get("(other work on the machine)", 0.0) + (
        meter.other_s
    )


def postgres_groups(postmaster: psutil.Process, dbname: str, label: str) -> dict[str, list[Any]]:
    """The bench database's backends, and the server's own processes (checkpointer, WAL writer,
    ...); other clients' backends are left out."""
    ours: list[psutil.Process] = []
    server: list[psutil.Process] = [postmaster]
    for child in tree(postmaster)[1:]:
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if f" {dbname} " in f"{cmd} ":
            ours.append(child)
        elif "(" not in cmd and "[local]" not in cmd:
            server.append(child)
    return {f"{label} (bench DB backends)": ours, f"{label} (server processes)": server}


async def machine_postmaster(pg_url: str) -> psutil.Process:
    conn = await asyncpg.connect(pg_url)
    try:
        data_directory = str(await conn.fetchval("SHOW data_directory"))
    finally:
        await conn.close()
    pid_file = Path(data_directory) / "postmaster.pid"
    return psutil.Process(int(pid_file.read_text().split()[0]))


def machine_redis(redis_url: str) -> psutil.Process:
    client = redis.Redis.from_url(redis_url)
    try:
        return psutil.Process(int(client.info("server")["process_id"]))
    finally:
        client.close()


# -- databases and Redis keys ------------------------------------------------------------------


def callgrind_instructions(folder: Path) -> int:
    """The instructions counted in every ``callgrind.out.*`` dump in ``folder`` (valgrind's
    ``--tool=callgrind``; each dump's ``summary:`` or ``totals:`` line)."""
    total = 0
    for out in folder.glob("callgrind.out.*"):
        for line in out.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                total += int(line.split()[1])
                break
    return total


def under_callgrind(argv: list[str], folder: Path) -> list[str]:
    """``argv`` (a ``soundy`` command) run by valgrind's callgrind with counting off until
    :func:`callgrind_per_call` switches it on; its dumps go to ``folder``."""
    return [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--trace-children=no",
        f"--callgrind-out-file={folder}/callgrind.out.%p", sys.executable, *argv,
    ]  # fmt: skip


async def callgrind_per_call(
    pid: int, folder: Path, call: Callable[[], Awaitable[object]], n: int, warm_up: int = 100
) -> int:
    """The instructions the process ``pid`` (started by :func:`under_callgrind`) runs per
    ``call()``: ``warm_up`` calls, then ``n`` more one at a time with counting on, then a dump."""
    for _ in range(warm_up):
        await call()
    subprocess.run(["callgrind_control", "-i", "on", str(pid)], check=True, capture_output=True)
    for _ in range(n):
        await call()
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    if keep := os.environ.get("BENCH_CALLGRIND_KEEP"):
        for out in folder.glob("callgrind.out.*"):
            shutil.copy(out, keep)
    return round(callgrind_instructions(folder) / n)


def with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


async def create_database(pg_url: str, dbname: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await conn.close()


async def drop_database(pg_url: str, dbname: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    finally:
        await conn.close()


async def drop_stale_databases(pg_url: str) -> None:
    """Databases of earlier runs that were stopped before their cleanup (their pid is gone)."""
    conn = await asyncpg.connect(pg_url)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'soundy_bench_%'"
        )
    finally:
        await conn.close()
    for (name,) in names:
        pid = name.split("_")[2]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            await drop_database(pg_url, name)


def delete_keys(redis_url: str, prefix: str) -> int:
    client = redis.Redis.from_url(redis_url)
    deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += int(client.delete(*batch))
                batch = []
        if batch:
            deleted += int(client.delete(*batch))
    finally:
        client.close()
    return deleted


# -- stacks ------------------------------------------------------------------------------------


@dataclass
class Stack:
    """A running API + worker(s): where to send requests and which processes to account."""

    name: str
    base_url: str
    db_dsn: str
    finished_column: str
    api: psutil.Process
    groups: Groups
    # (role, clip) -> (headers, body) of POST /api/audio/analyze; role -> headers of a GET.
    posts: dict[tuple[str, str], tuple[dict[str, str], dict[str, Any]]]
    auth: dict[str, dict[str, str]]
    redis_url: str | None = None
    api_log: Path | None = None


async def wait_http(url: str, procs: list[Proc], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as http:
        while time.monotonic() < deadline:
            for proc in procs:
                if proc.popen.poll() is not None:
                    raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


async def soundy_setup(
    base_url: str, clips: dict[str, Path]
) -> tuple[dict[tuple[str, str], tuple[dict[str, str], dict[str, Any]]], dict[str, dict[str, str]]]:
    """One client (token) per role, each with its own upload of each clip (uploads are owned)."""
    posts: dict[tuple[str, str], tuple[dict[str, str], dict[str, Any]]] = {}
    auth: dict[str, dict[str, str]] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
        for role in ("latency", "load", "watch"):
            response = await http.post("/api/clients")
            response.raise_for_status()
            headers = {"Authorization": f"Bearer {response.json()['token']}"}
            auth[role] = headers
            for clip, path in clips.items():
                data = path.read_bytes()
                announced = await http.post(
                    "/api/uploads",
                    headers=headers,
                    json={"filename": path.name, "size": len(data)},
                )
                announced.raise_for_status()
                upload = announced.json()
                put = await http.put(upload["upload_url"], content=data, headers=upload["headers"])
                put.raise_for_status()
                body = {
                    "file_key": upload["file_key"],
                    "mode": "genre",
                    "genre": GENRE,
                    "destination": DESTINATION,
                }
                posts[(role, clip)] = ({**headers, "Content-Type": "application/json"}, body)
    return posts, auth


def soundy_env(run: Run, data_dir: Path) -> dict[str, str]:
    env = base_env()
    if run.cfg.api_processes is not None:
        env["SOUNDY_API_PROCESSES"] = str(run.cfg.api_processes)
    env.update(
        SOUNDY_DATA_DIR=str(data_dir),
        SOUNDY_SECRET_KEY=secrets.token_urlsafe(32),
        SOUNDY_MAX_JOBS_IN_FLIGHT_PER_CLIENT=str(IN_FLIGHT_LIMIT),
        # One client per role drives thousands of analyses, requests and SSE watchers: the
        # per-client quota and limits are lifted (the bench measures the pipeline, not them).
        SOUNDY_DEFAULT_PLAN="unlimited",
        SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE=str(10**9),
        SOUNDY_MAX_EVENT_STREAMS_PER_CLIENT=str(10**6),
        SOUNDY_MAX_UPLOADS_IN_FLIGHT_PER_CLIENT=str(10**6),
    )
    return env


@contextlib.asynccontextmanager
async def soundy_separate(run: Run, clips: dict[str, Path]) -> AsyncIterator[Stack]:
    """``soundy api`` + ``soundy worker`` on the machine's PostgreSQL and Redis."""
    cfg = run.cfg
    dbname = f"soundy_bench_{run.tag}"
    prefix = f"soundybench{run.tag}"
    await create_database(cfg.pg_url, dbname)
    db_url = with_db(cfg.pg_url, dbname)
    data_dir = run.tmp / "soundy-api"
    data_dir.mkdir()
    port = free_port()
    env = soundy_env(run, data_dir)
    env.update(
        SOUNDY_DATABASE_URL=db_url,
        SOUNDY_REDIS_URL=cfg.redis_url,
        SOUNDY_QUEUE_PREFIX=prefix,
        SOUNDY_STORAGE_URL=(data_dir / "files").as_uri(),
    )
    procs: list[Proc] = []
    try:
        subprocess.run([str(SOUNDY), "migrate"], env=env, check=True, capture_output=True)
        api = run.start("soundy api", [str(SOUNDY), "api", "--port", str(port)], env)
        worker = run.start("soundy worker", [str(SOUNDY), "worker"], env)
        procs = [api, worker]
        base_url = f"http://127.0.0.1:{port}"
        await wait_http(f"{base_url}/readyz", procs)
        posts, auth = await soundy_setup(base_url, clips)
        postmaster = await machine_postmaster(cfg.pg_url)
        redis_proc = machine_redis(cfg.redis_url)
        bench = psutil.Process()

        def groups() -> dict[str, list[psutil.Process]]:
            return {
                "soundy api (+ its processes)": tree(api.process),
                "soundy worker (+ analysis processes)": tree(worker.process),
                **postgres_groups(postmaster, dbname, "postgres"),
                "redis-server (shared)": [redis_proc],
                "wrk": wrk_processes(run),
                "bench client (this script)": [bench],
            }

        yield Stack(
            "soundy api+worker",
            base_url,
            db_url,
            "finished_at",
            api.process,
            groups,
            posts,
            auth,
            redis_url=cfg.redis_url,
            api_log=api.log,
        )
    finally:
        for proc in reversed(procs):
            run.stop(proc)
        await drop_database(cfg.pg_url, dbname)
        delete_keys(cfg.redis_url, prefix)


def wrk_processes(run: Run) -> list[psutil.Process]:
    out = []
    for pid in run.wrk_pids:
        with contextlib.suppress(psutil.Error):
            out.append(psutil.Process(pid))
    return out


@contextlib.asynccontextmanager
async def soundy_serve(run: Run, clips: dict[str, Path]) -> AsyncIterator[Stack]:
    """``soundy serve`` with no URLs: embedded PostgreSQL and Redis under a temporary data dir."""
    # The embedded PostgreSQL runs as another user when we are root: its dir must be reachable.
    data_dir = Path(tempfile.mkdtemp(prefix=f"soundy-bench-serve-{run.tag}-"))
    data_dir.chmod(0o755)
    port = free_port()
    env = soundy_env(run, data_dir)
    serve: Proc | None = None
    try:
        serve = run.start("soundy serve", [str(SOUNDY), "serve", "--port", str(port)], env)
        base_url = f"http://127.0.0.1:{port}"
        await wait_http(f"{base_url}/readyz", [serve], timeout_s=180.0)
        posts, auth = await soundy_setup(base_url, clips)
        serve_proc = serve.process

        def role_of(proc: psutil.Process) -> str:
            with contextlib.suppress(psutil.Error):
                cmd = proc.cmdline()
                if "api" in cmd:
                    return "api"
                if "worker" in cmd:
                    return "worker"
            return ""

        api_proc = next(p for p in serve_proc.children() if role_of(p) == "api")
        database_url = api_proc.environ()["SOUNDY_DATABASE_URL"].replace("+asyncpg", "")
        dbname = urlsplit(database_url).path.lstrip("/")
        bench = psutil.Process()

        # The embedded servers, found once: PostgreSQL by its data directory on its command
        # line, Redis by the port of the URL that serve handed to its children.
        redis_port = urlsplit(api_proc.environ()["SOUNDY_REDIS_URL"]).port
        postmasters: list[psutil.Process] = []
        embedded_redis: list[psutil.Process] = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            if proc.info["name"] == "postgres" and str(data_dir) in " ".join(
                proc.info["cmdline"] or []
            ):
                postmasters.append(proc)
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == redis_port and conn.pid:
                embedded_redis = [psutil.Process(conn.pid)]

        def groups() -> dict[str, list[psutil.Process]]:
            workers = [p for p in serve_proc.children() if role_of(p) == "worker"]
            out: dict[str, list[psutil.Process]] = {
                "soundy serve (supervisor)": [serve_proc],
                "soundy api (+ its processes)": tree(api_proc),
                "soundy workers (+ analysis processes)": [q for w in workers for q in tree(w)],
            }
            for postmaster in postmasters[:1]:
                out.update(postgres_groups(postmaster, dbname, "embedded postgres"))
            out["embedded redis-server"] = embedded_redis
            out["wrk"] = wrk_processes(run)
            out["bench client (this script)"] = [bench]
            return out

        yield Stack(
            "soundy serve", base_url, database_url, "finished_at", api_proc, groups, posts, auth
        )
    finally:
        if serve is not None:
            run.stop(serve, timeout_s=40.0)
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.asynccontextmanager
async def node_replica(run: Run, result_file: Path) -> AsyncIterator[Stack]:
    """The seed's pipeline (bench/peers/node) on the machine's PostgreSQL and Redis."""
    cfg = run.cfg
    subprocess.run([str(REPO / "scripts" / "ensure-node-deps"), "bench/peers/node"], check=True)
    dbname = f"soundy_bench_{run.tag}_replica"
    prefix = f"nodebench{run.tag}"
    await create_database(cfg.pg_url, dbname)
    db_url = with_db(cfg.pg_url, dbname)
    port = free_port()
    env = base_env()
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=cfg.redis_url,
        QUEUE_PREFIX=prefix,
        PORT=str(port),
        RESULT_FILE=str(result_file),
    )
    procs: list[Proc] = []
    try:
        api = run.start("replica api", ["node", "api.mjs"], env, cwd=NODE_DIR)
        procs = [api]
        base_url = f"http://127.0.0.1:{port}"
        await wait_http(f"{base_url}/health", procs)  # the API creates the jobs table first
        worker = run.start("replica worker", ["node", "worker.mjs"], env, cwd=NODE_DIR)
        procs.append(worker)
        postmaster = await machine_postmaster(cfg.pg_url)
        redis_proc = machine_redis(cfg.redis_url)
        bench = psutil.Process()

        def groups() -> dict[str, list[psutil.Process]]:
            return {
                "replica api (node)": [api.process],
                "replica worker (node)": [worker.process],
                **postgres_groups(postmaster, dbname, "postgres"),
                "redis-server (shared)": [redis_proc],
                "wrk": wrk_processes(run),
                "bench client (this script)": [bench],
            }

        headers = {"Content-Type": "application/json"}
        posts = {
            (role, clip): (
                headers,
                {"fileKey": f"uploads/bench/{role}/{clip}.wav", "mode": "genre"},
            )
            for role in ("latency", "load", "watch")
            for clip in CLIPS
        }
        auth: dict[str, dict[str, str]] = {role: {} for role in ("latency", "load", "watch")}
        yield Stack(
            "node replica", base_url, db_url, "updated_at", api.process, groups, posts, auth
        )
    finally:
        for proc in reversed(procs):
            run.stop(proc)
        await drop_database(cfg.pg_url, dbname)
        delete_keys(cfg.redis_url, prefix)


# -- load --------------------------------------------------------------------------------------


async def run_wrk(
    run: Run,
    stack: Stack,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str,
    duration_s: float,
) -> dict[str, Any]:
    cfg = run.cfg
    argv = [
        "wrk",
        f"-t{cfg.threads}",
        f"-c{cfg.connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        stack.base_url,
        "--",
        method,
        path,
        body,
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    run.wrk_pids.append(proc.pid)
    out, err = await proc.communicate()
    run.wrk_pids.remove(proc.pid)
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {out.decode()}\n{err.decode()}")
    raw = json.loads(lines[-1])
    latency = raw["latency_us"]
    errors = raw["errors"]
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(latency["p50"] / 1000, 1),
        "p90_ms": round(latency["p90"] / 1000, 1),
        "p99_ms": round(latency["p99"] / 1000, 1),
        "max_ms": round(latency["max"] / 1000, 1),
        "non_2xx_3xx": errors["status"],
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        "bytes_per_response": round(raw["bytes"] / max(1, raw["requests"])),
    }


async def wait_final(db: asyncpg.Connection, job_id: uuid.UUID, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = await db.fetchval("SELECT status FROM jobs WHERE id = $1", job_id)
        if status in FINAL:
            return str(status)
        await asyncio.sleep(0.002)
    raise RuntimeError(f"job {job_id} did not end within {timeout_s:.0f} s")


async def unloaded_latency(
    stack: Stack, db: asyncpg.Connection, clip: str, n: int
) -> tuple[dict[str, Any], uuid.UUID]:
    """N sequential jobs (after warm-ups): POST to the first poll that sees ``completed``."""
    headers, body = stack.posts[("latency", clip)]
    client_ms: list[float] = []
    server_ms: list[float] = []
    job_id = uuid.UUID(int=0)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30.0) as http:
        for i in range(WARMUP_JOBS + n):
            t0 = time.perf_counter()
            response = await http.post("/api/audio/analyze", json=body, headers=headers)
            if response.status_code != 202:
                raise RuntimeError(f"{stack.name}: POST {response.status_code} {response.text}")
            job_id = uuid.UUID(response.json()["job"]["id"])
            status = await wait_final(db, job_id)
            elapsed_ms = (time.perf_counter() - t0) * 1000
            if status != "completed":
                raise RuntimeError(f"{stack.name}: job {job_id} {status}")
            if i < WARMUP_JOBS:
                continue
            client_ms.append(elapsed_ms)
            server_ms.append(
                await db.fetchval(
                    f"SELECT EXTRACT(EPOCH FROM ({stack.finished_column} - created_at)) * 1000"
                    " FROM jobs WHERE id = $1",
                    job_id,
                )
            )
    return {
        "n": n,
        "median_ms": round(statistics.median(client_ms), 1),
        "min_ms": round(min(client_ms), 1),
        "max_ms": round(max(client_ms), 1),
        "db_created_to_finished_median_ms": round(float(statistics.median(server_ms)), 1),
    }, job_id


async def wait_drained(
    stack: Stack, db: asyncpg.Connection, since: datetime, cap_s: float
) -> dict[str, Any]:
    """Wait until every job created since ``since`` has ended (or ``cap_s`` passed)."""
    query = (
        "SELECT count(*) AS total,"
        " count(*) FILTER (WHERE status IN ('completed', 'failed')) AS ended,"
        " count(*) FILTER (WHERE status = 'failed') AS failed,"
        " min(created_at) AS first_created,"
        f" max({stack.finished_column}) FILTER (WHERE status IN ('completed', 'failed'))"
        " AS last_ended"
        " FROM jobs WHERE created_at >= $1"
    )
    deadline = time.monotonic() + cap_s
    while True:
        row = await db.fetchrow(query, since)
        assert row is not None
        if row["ended"] == row["total"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    span_s = (
        (row["last_ended"] - row["first_created"]).total_seconds() if row["last_ended"] else 0.0
    )
    return {
        "jobs": row["total"],
        "ended": row["ended"],
        "failed": row["failed"],
        "not_ended_at_cap": row["total"] - row["ended"],
        "span_s": round(span_s, 2),
        "jobs_per_s": round(row["ended"] / span_s, 1) if span_s > 0 else None,
    }


async def post_phase(run: Run, stack: Stack, db: asyncpg.Connection) -> dict[str, Any]:
    headers, body = stack.posts[("load", "10s")]
    since = await db.fetchval("SELECT now()")
    with CpuMeter(stack.groups) as load_cpu:
        wrk = await run_wrk(
            run, stack, "POST", "/api/audio/analyze", headers, json.dumps(body), run.cfg.duration_s
        )
    with CpuMeter(stack.groups) as drain_cpu:
        e2e = await wait_drained(stack, db, since, run.cfg.drain_cap_s)
    return {"wrk": wrk, "e2e": e2e, "cpu_load": load_cpu, "cpu_drain": drain_cpu}


async def get_phase(run: Run, stack: Stack, job_id: uuid.UUID) -> dict[str, Any]:
    headers = stack.auth["latency"]
    path = f"/api/jobs/{job_id}"
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30.0) as http:
        response = await http.get(path, headers=headers)
        response.raise_for_status()
        document = response.json()
        if document["status"] != "completed" or not document.get("result"):
            raise RuntimeError(f"{stack.name}: {path} is not a completed job with a result")
    await run_wrk(run, stack, "GET", path, headers, "", 1)  # warm-up
    with CpuMeter(stack.groups) as cpu:
        wrk = await run_wrk(run, stack, "GET", path, headers, "", run.cfg.duration_s)
    return {
        "wrk": wrk,
        "body_bytes": len(response.content),
        "document": document,
        "cpu": cpu,
    }


# -- live status (SSE) -------------------------------------------------------------------------


def api_redis_connections(api: psutil.Process, redis_url: str) -> dict[str, int]:
    """The API's connections to Redis as Redis lists them (``CLIENT LIST``, matched to the
    sockets of the API process and its children, SOUNDY_API_PROCESSES), and the pub/sub
    subscriptions they hold."""
    port = urlsplit(redis_url).port or 6379
    local = {
        f"{c.laddr.ip}:{c.laddr.port}"
        for process in tree(api)
        for c in process.net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    }
    client = redis.Redis.from_url(redis_url)
    try:
        everyone = client.client_list()
    finally:
        client.close()
    listed = [c for c in everyone if c.get("addr") in local]
    total = len(everyone)
    return {
        "api_connections": len(listed),
        "api_subscriptions": sum(int(c.get("sub", 0)) + int(c.get("psub", 0)) for c in listed),
        "server_connections": total,
    }


async def sse_data(
    base_url: str, path: str, headers: dict[str, str], on_open: Callable[[], None]
) -> AsyncIterator[dict[str, Any]]:
    """The ``data:`` events of one Server-Sent Events stream, as JSON objects.

    A plain HTTP/1.1 reader on an asyncio stream: an HTTP client's connection pool does work for
    every open connection on each request, which with hundreds of streams made this process the
    busiest on the machine. ``on_open`` is called once the response is 200.
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = int((await reader.readline()).split()[1])
        chunked = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            chunked |= name.strip().lower() == "transfer-encoding" and "chunked" in value.lower()
        if status != 200:
            raise ValueError(f"events answered {status}")
        on_open()
        buffer = b""
        while True:
            if chunked:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return
                data = (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.startswith(b"data:"):
                    yield json.loads(line[5:])
    finally:
        writer.close()


@dataclass
class Watch:
    statuses: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return "processing" in self.statuses and self.statuses[-1:] == ["completed"]


def api_rss(api: psutil.Process) -> int:
    """The resident memory (bytes) of the API process and its children."""
    return sum(p.memory_info().rss for p in tree(api))


async def sse_phase(run: Run, stack: Stack) -> dict[str, Any]:
    """W watchers follow their own jobs' events while wrk floods POST /api/audio/analyze."""
    cfg = run.cfg
    assert stack.redis_url is not None
    rss_before = api_rss(stack.api)
    redis_before = api_redis_connections(stack.api, stack.redis_url)
    load_headers, load_body = stack.posts[("load", "10s")]
    watch_headers, watch_body = stack.posts[("watch", "10s")]
    open_streams = 0
    peak: dict[str, int] = {"open_streams": 0, "rss": rss_before}
    peak_redis: dict[str, int] = dict(redis_before)
    done = asyncio.Event()

    async def monitor() -> None:
        while not done.is_set():
            with contextlib.suppress(psutil.Error, redis.RedisError):
                peak["rss"] = max(peak["rss"], api_rss(stack.api))
                now = await asyncio.to_thread(
                    api_redis_connections, stack.api, stack.redis_url or ""
                )
                if now["api_connections"] >= peak_redis["api_connections"]:
                    peak_redis.update(now)
                    peak_redis["open_streams_then"] = open_streams
            await asyncio.sleep(0.5)

    async def watch(http: httpx.AsyncClient, posting: asyncio.Semaphore) -> Watch:
        nonlocal open_streams
        result = Watch()
        try:
            async with posting:
                response = await http.post(
                    "/api/audio/analyze", json=watch_body, headers=watch_headers
                )
            if response.status_code != 202:
                result.error = f"POST {response.status_code}"
                return result
            job_id = response.json()["job"]["id"]

            is_open = False

            def opened() -> None:
                nonlocal open_streams, is_open
                is_open = True
                open_streams += 1
                peak["open_streams"] = max(peak["open_streams"], open_streams)

            path = f"/api/jobs/{job_id}/events"
            try:
                async for event in sse_data(stack.base_url, path, watch_headers, opened):
                    result.statuses.append(event["status"])
                    if event["status"] in FINAL:
                        break
            finally:
                if is_open:
                    open_streams -= 1
        except (OSError, httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        return result

    with CpuMeter(stack.groups) as cpu:
        monitor_task = asyncio.create_task(monitor())
        load = asyncio.create_task(
            run_wrk(
                run,
                stack,
                "POST",
                "/api/audio/analyze",
                load_headers,
                json.dumps(load_body),
                cfg.duration_s,
            )
        )
        # Let a backlog form first, so the watchers' jobs wait in the queue with every stream
        # open, then run behind it while the load goes on.
        await asyncio.sleep(cfg.duration_s / 3)
        limits = httpx.Limits(max_connections=32)  # for the POSTs; the streams are sse_data's
        t0 = time.monotonic()
        async with httpx.AsyncClient(base_url=stack.base_url, limits=limits, timeout=30.0) as h:
            posting = asyncio.Semaphore(32)
            tasks = [asyncio.create_task(watch(h, posting)) for _ in range(cfg.watchers)]
            finished, pending = await asyncio.wait(tasks, timeout=cfg.sse_cap_s)
            for task in pending:
                task.cancel()
            watches = [t.result() for t in finished]
        watch_s = time.monotonic() - t0
        wrk = await load
        done.set()
        await monitor_task
    await asyncio.sleep(1.0)  # let the API close the streams' subscriptions
    redis_after = api_redis_connections(stack.api, stack.redis_url)
    rss_after = api_rss(stack.api)
    errors = sorted({w.error for w in watches if w.error})
    log = stack.api_log.read_text(errors="replace") if stack.api_log else ""
    return {
        "watchers": cfg.watchers,
        "ok": sum(w.ok for w in watches),
        "got_final": sum(bool(w.statuses) and w.statuses[-1] in FINAL for w in watches),
        "got_progress": sum("processing" in w.statuses for w in watches),
        "unfinished_at_cap": len(pending),
        "errors": errors[:5],
        "max_open_streams": peak["open_streams"],
        # The API's own word for a stream that could not subscribe (or lost its subscription)
        # and follows the job by re-reading its row every few seconds instead.
        "api_log_streams_without_pubsub": log.count("no pub/sub") + log.count("pub/sub lost"),
        "seconds_to_all_final": round(watch_s, 1),
        "api_rss_mb": {
            "before": round(rss_before / 2**20, 1),
            "peak": round(peak["rss"] / 2**20, 1),
            "after": round(rss_after / 2**20, 1),
        },
        "redis": {"before": redis_before, "peak": peak_redis, "after": redis_after},
        "wrk": wrk,
        "cpu": cpu.as_dict(),
    }


# -- the run -----------------------------------------------------------------------------------


async def measure_stack(run: Run, stack: Stack, sse: bool) -> dict[str, Any]:
    cfg = run.cfg
    print(f"\n== {stack.name} at {stack.base_url}", flush=True)
    out: dict[str, Any] = {"name": stack.name}
    db = await asyncpg.connect(stack.db_dsn)
    try:
        latency: dict[str, Any] = {}
        job_10s = uuid.UUID(int=0)
        for clip in CLIPS:
            latency[clip], last = await unloaded_latency(stack, db, clip, cfg.latency_jobs)
            if clip == "10s":
                job_10s = last
            print(f"   unloaded POST -> completed, {clip} clip: {latency[clip]}", flush=True)
        out["unloaded"] = latency
        cpu_total: dict[str, float] = {}
        post = await post_phase(run, stack, db)
        print(f"   POST: {post['wrk']}\n   end to end: {post['e2e']}", flush=True)
        add_cpu(cpu_total, post["cpu_load"])
        add_cpu(cpu_total, post["cpu_drain"])
        get = await get_phase(run, stack, job_10s)
        print(f"   GET: {get['wrk']}, body {get['body_bytes']} bytes", flush=True)
        add_cpu(cpu_total, get["cpu"])
        out["post"] = post["wrk"]
        out["e2e"] = post["e2e"]
        out["get"] = {**get["wrk"], "body_bytes": get["body_bytes"]}
        out["document"] = get["document"]
        out["cpu_phases"] = {
            "post_load": post["cpu_load"].as_dict(),
            "drain": post["cpu_drain"].as_dict(),
            "get_load": get["cpu"].as_dict(),
        }
        out["cpu_s_post_drain_get"] = {k: round(v, 2) for k, v in cpu_total.items()}
        groups = stack.groups()
        api_group = next(k for k, v in groups.items() if any(p.pid == stack.api.pid for p in v))
        worker_groups = [k for k in groups if "worker" in k]
        jobs_done = max(1, post["e2e"]["ended"])
        out["cpu_ms_per_request"] = {
            "api_per_post": round(
                post["cpu_load"].seconds.get(api_group, 0.0)
                * 1000
                / max(1, post["wrk"]["requests"]),
                2,
            ),
            "worker_per_job": round(
                sum(
                    post["cpu_load"].seconds.get(k, 0.0) + post["cpu_drain"].seconds.get(k, 0.0)
                    for k in worker_groups
                )
                * 1000
                / jobs_done,
                2,
            ),
            "api_per_get": round(
                get["cpu"].seconds.get(api_group, 0.0) * 1000 / max(1, get["wrk"]["requests"]), 2
            ),
        }
        if sse:
            out["sse"] = await sse_phase(run, stack)
            print(f"   SSE: {json.dumps(out['sse'])}", flush=True)
    finally:
        await db.close()
    return out


def analysis_alone_ms(clips: dict[str, Path]) -> dict[str, float]:
    """Each clip's analysis alone, wall-clock ms (median of 5 after a warm-up), the floor of a
    job: run as a worker's analysis process runs it, in a child set up like one (one BLAS
    thread, the same malloc settings; bench/analysis_alone.py), not in this process."""
    return {clip: round(analysis_alone(path, reps=5)["wall_ms"], 1) for clip, path in clips.items()}


def version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except OSError:
        return "missing"
    return (
        (done.stdout or done.stderr).strip().splitlines()[0] if done.stdout or done.stderr else ""
    )


def machine_state(cfg: Config) -> dict[str, Any]:
    async def pg_version() -> str:
        conn = await asyncpg.connect(cfg.pg_url)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    client = redis.Redis.from_url(cfg.redis_url)
    try:
        redis_version = str(client.info("server")["redis_version"])
    finally:
        client.close()
    commit = version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    dirty = bool(version(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"]))
    return {
        "time_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + (" (src modified)" if dirty else ""),
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": platform.processor() or platform.machine(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "node": version(["node", "--version"]),
        "wrk": version(["wrk", "--version"]).split(" [")[0],
        "postgresql": asyncio.run(pg_version()),
        "redis": redis_version,
    }


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def ratio(a: Any, b: Any) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def report(results: dict[str, Any]) -> str:
    stacks: list[dict[str, Any]] = results["stacks"]
    by = {s["name"]: s for s in stacks}
    replica = by.get("node replica")
    soundies = [s for s in stacks if s["name"] != "node replica"]
    lines: list[str] = []
    cfg = results["config"]
    state = results["machine"]
    lines.append(
        f"Pipeline benchmark, {state['time_utc']}, commit {state['commit']}; {state['cpus']} CPUs,"
        f" load average {state['load_average_start']} at the start,"
        f" {state['load_average_end']} at the end."
    )
    lines.append(
        f"wrk -t{cfg['threads']} -c{cfg['connections']} -d{cfg['duration_s']:g}s; unloaded"
        f" latency: median of {cfg['latency_jobs']} sequential jobs after {WARMUP_JOBS} warm-ups."
    )
    lines.append(
        f"Soundy runs with SOUNDY_MAX_JOBS_IN_FLIGHT_PER_CLIENT={IN_FLIGHT_LIMIT} (default 5) so"
        " that one load client is not answered 429; the check, ownership checks and idempotent"
        " enqueue stay on. Everything else is at its defaults."
    )
    lines.append(
        "Analysis alone, as an analysis process runs it: "
        f"{results['analysis_alone_ms']['1s']} ms (1 s clip),"
        f" {results['analysis_alone_ms']['10s']} ms (10 s clip)."
    )
    lines.append("")
    names = [s["name"] for s in stacks]
    header = ["", *names, *(f"{s['name']} / replica" for s in soundies if replica)]
    rows: list[list[str]] = []

    def row(
        label: str, get: Callable[[dict[str, Any]], Any], unit: str = "", rat: bool = True
    ) -> None:
        values = [get(s) for s in stacks]
        cells = [label, *(fmt(v, unit) for v in values)]
        if replica:
            for s in soundies:
                cells.append(ratio(get(s), get(replica)) if rat else "")
        rows.append(cells)

    row("POST /api/audio/analyze req/s", lambda s: s["post"]["rps"])
    row("  POST p50 ms", lambda s: s["post"]["p50_ms"], rat=False)
    row("  POST p99 ms", lambda s: s["post"]["p99_ms"], rat=False)
    row(
        "  POST rejected (non-2xx) / socket errors",
        lambda s: f"{s['post']['non_2xx_3xx']} / {s['post']['socket_errors']}",
        rat=False,
    )
    row("end-to-end jobs/s (10 s clips)", lambda s: s["e2e"]["jobs_per_s"])
    row(
        "  jobs (failed, not ended at cap)",
        lambda s: f"{s['e2e']['jobs']} ({s['e2e']['failed']}, {s['e2e']['not_ended_at_cap']})",
        rat=False,
    )
    row("GET /api/jobs/{id} req/s", lambda s: s["get"]["rps"])
    row("  GET p50 ms", lambda s: s["get"]["p50_ms"], rat=False)
    row("  GET p99 ms", lambda s: s["get"]["p99_ms"], rat=False)
    row("  GET body bytes", lambda s: s["get"]["body_bytes"], rat=False)
    row(
        "unloaded POST->completed ms, 1 s clip",
        lambda s: s["unloaded"]["1s"]["median_ms"],
        rat=False,
    )
    row(
        "unloaded POST->completed ms, 10 s clip",
        lambda s: s["unloaded"]["10s"]["median_ms"],
        rat=False,
    )
    row(
        "  (DB created->finished, 10 s clip)",
        lambda s: s["unloaded"]["10s"]["db_created_to_finished_median_ms"],
        rat=False,
    )
    row(
        "other work on the machine, CPU s",
        lambda s: s["cpu_s_post_drain_get"]["(other work on the machine)"],
        rat=False,
    )
    row(
        "  over wall s (POST, drain, GET)",
        lambda s: round(sum(p["wall_s"] for p in s["cpu_phases"].values()), 1),
        rat=False,
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    lines.append("")
    row_cpu = [
        f"  {s['name']}: API {s['cpu_ms_per_request']['api_per_post']} ms per POST,"
        f" {s['cpu_ms_per_request']['api_per_get']} ms per GET; worker(s)"
        f" {s['cpu_ms_per_request']['worker_per_job']} ms per job"
        for s in stacks
    ]
    lines.append("CPU time per request (user + system):")
    lines.extend(row_cpu)
    lines.append("CPU seconds per process over the POST run, its drain and the GET run:")
    for s in stacks:
        cpu = s["cpu_s_post_drain_get"]
        parts = ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
        lines.append(f"  {s['name']}: {parts}")
    for s in stacks:
        sse = s.get("sse")
        if not sse:
            continue
        lines.append("")
        r = sse["redis"]
        lines.append(
            f"SSE, {s['name']}: {sse['ok']}/{sse['watchers']} watchers saw their job's progress"
            f" and its completion ({sse['got_final']} a final event, {sse['unfinished_at_cap']}"
            f" unfinished at the cap, errors: {sse['errors'] or 'none'}); at most"
            f" {sse['max_open_streams']} streams open at once, all final after"
            f" {sse['seconds_to_all_final']} s, during wrk POST at {sse['wrk']['rps']} req/s;"
            f" the API logged {sse['api_log_streams_without_pubsub']} streams without pub/sub"
            " (polling the row instead)."
        )
        lines.append(
            f"  API RSS MB before / peak / after: {sse['api_rss_mb']['before']} /"
            f" {sse['api_rss_mb']['peak']} / {sse['api_rss_mb']['after']}"
        )
        lines.append(
            "  API's Redis connections (CLIENT LIST) before / peak / after:"
            f" {r['before']['api_connections']} / {r['peak']['api_connections']}"
            f" (holding {r['peak']['api_subscriptions']} subscriptions, with"
            f" {r['peak'].get('open_streams_then', '?')} streams open) /"
            f" {r['after']['api_connections']}"
        )
    lines.append("")
    lines.append("Targets of issue 10 (soundy api+worker):")
    main = by.get("soundy api+worker")
    if main:
        checks = [
            (
                "unloaded POST->completed <= 60 ms (10 s clip)",
                main["unloaded"]["10s"]["median_ms"] <= 60,
                f"{main['unloaded']['10s']['median_ms']} ms",
            ),
            (
                ">= 45 jobs/s end to end (10 s clips)",
                (main["e2e"]["jobs_per_s"] or 0) >= 45,
                f"{main['e2e']['jobs_per_s']} jobs/s",
            ),
        ]
        if replica:
            for what in ("post", "get"):
                a, b = main[what]["rps"], replica[what]["rps"]
                checks.append((f"{what.upper()} >= 1.0x the replica", a >= b, ratio(a, b)))
        sse = main.get("sse")
        if sse:
            checks.append(
                (
                    "every SSE watcher gets progress and its final event",
                    sse["ok"] == sse["watchers"],
                    f"{sse['ok']}/{sse['watchers']}",
                )
            )
            grew = (
                sse["redis"]["peak"]["api_connections"] - sse["redis"]["before"]["api_connections"]
            )
            checks.append(
                (
                    "watchers share Redis connections (growth < 10 % of watchers)",
                    grew < sse["watchers"] / 10,
                    f"+{grew} connections for {sse['watchers']} watchers",
                )
            )
        for label, met, value in checks:
            lines.append(f"  [{'met' if met else 'NOT met'}] {label}: {value}")
    return "\n".join(lines)


async def measure_all(run: Run, clips: dict[str, Path]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    await drop_stale_databases(run.cfg.pg_url)
    async with soundy_separate(run, clips) as stack:
        results.append(await measure_stack(run, stack, sse=True))
    result_file = run.tmp / "result.json"
    result_file.write_text(json.dumps(results[0]["document"]["result"]))
    if run.cfg.serve:
        async with soundy_serve(run, clips) as stack:
            results.append(await measure_stack(run, stack, sse=False))
    async with node_replica(run, result_file) as stack:
        results.append(await measure_stack(run, stack, sse=False))
    for r in results:
        r.pop("document", None)
    return results


def parse_args() -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=None, help="seconds of each wrk run")
    parser.add_argument("--quick", action="store_true", help="a small run (CI smoke, < 2 min)")
    parser.add_argument("--connections", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--latency-jobs", type=int, default=None)
    parser.add_argument("--watchers", type=int, default=None)
    parser.add_argument("--no-serve", action="store_true", help="leave out soundy serve")
    parser.add_argument(
        "--api-processes", type=int, default=None, help="SOUNDY_API_PROCESSES [Soundy's default]"
    )
    parser.add_argument("--pg-url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/11", help="its DB number is the bench's"
    )
    args = parser.parse_args()
    quick = bool(args.quick)
    return Config(
        duration_s=args.duration or (2.0 if quick else 10.0),
        threads=args.threads,
        connections=args.connections or (8 if quick else 32),
        latency_jobs=args.latency_jobs or (5 if quick else 20),
        watchers=args.watchers or (50 if quick else 500),
        drain_cap_s=30.0 if quick else 300.0,
        sse_cap_s=45.0 if quick else 300.0,
        serve=not args.no_serve,
        pg_url=args.pg_url,
        redis_url=args.redis_url,
        quick=quick,
        api_processes=args.api_processes,
    )


def main() -> None:
    cfg = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run scripts/ensure-wrk (make bench-pipeline does)")
    CLIP_DIR.mkdir(parents=True, exist_ok=True)
    clips = {
        name: generate(CLIP_DIR / f"clip-{name}.wav", seconds, 44100, "PCM_16", seed=7)
        for name, seconds in CLIPS.items()
    }
    state = machine_state(cfg)
    print(f"machine: {json.dumps(state)}", flush=True)
    alone = analysis_alone_ms(clips)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    OUT_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soundy-bench-pipeline-") as tmp:
        run = Run(cfg, Path(tmp), str(os.getpid()))
        try:
            stacks = asyncio.run(measure_all(run, clips))
        except BaseException:
            logs = OUT_DIR / f"pipeline-{stamp}-logs"
            logs.mkdir()
            for log in Path(tmp).glob("*.log"):
                shutil.copy(log, logs)
            print(f"the processes' logs are in {logs.relative_to(REPO)}", file=sys.stderr)
            raise
        finally:
            for proc in reversed(run.procs):
                run.stop(proc)
    state["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results: dict[str, Any] = {
        "config": {
            "duration_s": cfg.duration_s,
            "threads": cfg.threads,
            "connections": cfg.connections,
            "latency_jobs": cfg.latency_jobs,
            "watchers": cfg.watchers,
            "quick": cfg.quick,
            "api_processes": cfg.api_processes,
            "in_flight_limit": IN_FLIGHT_LIMIT,
        },
        "machine": state,
        "analysis_alone_ms": alone,
        "stacks": stacks,
    }
    out = OUT_DIR / f"pipeline-{stamp}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    text = report(results)
    print("\n" + text)
    out.write_text(json.dumps({**results, "report": text}, indent=2, default=str))
    print(f"\nfigures: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
