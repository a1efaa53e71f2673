"""Fixtures for the browser tests: a real Soundy (``soundy api`` + ``soundy worker`` processes on
the test PostgreSQL server, in a database of their own, and Redis) and Debian's Chromium driven
by Playwright.

- ``web_server``: module-scoped; base URL of a running API with one worker; its admin token
  is the ``web_admin_token`` fixture. Both processes are stopped (SIGTERM) at the end of the module.
- ``browser``: module-scoped headless Chromium (``/usr/bin/chromium``; Playwright's own browser
  download is never used).
- ``open_page``: ``page, problems = await open_page(context)`` -> a page whose uncaught errors
  and console errors are collected in ``problems``.
- ``sine_wav`` / ``corrupt_file``: a generated stereo 1 kHz sine (48 kHz, 24-bit, -20 dBFS peak
  per channel) and a text file named like a WAV.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

WEB_ADMIN_TOKEN = "web-test-admin-token"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Per-channel peak of the test sine (dBFS) and its frequency (Hz): it reads
# SINE_PEAK_DBFS + G_K(1 kHz) - 0.691 = -19.99 LUFS (BS.1770 at 48 kHz;
# docs/architecture.md#measurement-facts-the-code-cites).
SINE_PEAK_DBFS = -20.0
SINE_HZ = 1000.0
SINE_RATE_HZ = 48_000
SINE_DURATION_S = 8.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _soundy() -> str:
    found = shutil.which("soundy", path=str(Path(sys.executable).parent))
    assert found, "the soundy command is not installed next to this Python"
    return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# Log files of the running web_server processes, shown with any failing test that used them.
_SERVER_LOGS: dict[str, Path] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and "web_server" in getattr(item, "fixturenames", ()):
        for name, path in _SERVER_LOGS.items():
            report.sections.append((f"soundy {name} log (last lines)", _tail(path)))
    return report


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def _execute_autocommit(url: str, statement: str) -> None:
    from sqlalchemy import pool, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from soundy.db.session import to_async_url

    engine = create_async_engine(
        to_async_url(url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def web_database_url(_postgres_server_url: str) -> AsyncIterator[str]:
    """A database of the browser tests' own (migrated; dropped at the end): the worker's
    reconciler then sees only these tests' jobs, never the pending rows other tests leave."""
    from sqlalchemy.engine import make_url

    from soundy.db.migrate import run_migrations_async
    from soundy.db.session import to_async_url

    name = f"soundy_web_{uuid.uuid4().hex[:12]}"
    await _execute_autocommit(_postgres_server_url, f'CREATE DATABASE "{name}"')
    url = (
        make_url(to_async_url(_postgres_server_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    try:
        await run_migrations_async(url)
        yield url
    finally:
        await _execute_autocommit(
            _postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )


@pytest.fixture(scope="module")
def web_server_env() -> dict[str, str]:
    """Environment variables a test module sets for its ``web_server`` processes (overridden
    by the module that needs them, e.g. a ``PATH`` without ffmpeg)."""
    return {}


@pytest.fixture(scope="module")
def web_server(
    web_database_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    web_server_env: dict[str, str],
) -> Iterator[str]:
    """``soundy api`` and ``soundy worker`` as real processes; yields the base URL."""
    import httpx

    root = tmp_path_factory.mktemp("web")
    data_dir = root / "data"
    data_dir.mkdir()
    port = _free_port()
    prefix = f"webtest{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "SOUNDY_DATABASE_URL": web_database_url,
            "SOUNDY_REDIS_URL": redis_url,
            "SOUNDY_DATA_DIR": str(data_dir),
            "SOUNDY_STORAGE_URL": (data_dir / "files").as_uri(),
            "SOUNDY_QUEUE_PREFIX": prefix,
            "SOUNDY_SECRET_KEY": "web-test-secret",
            "SOUNDY_ADMIN_TOKEN": WEB_ADMIN_TOKEN,
            # The page's tests analyse several files per client; the quota test puts its
            # client on a plan of its own.
            "SOUNDY_DEFAULT_PLAN": "unlimited",
            "SOUNDY_HOST": "127.0.0.1",
            "SOUNDY_PORT": str(port),
            "SOUNDY_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(web_server_env)
    logs = {name: root / f"{name}.log" for name in ("api", "worker")}
    _SERVER_LOGS.update(logs)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name, args in (("api", ["api"]), ("worker", ["worker", "--concurrency", "1"])):
            with logs[name].open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [_soundy(), *args], env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            for proc, name in zip(procs, logs, strict=True):
                if proc.poll() is not None:
                    pytest.fail(f"soundy {name} exited early:\n{_tail(logs[name])}")
            try:
                if httpx.get(base_url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the API did not become ready:\n{_tail(logs['api'])}")
            time.sleep(0.2)
        yield base_url
    finally:
        for proc in procs:
            _stop(proc)
        _drop_keys(redis_url, prefix)
        _SERVER_LOGS.clear()


def _drop_keys(url: str, prefix: str) -> None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
    except redis.RedisError:
        pass


@pytest.fixture
def web_admin_token() -> str:
    """The SOUNDY_ADMIN_TOKEN of ``web_server``."""
    return WEB_ADMIN_TOKEN


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-browser (Debian's chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
def open_page() -> Callable[[Any], Awaitable[tuple[Any, list[str]]]]:
    """``page, problems = await open_page(context)``: uncaught page errors and console errors
    of that page end up in ``problems``."""

    async def _open(context: Any) -> tuple[Any, list[str]]:
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"console: {message.text}") if message.type == "error" else None
            ),
        )
        return page, problems

    return _open


@pytest.fixture(scope="module")
def sine_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import numpy as np
    import soundfile as sf

    path = tmp_path_factory.mktemp("audio") / "sine-1k.wav"
    t_s = np.arange(int(SINE_RATE_HZ * SINE_DURATION_S)) / SINE_RATE_HZ
    peak = 10 ** (SINE_PEAK_DBFS / 20)
    mono = peak * np.sin(2 * np.pi * SINE_HZ * t_s)
    sf.write(path, np.stack([mono, mono], axis=1), SINE_RATE_HZ, subtype="PCM_24")
    return path


@pytest.fixture(scope="module")
def louder_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same sine 6 dB louder (-14 dBFS peak per channel: -13.99 LUFS)."""
    import numpy as np
    import soundfile as sf

    path = tmp_path_factory.mktemp("audio") / "sine-1k-louder.wav"
    t_s = np.arange(int(SINE_RATE_HZ * SINE_DURATION_S)) / SINE_RATE_HZ
    peak = 10 ** ((SINE_PEAK_DBFS + 6.0) / 20)
    mono = peak * np.sin(2 * np.pi * SINE_HZ * t_s)
    sf.write(path, np.stack([mono, mono], axis=1), SINE_RATE_HZ, subtype="PCM_24")
    return path


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes of stereo noise (44.1 kHz, 16-bit, about 21 MB): long enough to watch."""
    import numpy as np
    import soundfile as sf

    path = tmp_path_factory.mktemp("audio") / "long-noise.wav"
    rng = np.random.default_rng(7)
    noise = 0.2 * rng.standard_normal((44_100 * 120, 2))
    sf.write(path, noise.astype(np.float32), 44_100, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def corrupt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "notes.wav"
    path.write_bytes(b"these are my session notes, not audio\n" * 200)
    return path
