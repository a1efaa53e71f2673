"""CPU per ``GET /api/jobs/{id}`` in the API process alone (issue 10's reads).

Run: ``.venv/bin/python bench/api_get_cpu.py [--seconds 5] [--connections 32] [--processes N]
[--repeat 3]``.

``soundy api`` (at default settings but for the lifted per-client limits, as in
``bench/pipeline.py``) on the machine's PostgreSQL (a database of its own, dropped at the end)
and Redis (DB 12, a key prefix of its own). One client and one completed job whose result is
the measurements of ``bench/pipeline.py``'s 10 s clip, written into the row as a worker would.
wrk (``bench/wrk/request.lua``) reads the job for 1 s (warm-up), then for ``--seconds``; the API's
CPU seconds (user + system, psutil, the process and its children) over that run, divided by the
requests wrk counted, is the figure. It depends less on other work than the rate does (printed
too, with the machine's busy cores and load average), but not nothing: on a loaded machine the
API serves fewer requests per event-loop wake-up, on colder caches, and each costs more. Compare
two versions in turns on the same machine (``PYTHONPATH=<other tree>/src`` runs another
version's API). Also printed: the new PostgreSQL sessions in the run
(``pg_stat_database.sessions``), which show a pool that opens connections per request.

``--callgrind N`` instead counts the API process's instructions per GET under valgrind, one
GET at a time after 100 of warm-up, as ``bench/api_post_cpu.py --callgrind`` does for POST
(repeatable on a shared machine; one process, whatever ``--processes`` says).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from pipeline import (
    CLIP_DIR,
    SOUNDY,
    WRK_SCRIPT,
    base_env,
    callgrind_per_call,
    create_database,
    drop_database,
    free_port,
    generate,
    tree,
    under_callgrind,
    with_db,
)
from soundy.analysis.measure import measure_file


async def _setup(db_url: str) -> tuple[str, uuid.UUID]:
    """A client (its token) and its completed job of the 10 s clip."""
    clip = generate(CLIP_DIR / "clip-10s.wav", 10.0, 44100, "PCM_16", seed=7)
    measurements = measure_file(clip, max_duration_s=600)
    token = secrets.token_urlsafe(32)
    client_id, job_id = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "INSERT INTO clients (id, token_hash, is_key) VALUES ($1, $2, false)",
            client_id,
            hashlib.sha256(token.encode()).hexdigest(),
        )
        await conn.execute(
            "INSERT INTO jobs (id, client_id, file_key, mode, status, progress, stage, attempts,"
            " result, created_at, updated_at, started_at, finished_at) VALUES ($1, $2,"
            " 'uploads/bench/clip-10s.wav', 'genre', 'completed', 100, 'done', 1, $3::jsonb,"
            " now(), now(), now(), now())",
            job_id,
            client_id,
            json.dumps(measurements),
        )
    finally:
        await conn.close()
    return token, job_id


def _wrk(base_url: str, path: str, token: str, seconds: int, connections: int) -> dict[str, Any]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    argv += [
        "-s",
        str(WRK_SCRIPT),
        base_url,
        "--",
        "GET",
        path,
        "",
        f"Authorization: Bearer {token}",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
    return result


def _busy_s(times: Any) -> float:
    return float(times.user + times.system + times.nice + times.irq + times.softirq)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", type=int, default=None, help="SOUNDY_API_PROCESSES")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--callgrind", type=int, default=0, metavar="N", help="count instructions over N GETs"
    )
    parser.add_argument("--pg-url", default="postgresql://root@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    tag = str(os.getpid())
    dbname = f"soundy_get_cpu_{tag}"
    db_url = with_db(args.pg_url, dbname)
    await create_database(args.pg_url, dbname)
    api: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="soundy-get-cpu-") as tmp:
        try:
            env = base_env()
            env.update(
                SOUNDY_DATABASE_URL=db_url,
                SOUNDY_REDIS_URL=args.redis_url,
                SOUNDY_QUEUE_PREFIX=f"getcpu{tag}",
                SOUNDY_DATA_DIR=tmp,
                SOUNDY_STORAGE_URL=(Path(tmp) / "files").as_uri(),
                SOUNDY_SECRET_KEY=secrets.token_urlsafe(32),
                SOUNDY_DEFAULT_PLAN="unlimited",
                SOUNDY_REQUESTS_PER_CLIENT_PER_MINUTE=str(10**9),
                SOUNDY_LOG_LEVEL="WARNING",
            )
            if args.processes is not None:
                env["SOUNDY_API_PROCESSES"] = str(args.processes)
            subprocess.run([str(SOUNDY), "migrate"], env=env, check=True, capture_output=True)
            token, job_id = await _setup(db_url)
            port = free_port()
            argv = [str(SOUNDY), "api", "--port", str(port)]
            if args.callgrind:
                env.pop("SOUNDY_API_PROCESSES", None)
                argv = under_callgrind(argv, Path(tmp))
            api = subprocess.Popen(argv, env=env)
            base_url, path = f"http://127.0.0.1:{port}", f"/api/jobs/{job_id}"
            # No Accept-Encoding, as wrk sends none (httpx would ask for gzip).
            headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
            async with httpx.AsyncClient(base_url=base_url, timeout=120.0) as http:
                for _ in range(6000 if args.callgrind else 600):
                    try:
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.1)
                first = await http.get(path, headers=headers)
                first.raise_for_status()
                print(f"body: {len(first.content)} bytes", flush=True)
                if args.callgrind:

                    async def get() -> None:
                        (await http.get(path, headers=headers)).raise_for_status()

                    per_get = await callgrind_per_call(api.pid, Path(tmp), get, args.callgrind)
                    print(json.dumps({"gets": args.callgrind, "instructions_per_get": per_get}))
                    return
            _wrk(base_url, path, token, 1, args.connections)
            stats = await asyncpg.connect(args.pg_url)
            sessions = "SELECT sessions FROM pg_stat_database WHERE datname = $1"
            for _ in range(args.repeat):
                procs = tree(psutil.Process(api.pid))
                cpu0 = sum(sum(p.cpu_times()[:2]) for p in procs)
                sessions0, busy0, t0 = (
                    await stats.fetchval(sessions, dbname),
                    psutil.cpu_times(),
                    time.monotonic(),
                )
                raw = await asyncio.to_thread(
                    _wrk, base_url, path, token, args.seconds, args.connections
                )
                cpu1 = sum(sum(p.cpu_times()[:2]) for p in procs)
                busy1, t1 = psutil.cpu_times(), time.monotonic()
                await asyncio.sleep(0.6)  # PostgreSQL publishes its statistics every 0.5 s
                new_sessions = await stats.fetchval(sessions, dbname) - sessions0
                n = max(1, raw["requests"])
                busy_cores = (_busy_s(busy1) - _busy_s(busy0)) / (t1 - t0)
                print(
                    json.dumps(
                        {
                            "api_cpu_ms_per_get": round((cpu1 - cpu0) * 1000 / n, 3),
                            "requests": raw["requests"],
                            "req_per_s": round(n / (raw["duration_us"] / 1e6), 1),
                            "p50_ms": raw["latency_us"]["p50"] / 1000,
                            "p99_ms": raw["latency_us"]["p99"] / 1000,
                            "non_2xx": raw["errors"]["status"],
                            "new_pg_sessions": new_sessions,
                            "machine_busy_cores": round(busy_cores, 2),
                            "load_average": [round(x, 2) for x in os.getloadavg()],
                        }
                    ),
                    flush=True,
                )
            await stats.close()
        finally:
            if api is not None:
                api.terminate()
                api.wait(30)
            await drop_database(args.pg_url, dbname)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
