"""Migrations apply to an empty database, are idempotent, are safe to run concurrently, and
produce exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from soundy.db.migrate import run_migrations, run_migrations_async
from soundy.db.models import Base
from soundy.db.session import to_async_url

HEAD = "0014"


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
    assert await _scalar(empty_database_url, "SELECT version_num FROM alembic_version") == HEAD
    assert await _schema_diff(empty_database_url) == []
    await run_migrations_async(empty_database_url)  # again: nothing to do, no error
    assert await _scalar(empty_database_url, "SELECT count(*) FROM alembic_version") == 1


async def test_concurrent_migrations_do_not_collide(empty_database_url):
    await asyncio.gather(*(run_migrations_async(empty_database_url) for _ in range(3)))
    assert await _scalar(empty_database_url, "SELECT count(*) FROM jobs") == 0
    assert await _scalar(empty_database_url, "SELECT version_num FROM alembic_version") == HEAD


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


async def _execute(url: str, sql: str, **params) -> None:
    engine = create_async_engine(to_async_url(url), poolclass=pool.NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql), params)
    finally:
        await engine.dispose()


async def _stored_result(url: str, job_id: uuid.UUID) -> dict:
    raw = await _scalar(url, f"SELECT result::text FROM jobs WHERE id = '{job_id}'")
    return json.loads(raw)


async def test_0003_converts_stored_results_to_the_one_range_shape(
    empty_database_url, analysis_result
):
    """A result stored before 0003 (bands as target_db/min_db/max_db, stage "pre-master mix")
    reads as the contract after it, and the downgrade gives the stored document back."""
    url = empty_database_url
    await run_migrations_async(url, revision="0002")
    new_bands = [
        {"key": "sub", "target": -11.0, "target_min": -16.0, "target_max": -6.0},
        {"key": "air", "target": -27.0, "target_min": -33.0, "target_max": None},
    ]
    old = json.loads(json.dumps(analysis_result))
    old["targets"] = {**old["targets"], "stage": "pre-master mix", "bands": [
        {"key": b["key"], "target_db": b["target"], "min_db": b["target_min"],
         "max_db": b["target_max"]} for b in new_bands]}  # fmt: skip
    client_id, job_id, plain_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await _execute(url, "INSERT INTO clients (id, token_hash) VALUES (:id, :hash)",
                   id=client_id, hash="h" * 64)  # fmt: skip
    for id_, result in ((job_id, old), (plain_id, analysis_result)):
        await _execute(
            url,
            "INSERT INTO jobs (id, client_id, file_key, mode, status, result) "
            "VALUES (:id, :client, 'k', 'genre', 'completed', CAST(:result AS jsonb))",
            id=id_, client=client_id, result=json.dumps(result),
        )  # fmt: skip

    await run_migrations_async(url, revision="0003")
    converted = await _stored_result(url, job_id)
    assert converted["targets"]["bands"] == new_bands
    assert converted["targets"]["stage"] == "mix"
    rest = {k: v for k, v in converted.items() if k != "targets"}
    assert rest == {k: v for k, v in old.items() if k != "targets"}
    # A result already in the new shape is left as it was.
    assert await _stored_result(url, plain_id) == json.loads(json.dumps(analysis_result))

    await run_migrations_async(url, revision="0003")  # idempotent
    assert await _stored_result(url, job_id) == converted

    from alembic import command

    from soundy.db.migrate import alembic_config

    await asyncio.to_thread(command.downgrade, alembic_config(url), "0002")
    assert await _stored_result(url, job_id) == old


async def test_0004_keeps_the_measurements_and_drops_the_frozen_comparison(
    empty_database_url, analysis_result
):
    """After 0004 a job stores its measurements only (the comparison is derived on read)."""
    url = empty_database_url
    await run_migrations_async(url, revision="0003")
    client_id, job_id = uuid.uuid4(), uuid.uuid4()
    await _execute(url, "INSERT INTO clients (id, token_hash) VALUES (:id, :hash)",
                   id=client_id, hash="h" * 64)  # fmt: skip
    await _execute(
        url,
        "INSERT INTO jobs (id, client_id, file_key, mode, status, result) "
        "VALUES (:id, :client, 'k', 'genre', 'completed', CAST(:result AS jsonb))",
        id=job_id, client=client_id, result=json.dumps(analysis_result),
    )  # fmt: skip
    await run_migrations_async(url)
    stored = await _stored_result(url, job_id)
    comparison = {"targets", "score", "suggestions", "normalization", "nearest_genres", "reference"}
    assert set(stored) == set(analysis_result) - comparison
    assert stored == {
        k: v for k, v in json.loads(json.dumps(analysis_result)).items() if k in stored
    }
