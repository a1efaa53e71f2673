"""Embedded services: real PostgreSQL and Redis under the data dir, data kept across a restart,
nothing left running after stop()."""

from __future__ import annotations

import asyncio

import psutil
import pytest

from soundy.config import Settings
from soundy.db.migrate import run_migrations_async
from soundy.embedded import start_embedded


def _running_under(path: str) -> list[psutil.Process]:
    """Servers whose command line or working directory is under ``path`` (redis-server
    rewrites its title, and PostgreSQL's children are named by role; both run in their data
    directory)."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "cwd"]):
        info = process.info
        if info["name"] not in ("postgres", "redis-server"):
            continue
        cmdline = " ".join(info["cmdline"] or [])
        if path in cmdline or (info["cwd"] or "").startswith(path):
            found.append(process)
    return found


@pytest.mark.embedded
async def test_embedded_services_persist_across_restart_and_stop_cleanly(private_tmp_dir):
    await _persist_and_stop(private_tmp_dir)


async def _persist_and_stop(tmp_path) -> None:
    import redis.asyncio as aioredis
    from sqlalchemy import text

    from soundy.db.session import create_engine

    settings = Settings(data_dir=tmp_path / "data", database_url=None, redis_url=None)

    services = await asyncio.to_thread(start_embedded, settings)
    try:
        assert services.database_url and services.redis_url
        assert services.env() == {
            "SOUNDY_DATABASE_URL": services.database_url,
            "SOUNDY_REDIS_URL": services.redis_url,
        }
        await run_migrations_async(services.database_url)
        engine = create_engine(services.database_url)
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO clients (id, token_hash) VALUES (gen_random_uuid(), 'abc')")
            )
        await engine.dispose()
        client = aioredis.Redis.from_url(services.redis_url)
        await client.set("kept", "yes")
        await client.aclose()
    finally:
        await asyncio.to_thread(services.stop)
    assert _running_under(str(tmp_path)) == []

    count, kept = await _restart_and_read(
        settings, "SELECT count(*) FROM clients WHERE token_hash = 'abc'", "kept"
    )
    assert count == 1
    assert kept == b"yes"
    assert _running_under(str(tmp_path)) == []


async def _restart_and_read(settings: Settings, sql: str, redis_key: str) -> tuple[object, object]:
    """Start the embedded services again, read one SQL value and one Redis key, stop them."""
    import redis.asyncio as aioredis
    from sqlalchemy import text

    from soundy.db.session import create_engine

    services = await asyncio.to_thread(start_embedded, settings)
    try:
        engine = create_engine(services.database_url)
        async with engine.connect() as conn:
            value = (await conn.execute(text(sql))).scalar()
        await engine.dispose()
        client = aioredis.Redis.from_url(services.redis_url)
        kept = await client.get(redis_key)
        await client.aclose()
    finally:
        await asyncio.to_thread(services.stop)
    return value, kept


async def test_configured_urls_start_nothing(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql://u@127.0.0.1:5432/x",
        redis_url="redis://127.0.0.1:6379/0",
    )
    services = start_embedded(settings)
    assert (services.postgres, services.redis, services.urls()) == (None, None, {})
    services.stop()


def test_redis_of_a_killed_parent_goes_away_and_a_live_one_is_not_taken_over(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from soundy.embedded import EmbeddedRedis

    directory = tmp_path / "redis"
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from soundy.embedded import EmbeddedRedis; "
            f"EmbeddedRedis({str(directory)!r}).start(); print('up', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "up"
        # Another process's live server is refused, not killed.
        with pytest.raises(RuntimeError, match="in use"):
            EmbeddedRedis(directory).start()
        assert _running_under(str(directory)) != []
        # Its owner is SIGKILLed: the server goes with it (parent-death signal).
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        deadline = time.monotonic() + 10
        while _running_under(str(directory)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _running_under(str(directory)) == []
        server = EmbeddedRedis(directory)
        server.start()
        server.stop()
    finally:
        owner.kill()
        owner.wait(10)
    assert _running_under(str(directory)) == []


@pytest.mark.embedded
async def test_hung_servers_are_killed_within_the_stop_budget_and_keep_their_data(
    private_tmp_dir,
):
    """`soundy serve` promises to stop within 20 s: a PostgreSQL or Redis that does not stop
    (here both are SIGSTOPped) is killed when the time given to stop() runs out, both at once,
    and what they had committed or written is still there after the next start."""
    import signal
    import time

    import redis.asyncio as aioredis
    from sqlalchemy import text

    from soundy.db.session import create_engine

    settings = Settings(data_dir=private_tmp_dir / "data", database_url=None, redis_url=None)
    services = await asyncio.to_thread(start_embedded, settings)
    assert services.postgres is not None and services.redis is not None
    try:
        engine = create_engine(services.database_url)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE kept (v text)"))
            await conn.execute(text("INSERT INTO kept VALUES ('committed')"))
        await engine.dispose()
        client = aioredis.Redis.from_url(services.redis_url)
        await client.set("kept", "written")
        await client.aclose()
        await asyncio.sleep(1.2)  # the append-only file is written within a second
        servers = _running_under(str(private_tmp_dir))
        assert {p.name() for p in servers} == {"postgres", "redis-server"}
        for process in servers:
            process.send_signal(signal.SIGSTOP)
    finally:
        started_s = time.monotonic()
        await asyncio.to_thread(services.stop, 3.0)
        elapsed_s = time.monotonic() - started_s
    assert elapsed_s < 5.0
    deadline = time.monotonic() + 5
    while _running_under(str(private_tmp_dir)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # backends notice their postmaster is gone
    assert _running_under(str(private_tmp_dir)) == []

    value, kept = await _restart_and_read(settings, "SELECT v FROM kept", "kept")
    assert (value, kept) == ("committed", b"written")
    assert _running_under(str(private_tmp_dir)) == []
