"""Job transitions are conditional: a duplicate or late worker never overwrites a finished job,
status never moves backwards, progress never decreases
(docs/architecture.md#states-and-transitions)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from soundy import jobs
from soundy.db.models import Client
from soundy.db.session import create_engine, sessionmaker
from soundy.jobs import JobStatus


@pytest.fixture
async def job_id(db_session) -> uuid.UUID:
    client = Client(id=uuid.uuid4(), token_hash=uuid.uuid4().hex + uuid.uuid4().hex)
    db_session.add(client)
    await db_session.commit()
    job = await jobs.create_job(
        db_session, client_id=client.id, file_key=f"uploads/x/{uuid.uuid4()}/a.wav", mode="genre"
    )
    return job.id


@pytest.fixture
async def sessions(database_url):
    """A factory of independent sessions (separate connections), as separate workers have."""
    engine = create_engine(database_url, pool_size=4)
    yield sessionmaker(engine)
    await engine.dispose()


async def test_new_job_is_pending_with_no_progress(db_session, job_id):
    job = await jobs.get_job(db_session, job_id)
    assert job is not None
    assert (job.status, job.progress, job.attempts, job.result) == ("pending", 0, 0, None)
    assert job.created_at is not None and job.started_at is None and job.finished_at is None


async def test_start_complete_sets_times_and_full_progress(db_session, job_id):
    assert await jobs.start_attempt(db_session, job_id)
    job = await jobs.get_job(db_session, job_id)
    assert (job.status, job.attempts, job.stage) == ("processing", 1, "downloading")
    assert job.started_at is not None
    assert await jobs.complete(db_session, job_id, result={"schema_version": 1})
    job = await jobs.get_job(db_session, job_id)
    assert (job.status, job.progress, job.result) == ("completed", 100, {"schema_version": 1})
    assert job.finished_at is not None and job.finished_at >= job.started_at


async def test_second_attempt_keeps_first_start_time(db_session, job_id):
    assert await jobs.start_attempt(db_session, job_id)
    first = (await jobs.get_job(db_session, job_id)).started_at
    assert await jobs.start_attempt(db_session, job_id)
    job = await jobs.get_job(db_session, job_id)
    assert job.attempts == 2 and job.started_at == first


async def test_complete_twice_second_loses_and_result_unchanged(db_session, job_id):
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result={"by": "first"})
    assert not await jobs.complete(db_session, job_id, result={"by": "second"})
    job = await jobs.get_job(db_session, job_id)
    assert job.result == {"by": "first"}


async def test_concurrent_duplicate_completes_exactly_one_wins(sessions, job_id):
    async with sessions() as s:
        assert await jobs.start_attempt(s, job_id)

    async def finish(tag: str) -> bool:
        async with sessions() as s:
            return await jobs.complete(s, job_id, result={"by": tag}) is not None

    outcomes = await asyncio.gather(*(finish(f"worker{i}") for i in range(4)))
    assert sorted(outcomes) == [False, False, False, True]
    async with sessions() as s:
        job = await jobs.get_job(s, job_id)
    assert job.result == {"by": f"worker{outcomes.index(True)}"}


async def test_concurrent_complete_and_fail_one_wins(sessions, job_id):
    async with sessions() as s:
        assert await jobs.start_attempt(s, job_id)

    async def do_complete() -> bool:
        async with sessions() as s:
            return await jobs.complete(s, job_id, result={"ok": True})

    async def do_fail() -> bool:
        async with sessions() as s:
            return await jobs.fail(s, job_id, code="timeout", message="took too long")

    won_complete, won_fail = await asyncio.gather(do_complete(), do_fail())
    assert won_complete != won_fail
    async with sessions() as s:
        job = await jobs.get_job(s, job_id)
    assert job.status == ("completed" if won_complete else "failed")


async def test_fail_after_complete_loses(db_session, job_id):
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result={"a": 1})
    assert not await jobs.fail(db_session, job_id, code="late", message="late worker")
    job = await jobs.get_job(db_session, job_id)
    assert (job.status, job.error_code, job.result) == ("completed", None, {"a": 1})


async def test_finished_job_cannot_restart_or_move_backwards(db_session, job_id):
    assert await jobs.fail(db_session, job_id, code="unsupported_format", message="not audio")
    assert not await jobs.start_attempt(db_session, job_id)
    assert not await jobs.set_progress(db_session, job_id, progress=50, stage="measuring")
    assert not await jobs.complete(db_session, job_id, result={"a": 1})
    job = await jobs.get_job(db_session, job_id)
    assert (job.status, job.attempts, job.result) == (JobStatus.FAILED, 0, None)
    assert (job.error_code, job.error_message) == ("unsupported_format", "not audio")


async def test_complete_requires_processing(db_session, job_id):
    assert not await jobs.complete(db_session, job_id, result={"a": 1})
    assert (await jobs.get_job(db_session, job_id)).status == "pending"


async def test_progress_never_decreases(db_session, job_id):
    assert not await jobs.set_progress(db_session, job_id, progress=10, stage="decoding")
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.set_progress(db_session, job_id, progress=60, stage="measuring")
    assert await jobs.set_progress(db_session, job_id, progress=30, stage="decoding")
    job = await jobs.get_job(db_session, job_id)
    assert (job.progress, job.stage) == (60, "measuring")
    assert await jobs.set_progress(db_session, job_id, progress=250, stage="comparing")
    assert (await jobs.get_job(db_session, job_id)).progress == 100


async def test_unknown_job_transitions_report_false(db_session):
    missing = uuid.uuid4()
    assert not await jobs.start_attempt(db_session, missing)
    assert not await jobs.complete(db_session, missing, result={})
    assert not await jobs.fail(db_session, missing, code="x", message="y")
    assert await jobs.get_job(db_session, missing) is None
    assert await jobs.get_job(db_session, "not-a-uuid") is None


async def test_pending_or_processing_lists_only_stale_active_jobs(db_session, job_id):
    assert job_id in {
        j.id for j in await jobs.pending_or_processing(db_session, older_than_s=0, limit=1000)
    }
    assert job_id not in {
        j.id for j in await jobs.pending_or_processing(db_session, older_than_s=3600, limit=1000)
    }
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result={})
    assert job_id not in {
        j.id for j in await jobs.pending_or_processing(db_session, older_than_s=0, limit=1000)
    }


async def test_a_loaded_job_object_shows_the_new_state_after_a_transition(db_session, job_id):
    job = await jobs.get_job(db_session, job_id)
    assert await jobs.start_attempt(db_session, job_id)
    assert (job.status, job.attempts) == ("processing", 1)  # no stale value, no lazy load
    assert await jobs.set_progress(db_session, job_id, progress=30, stage="decoding")
    assert (job.progress, job.stage) == (30, "decoding")
    assert await jobs.complete(db_session, job_id, result={"a": 1})
    assert (job.status, job.progress, job.result) == ("completed", 100, {"a": 1})
