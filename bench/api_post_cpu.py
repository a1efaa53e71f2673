"""CPU time per ``POST /api/audio/analyze`` in one ``soundy api`` process under wrk load.

The machine is shared, so wall-clock rates are noisy; the API process's own CPU time (user +
system from ``/proc/<pid>/stat``) per request is the steadier figure. Each round starts a fresh
``soundy api`` (no worker: the jobs stay pending, as in the first seconds of a load run) on its
own database of the machine's PostgreSQL and its own Redis key prefix, makes a client and an
upload, and after a 1 s warm-up (the pools open their connections) runs ``wrk -t2 -cC -dDs``
with ``bench/wrk/request.lua`` on POST of that upload, with the body ``bench/pipeline.py``
sends. ``--src`` runs another checkout's ``src`` (e.g. a ``git worktree`` of an older commit)
in the same way, for a before/after on the same load::

    .venv/bin/python bench/api_post_cpu.py [--duration 8] [--connections 32] [--rounds 2]
        [--src /path/to/other/checkout/src] [--pyspy out.txt]

It prints one JSON line per round (requests, req/s, API CPU ms per POST, p50/p99, load
average) and drops its database and keys at the end. ``--pyspy`` records the last round with
py-spy (``pip install py-spy``) as collapsed stacks.

``--callgrind N`` instead counts instructions, which other work on the machine does not
change: the API runs under valgrind (``--tool=callgrind --instr-atstart=no``, user space
only), serves 100 POSTs one at a time to warm up, then N more one at a time with counting on,
and the round prints the API process's instructions per POST (repeatable within about 0.5 %
for the same tree; compare trees with ``--src``; ``BENCH_CALLGRIND_KEEP=<file>`` keeps the dump
for ``callgrind_annotate``). One client at a time, so the event loop's batching of concurrent
requests is not in it. ``bench/api_get_cpu.py --callgrind N`` does the same for GET.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import psutil

from pipeline import (
    DESTINATION,
    GENRE,
    IN_FLIGHT_LIMIT,
    SOUNDY,
    WRK_SCRIPT,
    base_env,
    callgrind_per_call,
    create_database,
    delete_keys,
    drop_database,
    free_port,
    machine_postmaster,
    machine_redis,
    postgres_groups,
    under_callgrind,
    with_db,
)


def cpu_s(process: psutil.Process) -> float:
    """User + system CPU seconds of ``process`` (0 once it has ended)."""
    try:
        times = process.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


async def _wait_ready(
    http: httpx.AsyncClient, api: subprocess.Popen[bytes], timeout_s: float = 30.0
) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if api.poll() is not None:
            raise RuntimeError(f"soundy api exited ({api.returncode})")
        try:
            if (await http.get("/healthz")).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"soundy api did not answer within {timeout_s:.0f} s")


async def _client_and_upload(http: httpx.AsyncClient) -> tuple[str, str]:
    """A new client's token and the file key of an upload of it (a 2 kB file)."""
    token = str((await http.post("/api/clients")).json()["token"])
    headers = {"Authorization": f"Bearer {token}"}
    data = b"RIFF" + os.urandom(2000)
    announced = await http.post(
        "/api/uploads", headers=headers, json={"filename": "a.wav", "size": len(data)}
    )
    announced.raise_for_status()
    upload = announced.json()
    put = await http.put(upload["upload_url"], content=data, headers=upload["headers"])
    put.raise_for_status()
    return token, str(upload["file_key"])


def _wrk(base_url: str, token: str, body: str, duration_s: int, connections: int) -> Any:
    argv = [
        "wrk", "-t2", f"-c{connections}", f"-d{duration_s}s", "--timeout", "10s",
        "-s", str(WRK_SCRIPT), base_url, "--", "POST", "/api/audio/analyze", body,
        f"Authorization: Bearer {token}", "Content-Type: application/json",
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])


async def _count(
    n: int, http: httpx.AsyncClient, pid: int, token: str, body: str, tmp: Path
) -> dict[str, int]:
    """The API's instructions per POST over ``n`` POSTs one at a time, after 100 of warm-up."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def post() -> None:
        answer = await http.post("/api/audio/analyze", content=body, headers=headers)
        answer.raise_for_status()

    return {"posts": n, "instructions_per_post": await callgrind_per_call(pid, tmp, post, n)}


async def one_round(args: argparse.Namespace, pyspy: str | None) -> dict[str, Any]:
    dbname = f"soundy_bench_{os.getpid()}_cpu"
    await create_database(args.pg_url, dbname)
    prefix = f"soundy-bench-cpu-{os.getpid()}"
    tmp = Path(tempfile.mkdtemp(prefix="soundy-api-cpu-"))
    port = free_port()
    env = base_env()
    env.update(
        SOUNDY_DATABASE_URL=with_db(args.pg_url, dbname),
        SOUNDY_REDIS_URL=args.redis_url,
        SOUNDY_QUEUE_PREFIX=prefix,
        SOUNDY_DATA_DIR=str(tmp),
        SOUNDY_STORAGE_URL=(tmp / "files").as_uri(),
        SOUNDY_SECRET_KEY=secrets.token_urlsafe(32),
        # As bench/pipeline.py: one load client, its limits lifted, every check still run.
        SOUNDY_MAX_JOBS_IN_FLIGHT_PER_CLIENT=str(IN_FLIGHT_LIMIT),
        SOUNDY_DEFAULT_PLAN="unlimited",
        SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE=str(10**9),
        SOUNDY_LOG_LEVEL="WARNING",
    )
    if args.src:
        env["PYTHONPATH"] = args.src
    api: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([str(SOUNDY), "migrate"], env=env, check=True, capture_output=True)
        log = (tmp / "api.log").open("wb")
        argv = [str(SOUNDY), "api", "--port", str(port)]
        if args.callgrind:
            argv = under_callgrind(argv, tmp)
        api = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=120.0) as http:
            await _wait_ready(http, api, timeout_s=600.0 if args.callgrind else 30.0)
            token, file_key = await _client_and_upload(http)
            body = json.dumps(
                {"file_key": file_key, "mode": "genre", "genre": GENRE, "destination": DESTINATION}
            )
            if args.callgrind:
                return await _count(args.callgrind, http, api.pid, token, body, tmp)
        # A 1 s warm-up at the same concurrency: the pools open their connections, statements
        # are prepared (a fresh process pays that once, not per request).
        _wrk(base_url, token, body, 1, args.connections)
        spy = None
        if pyspy:
            spy = subprocess.Popen(
                ["py-spy", "record", "-p", str(api.pid), "-o", pyspy, "-f", "raw", "-r", "200",
                 "-d", str(args.duration + 1), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        postmaster = await machine_postmaster(args.pg_url)
        servers = [
            *(p for group in postgres_groups(postmaster, dbname, "pg").values() for p in group),
            machine_redis(args.redis_url),
        ]
        api_process = psutil.Process(api.pid)
        before_s = cpu_s(api_process)
        servers_before_s = [cpu_s(p) for p in servers]
        raw = _wrk(base_url, token, body, args.duration, args.connections)
        used_s = cpu_s(api_process) - before_s
        servers_s = [cpu_s(p) - b for p, b in zip(servers, servers_before_s, strict=True)]
        if spy is not None:
            spy.wait()
        requests = int(raw["requests"])
        return {
            "requests": requests,
            "rps": round(requests / (raw["duration_us"] / 1e6), 1),
            "non_2xx": raw["errors"]["status"],
            "api_cpu_ms_per_post": round(used_s * 1000 / max(1, requests), 3),
            # PostgreSQL's (the bench database's backends and the server's own processes) and
            # Redis's CPU in the same time: other work on the machine's servers counts in.
            "pg_cpu_ms_per_post": round(sum(servers_s[:-1]) * 1000 / max(1, requests), 3),
            "redis_cpu_ms_per_post": round(servers_s[-1] * 1000 / max(1, requests), 3),
            "p50_ms": round(raw["latency_us"]["p50"] / 1000, 1),
            "p99_ms": round(raw["latency_us"]["p99"] / 1000, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=30)
        await drop_database(args.pg_url, dbname)
        delete_keys(args.redis_url, prefix)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds of wrk per round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--src", help="PYTHONPATH for soundy (another checkout's src)")
    parser.add_argument("--pyspy", help="record the last round with py-spy to this file")
    parser.add_argument(
        "--callgrind", type=int, default=0, metavar="N", help="count instructions over N POSTs"
    )
    parser.add_argument("--pg-url", default="postgresql://root@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    args = parser.parse_args()
    for index in range(args.rounds):
        pyspy = args.pyspy if index == args.rounds - 1 else None
        print(json.dumps(await one_round(args, pyspy)), flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
