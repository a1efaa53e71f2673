"""The in-flight counter of migration 0014 (client_jobs_in_flight) equals the count of each
client's pending and processing rows after every kind of change to jobs, is backfilled on the
upgrade from 0013, and goes away on the downgrade."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from soundy import jobs
from soundy.db.migrate import alembic_config, run_migrations_async
from soundy.db.session import sessionmaker, to_async_url


@pytest.fixture
async def engine(database_url) -> AsyncEngine:
    engine = create_async_engine(to_async_url(database_url), poolclass=pool.NullPool)
    yield engine
    await engine.dispose()


async def _new_client(engine: AsyncEngine) -> uuid.UUID:
    client_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO clients (id, token_hash) VALUES (:id, :hash)"),
            {"id": client_id, "hash": uuid.uuid4().hex * 2},
        )
    return client_id


async def _counter_and_rows(engine: AsyncEngine, client_id: uuid.UUID) -> tuple[int | None, int]:
    """(the counter, or None without a row; the pending and processing rows counted)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT (SELECT jobs FROM client_jobs_in_flight WHERE client_id = :c), "
                    "(SELECT count(*) FROM jobs WHERE client_id = :c "
                    "AND status IN ('pending', 'processing'))"
                ),
                {"c": client_id},
            )
        ).one()
    return row[0], int(row[1])


async def _assert_counted(engine: AsyncEngine, client_id: uuid.UUID, expected: int) -> None:
    counter, rows = await _counter_and_rows(engine, client_id)
    assert rows == expected
    assert (counter or 0) == rows


async def test_counter_follows_every_transition(engine):
    client_id, other = await _new_client(engine), await _new_client(engine)
    await _assert_counted(engine, client_id, 0)
    sessions = sessionmaker(engine)

    async def create() -> uuid.UUID:
        async with sessions() as session:
            job = await jobs.create_job(session, client_id=client_id, file_key="k", mode="genre")
            return job.id

    ids = [await create() for _ in range(5)]
    await _assert_counted(engine, client_id, 5)
    async with sessions() as session:
        assert await jobs.start_attempt(session, ids[0])  # pending -> processing
        await _assert_counted(engine, client_id, 5)
        assert await jobs.start_attempt(session, ids[0])  # processing -> processing
        assert await jobs.set_progress(session, ids[0], progress=50, stage="analysing")
        await _assert_counted(engine, client_id, 5)
        assert await jobs.complete(session, ids[0], result={"schema_version": 1})
        await _assert_counted(engine, client_id, 4)
        assert not await jobs.fail(session, ids[0], code="late", message="too late")
        await _assert_counted(engine, client_id, 4)
        assert await jobs.fail(session, ids[1], code="bad", message="pending -> failed")
        await _assert_counted(engine, client_id, 3)
        assert await jobs.start_attempt(session, ids[2])
        assert await jobs.fail(session, ids[2], code="bad", message="processing -> failed")
        await _assert_counted(engine, client_id, 2)
    async with engine.begin() as conn:
        # What no code does but an operator may: processing back to pending, a finished job
        # back in flight, a job moved to another client, jobs deleted.
        await conn.execute(text("UPDATE jobs SET status = 'processing' WHERE id = :id"),
                           {"id": ids[3]})  # fmt: skip
        await conn.execute(text("UPDATE jobs SET status = 'pending' WHERE id = :id"),
                           {"id": ids[3]})  # fmt: skip
    await _assert_counted(engine, client_id, 2)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE jobs SET status = 'pending' WHERE id = :id"),
                           {"id": ids[0]})  # fmt: skip
    await _assert_counted(engine, client_id, 3)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE jobs SET client_id = :o WHERE id = :id"),
                           {"o": other, "id": ids[0]})  # fmt: skip
    await _assert_counted(engine, client_id, 2)
    await _assert_counted(engine, other, 1)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM jobs WHERE id = ANY(:ids)"), {"ids": ids[1:4]})
    await _assert_counted(engine, client_id, 1)  # ids[4] is left; ids[1], ids[2] were failed
    async with engine.begin() as conn:
        # A rolled back insert counts nothing.
        await conn.execute(
            text("INSERT INTO jobs (id, client_id, file_key, mode) VALUES (:id, :c, 'k', 'genre')"),
            {"id": uuid.uuid4(), "c": client_id},
        )
        await conn.rollback()
    await _assert_counted(engine, client_id, 1)


async def test_deleting_a_client_cascades_through_the_counter(engine):
    client_id = await _new_client(engine)
    async with engine.begin() as conn:
        for status in ("pending", "processing", "completed"):
            await conn.execute(
                text(
                    "INSERT INTO jobs (id, client_id, file_key, mode, status) "
                    "VALUES (:id, :c, 'k', 'genre', :s)"
                ),
                {"id": uuid.uuid4(), "c": client_id, "s": status},
            )
    await _assert_counted(engine, client_id, 2)
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM clients WHERE id = :c"), {"c": client_id})
    assert await _counter_and_rows(engine, client_id) == (None, 0)


async def test_concurrent_inserts_and_endings_of_one_client_keep_the_count(engine):
    """POSTs (soundy_create_job, the client's lock) and workers' endings of the same client's
    jobs at once: no deadlock, no lost update, and the limit holds."""
    client_id = await _new_client(engine)
    sessions = sessionmaker(engine)
    async with sessions() as session:
        first = [
            (await jobs.create_job(session, client_id=client_id, file_key="k", mode="genre")).id
            for _ in range(10)
        ]
    limit = 14

    async def post() -> bool:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT created_at FROM soundy_create_job(:id, :c, NULL, 'k', 'genre', "
                        "NULL, NULL, 'master', NULL, NULL, NULL, false, now(), NULL, :limit)"
                    ),
                    {"id": uuid.uuid4(), "c": client_id, "limit": limit},
                )
            ).one()
            await conn.commit()
        return row[0] is not None

    async def end(job_id: uuid.UUID) -> None:
        async with sessions() as session:
            assert await jobs.start_attempt(session, job_id)
            assert await jobs.complete(session, job_id, result={"schema_version": 1})

    results = await asyncio.gather(*(post() for _ in range(12)), *(end(j) for j in first[:6]))
    created = sum(1 for r in results[:12] if r)
    # Between 4 (all POSTs before any ending) and 10 (all endings first) got in, never more.
    assert 4 <= created <= 10
    counter, rows = await _counter_and_rows(engine, client_id)
    assert counter == rows == 10 - 6 + created <= limit


async def test_upgrade_from_0013_backfills_and_downgrade_restores_the_count(empty_database):
    from alembic import command

    url = await empty_database()
    await run_migrations_async(url, revision="0013")
    engine = create_async_engine(to_async_url(url), poolclass=pool.NullPool)
    try:
        busy, finished, idle = [await _new_client(engine) for _ in range(3)]
        statuses = {busy: ["pending", "pending", "processing", "completed", "failed"],
                    finished: ["completed", "failed"], idle: []}  # fmt: skip
        async with engine.begin() as conn:
            for client_id, of_client in statuses.items():
                for status in of_client:
                    await conn.execute(
                        text(
                            "INSERT INTO jobs (id, client_id, file_key, mode, status) "
                            "VALUES (:id, :c, 'k', 'genre', :s)"
                        ),
                        {"id": uuid.uuid4(), "c": client_id, "s": status},
                    )
        await run_migrations_async(url)
        assert await _counter_and_rows(engine, busy) == (3, 3)
        assert await _counter_and_rows(engine, finished) == (None, 0)
        assert await _counter_and_rows(engine, idle) == (None, 0)

        await asyncio.to_thread(command.downgrade, alembic_config(url), "0013")
        async with engine.connect() as conn:
            gone = await conn.execute(
                text(
                    "SELECT to_regclass('client_jobs_in_flight'), "
                    "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'jobs_in_flight_%'), "
                    "(SELECT prosrc LIKE '%status IN%' FROM pg_proc "
                    " WHERE proname = 'soundy_create_job')"
                )
            )
            assert tuple(gone.one()) == (None, 0, True)  # 0013's count is back
            # 0013's function still refuses at the limit: busy has 3 in flight.
            refused = await conn.execute(
                text(
                    "SELECT in_flight, created_at FROM soundy_create_job(:id, :c, NULL, 'k', "
                    "'genre', NULL, NULL, 'master', NULL, NULL, NULL, false, now(), NULL, 3)"
                ),
                {"id": uuid.uuid4(), "c": busy},
            )
            assert tuple(refused.one()) == (3, None)
        await run_migrations_async(url)  # and up again: backfilled again
        assert await _counter_and_rows(engine, busy) == (3, 3)
    finally:
        await engine.dispose()
