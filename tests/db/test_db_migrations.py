"""Migrations apply to an empty database, are idempotent, are safe to run concurrently, and
produce exactly the schema the models describe."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from soundy.db.migrate import run_migrations, run_migrations_async
from soundy.db.models import Base
from soundy.db.session import to_async_url


@pytest.fixture
async def empty_database_url(empty_database) -> str:
    return await empty_database()


async def _scalar(url: str, sql: str):
    engine = create_async_engine(to_async_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await engine.dispose()


async def _schema_diff(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_async_engine(to_async_url(url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync_conn: compare_metadata(
                    MigrationContext.configure(sync_conn), Base.metadata
                )
            )
    finally:
        await engine.dispose()


@pytest.mark.embedded
async def test_migrations_from_empty_match_models_and_are_idempotent(empty_database_url):
    await run_migrations_async(empty_database_url)
    assert await _scalar(empty_database_url, "SELECT version_num FROM alembic_version") == "0002"
    assert await _schema_diff(empty_database_url) == []
    await run_migrations_async(empty_database_url)  # again: nothing to do, no error
    assert await _scalar(empty_database_url, "SELECT count(*) FROM alembic_version") == 1


async def test_concurrent_migrations_do_not_collide(empty_database_url):
    await asyncio.gather(*(run_migrations_async(empty_database_url) for _ in range(3)))
    assert await _scalar(empty_database_url, "SELECT count(*) FROM jobs") == 0
    assert await _scalar(empty_database_url, "SELECT version_num FROM alembic_version") == "0002"


async def test_blocking_form_works_inside_a_running_loop(empty_database_url):
    run_migrations(empty_database_url)  # called from a coroutine: runs in its own thread
    assert await _scalar(empty_database_url, "SELECT count(*) FROM clients") == 0


async def test_indexes_for_the_queries_exist(database_url):
    names = await _scalar(
        database_url,
        "SELECT string_agg(indexname, ',') FROM pg_indexes WHERE schemaname = 'public'",
    )
    for index in ("ix_jobs_client_created", "ix_jobs_status_updated", "uploads_file_key_key"):
        assert index in names.split(",")
