"""The reconciler against real PostgreSQL and Redis: what it re-queues, what it leaves alone,
and that only one process runs a pass at a time."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from soundy import jobs
from soundy.db.models import Client
from soundy.db.session import create_engine
from soundy.pipeline import queue
from soundy.pipeline.reconciler import LOCK_KEY, reconcile_once


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def now_settings(settings):
    """Reconcile rows at once (no minimum age)."""
    return settings.model_copy(update={"reconcile_min_age_s": 0.0})


def _files_deleted(reason: str) -> float:
    """soundy_stored_files_deleted_total{reason} of this process."""
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value("soundy_stored_files_deleted_total", {"reason": reason})
    return value or 0.0


async def _new_job(db_session, **kwargs):
    client = Client(id=uuid.uuid4(), token_hash=uuid.uuid4().hex + uuid.uuid4().hex)
    db_session.add(client)
    await db_session.commit()
    return await jobs.create_job(
        db_session, client_id=client.id, file_key=f"uploads/{uuid.uuid4()}/a.wav", mode="genre"
    )


async def _pass_touching(settings, engine, job_ids):
    """One pass; the ids (of ``job_ids``) it re-added. Other tests' rows may be in the table."""
    report = await reconcile_once(settings, engine)
    assert report.locked
    return {job_id for job_id in report.enqueued if job_id in job_ids}, report


async def test_pending_and_processing_jobs_missing_from_the_queue_are_added(
    now_settings, engine, db_session
):
    pending = await _new_job(db_session)
    processing = await _new_job(db_session)
    assert await jobs.start_attempt(db_session, processing.id)
    ids = {str(pending.id), str(processing.id)}

    added, _ = await _pass_touching(now_settings, engine, ids)
    assert added == ids
    assert await queue.queue_state(now_settings, pending.id) == "waiting"
    assert await queue.queue_state(now_settings, processing.id) == "waiting"

    # Now they are queued: a second pass leaves them alone.
    added, _ = await _pass_touching(now_settings, engine, ids)
    assert added == set()
    await queue.close_queues()


async def test_young_pending_jobs_are_left_to_the_api(settings, engine, db_session):
    job = await _new_job(db_session)
    young = settings.model_copy(update={"reconcile_min_age_s": 60.0})
    added, _ = await _pass_touching(young, engine, {str(job.id)})
    assert added == set()
    assert await queue.queue_state(settings, job.id) == "unknown"
    await queue.close_queues()


async def test_finished_rows_are_never_touched(now_settings, engine, db_session):
    done = await _new_job(db_session)
    assert await jobs.start_attempt(db_session, done.id)
    assert await jobs.complete(db_session, done.id, result={"schema_version": 1})
    failed = await _new_job(db_session)
    assert await jobs.fail(db_session, failed.id, code="unsupported_format", message="not audio")

    added, _ = await _pass_touching(now_settings, engine, {str(done.id), str(failed.id)})
    assert added == set()
    assert await queue.queue_state(now_settings, done.id) == "unknown"
    assert await queue.queue_state(now_settings, failed.id) == "unknown"
    await queue.close_queues()


async def test_a_job_bullmq_gave_up_on_is_failed_in_the_database(now_settings, engine, db_session):
    from bullmq import UnrecoverableError, Worker

    job = await _new_job(db_session)
    assert await jobs.start_attempt(db_session, job.id)
    await queue.enqueue(now_settings, job_id=job.id, file_key=job.file_key, mode="genre")

    async def give_up(bull_job, token):
        raise UnrecoverableError("job stalled more than allowable limit")

    worker = Worker(
        queue.QUEUE_NAME,
        give_up,
        {"connection": now_settings.redis_url, "prefix": now_settings.queue_prefix},
    )
    try:
        for _ in range(100):
            if await queue.queue_state(now_settings, job.id) == "failed":
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.close()
    assert await queue.queue_state(now_settings, job.id) == "failed"

    _, report = await _pass_touching(now_settings, engine, {str(job.id)})
    assert str(job.id) in report.failed
    row = await jobs.get_job(db_session, job.id)
    assert row.status == "failed" and row.error_code == "queue_failed"
    assert "stalled more than allowable limit" in row.error_message
    await queue.close_queues()


async def test_only_one_pass_runs_at_a_time(now_settings, engine, database_url, db_session):
    job = await _new_job(db_session)
    other = create_engine(database_url, pool_size=1)
    try:
        async with other.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            report = await reconcile_once(now_settings, engine)
            assert not report.locked and report.enqueued == []
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    finally:
        await other.dispose()
    assert await queue.queue_state(now_settings, job.id) == "unknown"
    added, _ = await _pass_touching(now_settings, engine, {str(job.id)})
    assert added == {str(job.id)}
    await queue.close_queues()


async def test_abandoned_uploads_are_deleted_after_the_retention_and_used_ones_kept(
    settings, engine, api, client_token, upload_bytes, auth
):
    from soundy.storage import open_storage

    storage = open_storage(settings)
    abandoned = await upload_bytes(api, client_token, b"never analysed")
    fresh = await upload_bytes(api, client_token, b"uploaded a minute ago")
    used = await upload_bytes(api, client_token, b"analysed")
    response = await api.post(
        "/api/audio/analyze", json={"file_key": used, "mode": "genre"}, headers=auth(client_token)
    )
    assert response.status_code == 202, response.text
    async with engine.begin() as conn:  # two of them expired two days ago
        await conn.execute(
            text(
                "UPDATE uploads SET expires_at = now() - interval '2 days' WHERE file_key = ANY(:k)"
            ),
            {"k": [abandoned, used]},
        )

    deleted_before = _files_deleted("abandoned")
    report = await reconcile_once(settings, engine)  # retention: the default, one day
    assert abandoned in report.purged_uploads
    assert _files_deleted("abandoned") == deleted_before + len(report.purged_uploads)
    assert fresh not in report.purged_uploads and used not in report.purged_uploads
    assert await storage.size(abandoned) is None
    assert await storage.size(fresh) == len(b"uploaded a minute ago")
    assert await storage.size(used) == len(b"analysed")
    async with engine.connect() as conn:
        keys = set(
            (await conn.execute(text("SELECT file_key FROM uploads WHERE file_key = ANY(:k)"),
                                {"k": [abandoned, fresh, used]})).scalars()
        )  # fmt: skip
    assert keys == {fresh, used}
    await storage.aclose()


async def test_audio_is_deleted_after_the_retention_and_results_stay(
    settings, engine, make_api, client_token, upload_bytes, auth, db_session, analysis_result
):
    """SOUNDY_AUDIO_RETENTION_S: the stored file of an upload goes once every job on it
    finished longer ago than that; the jobs and results stay; analysing or retrying it again
    is a 410 ``audio_deleted``, not a confusing "upload incomplete"."""
    from soundy.storage import open_storage

    api = await make_api(admin_token="admin-token-for-tests")
    storage = open_storage(settings)

    async def analysed(data: bytes, *, outcome: str, days_ago: float) -> tuple[str, str]:
        file_key = await upload_bytes(api, client_token, data)
        created = await api.post(
            "/api/audio/analyze",
            json={"file_key": file_key, "mode": "genre"},
            headers=auth(client_token),
        )
        assert created.status_code == 202, created.text
        job_id = str(created.json()["job"]["id"])
        assert await jobs.start_attempt(db_session, job_id)
        if outcome == "completed":
            assert await jobs.complete(db_session, job_id, result=analysis_result)
        else:
            assert await jobs.fail(db_session, job_id, code="unsupported_format", message="no")
        async with engine.begin() as conn:  # uploaded a day before its analysis finished
            await conn.execute(
                text(
                    "UPDATE jobs SET finished_at = now() - make_interval(days => :d) WHERE id = :id"
                ),
                {"d": days_ago, "id": uuid.UUID(job_id)},
            )
            await conn.execute(
                text(
                    "UPDATE uploads SET created_at = now() - make_interval(days => :d)"
                    " WHERE file_key = :k"
                ),
                {"d": days_ago + 1, "k": file_key},
            )
        return file_key, job_id

    old_done, old_done_job = await analysed(
        b"analysed 40 days ago", outcome="completed", days_ago=40
    )
    old_failed, old_failed_job = await analysed(
        b"failed 40 days ago", outcome="failed", days_ago=40
    )
    recent, _ = await analysed(b"analysed yesterday", outcome="completed", days_ago=1)
    in_use, _ = await analysed(b"old job, new one pending", outcome="completed", days_ago=40)
    again = await api.post(  # a second analysis of the same upload, still pending
        "/api/audio/analyze", json={"file_key": in_use, "mode": "genre"}, headers=auth(client_token)
    )
    assert again.status_code == 202, again.text

    kept = await reconcile_once(settings.model_copy(update={"audio_retention_s": None}), engine)
    assert kept.purged_audio == []  # "forever"

    deleted_before = _files_deleted("retention")
    report = await reconcile_once(settings, engine)  # the default: 30 days
    assert sorted(report.purged_audio) == sorted([old_done, old_failed])
    assert _files_deleted("retention") == deleted_before + 2
    assert await storage.size(old_done) is None and await storage.size(old_failed) is None
    for file_key, data in ((recent, b"analysed yesterday"), (in_use, b"old job, new one pending")):
        assert await storage.size(file_key) == len(data)
    assert (await reconcile_once(settings, engine)).purged_audio == []  # done once

    job = await api.get(f"/api/jobs/{old_done_job}", headers=auth(client_token))
    assert job.status_code == 200 and job.json()["result"] == analysis_result
    refused = await api.post(
        "/api/audio/analyze",
        json={"file_key": old_done, "mode": "genre"},
        headers=auth(client_token),
    )
    assert refused.status_code == 410, refused.text
    assert refused.json()["error"]["code"] == "audio_deleted"
    assert "upload the file again" in refused.json()["error"]["message"]
    retry = await api.post(
        f"/api/admin/jobs/{old_failed_job}/retry",
        headers={"Authorization": "Bearer admin-token-for-tests"},
    )
    assert retry.status_code == 410 and retry.json()["error"]["code"] == "audio_deleted"
    await storage.aclose()
