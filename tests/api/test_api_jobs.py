"""GET /api/jobs/{id}, GET /api/jobs and the SSE stream: owner only, newest first, live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy

from api_jobs import new_job
from soundy import jobs


@contextlib.contextmanager
def statements_sent(engine: Any) -> Iterator[list[str]]:
    """Every statement asyncpg sends on the connections ``engine`` (an ``AsyncEngine``) hands
    out inside the block, whether SQLAlchemy runs it or asyncpg alone
    (``soundy.db.session.fetch_row``): asyncpg's own query logger on each checked-out
    connection. asyncpg calls the loggers soon after each statement, on the event loop."""
    statements: list[str] = []
    logged: list[Any] = []

    def log(record: Any) -> None:
        statements.append(record.query)

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        driver.add_query_logger(log)
        logged.append(driver)

    pool = engine.sync_engine.pool
    sqlalchemy.event.listen(pool, "checkout", checkout)
    try:
        yield statements
    finally:
        sqlalchemy.event.remove(pool, "checkout", checkout)
        for driver in logged:
            driver.remove_query_logger(log)


async def test_job_fields_follow_the_design(
    api, client_token, auth, upload_bytes, db_session, analysis_result
):
    job_id = await new_job(api, client_token, auth, upload_bytes)
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=analysis_result)
    body = (await api.get(f"/api/jobs/{job_id}", headers=auth(client_token))).json()
    for field in (
        "id", "status", "progress", "stage", "mode", "created_at", "updated_at",
        "started_at", "finished_at", "attempts", "error", "result",
    ):  # fmt: skip
        assert field in body
    assert (body["status"], body["progress"], body["attempts"]) == ("completed", 100, 1)
    assert body["result"] == analysis_result  # served whole: no key dropped or added


async def test_a_completed_job_read_again_is_one_statement_and_still_the_rows_own(
    app, api, make_token, auth, upload_bytes, db_session, analysis_result
):
    """A completed job's body is made once (soundy.api.routes.jobs.JobBodies); every GET still
    reads its row, with its owner, in one statement, and a changed row is served as it is now."""
    owner, other = await make_token(), await make_token()
    job_id = await new_job(api, owner, auth, upload_bytes)
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=analysis_result)
    url = f"/api/jobs/{job_id}"
    first = await api.get(url, headers=auth(owner))
    with statements_sent(app.state.soundy.engine) as statements:
        again = await api.get(url, headers=auth(owner))
        foreign = await api.get(url, headers=auth(other))
        await asyncio.sleep(0)  # the loggers' calls, scheduled by asyncpg, run
    assert again.status_code == 200 and again.content == first.content
    assert again.json()["result"] == analysis_result
    assert foreign.status_code == 404  # the cached body is not another client's to read
    assert len(statements) == 2, statements  # one per GET: the client and its job together

    await db_session.execute(
        sqlalchemy.text("UPDATE jobs SET song = 'Intro', updated_at = now() WHERE id = :id"),
        {"id": uuid.UUID(job_id)},
    )
    await db_session.commit()
    changed = (await api.get(url, headers=auth(owner))).json()
    assert changed["song"] == "Intro"
    assert changed["result"] == analysis_result


async def test_a_cached_body_is_not_served_to_a_revoked_key_or_an_unknown_token(
    api, make_token, auth, upload_bytes, db_session, analysis_result
):
    """The client is read with the job on every GET, whether its body is cached or not: a key
    revoked after the body was made gets 401 key revoked, an unknown token 401."""
    owner = await make_token()
    job_id = await new_job(api, owner, auth, upload_bytes)
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=analysis_result)
    url = f"/api/jobs/{job_id}"
    assert (await api.get(url, headers=auth(owner))).status_code == 200  # the body is cached
    assert (await api.get(url, headers=auth("not-a-token"))).status_code == 401
    await db_session.execute(
        sqlalchemy.text(
            "UPDATE clients SET revoked_at = now() WHERE id = "
            "(SELECT client_id FROM jobs WHERE id = :id)"
        ),
        {"id": uuid.UUID(job_id)},
    )
    await db_session.commit()
    refused = await api.get(url, headers=auth(owner))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


async def test_a_body_is_made_anew_when_the_targets_change(
    api, client_token, auth, upload_bytes, db_session, analysis_result, monkeypatch
):
    """The comparison is made on read against the current targets: a kept body is served only
    under the targets version it was made with (soundy.jobs.results.comparison_key)."""
    from soundy.jobs import results

    job_id = await new_job(api, client_token, auth, upload_bytes)
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=analysis_result)
    url = f"/api/jobs/{job_id}"
    first = await api.get(url, headers=auth(client_token))
    compared: list[str] = []
    real_compare = results.compare

    def counting_compare(*args, **kwargs):
        compared.append(job_id)
        return real_compare(*args, **kwargs)

    monkeypatch.setattr(results, "compare", counting_compare)
    again = await api.get(url, headers=auth(client_token))
    assert (again.content, compared) == (first.content, [])  # the kept body
    # Another version of the targets (an operator changed a profile, or a new release).
    monkeypatch.setattr(results, "targets_version", lambda profiles: "changed")
    changed = await api.get(url, headers=auth(client_token))
    assert compared == [job_id]  # compared again, against the targets of now
    assert changed.json()["result"] == analysis_result


async def test_large_results_are_sent_compressed(
    api, client_token, auth, upload_bytes, db_session, analysis_result
):
    job_id = await new_job(api, client_token, auth, upload_bytes)
    long_series = [-14.25 + i / 1000 for i in range(5000)]
    result = {
        **analysis_result,
        "series": {**analysis_result["series"], "short_term_lufs": long_series},
    }
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=result)
    response = await api.get(
        f"/api/jobs/{job_id}", headers={**auth(client_token), "Accept-Encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.json()["result"] == result
    # Asked without gzip: the same body as it is, and the same Vary for caches.
    plain = await api.get(
        f"/api/jobs/{job_id}", headers={**auth(client_token), "Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert int(plain.headers["content-length"]) == len(plain.content) > 50_000
    assert plain.json()["result"] == result


async def test_failed_job_reports_code_and_message(
    api, client_token, auth, upload_bytes, db_session
):
    job_id = await new_job(api, client_token, auth, upload_bytes)
    assert await jobs.fail(db_session, job_id, code="unsupported_format", message="not audio")
    body = (await api.get(f"/api/jobs/{job_id}", headers=auth(client_token))).json()
    assert body["status"] == "failed"
    assert body["error"] == {"code": "unsupported_format", "message": "not audio"}


@pytest.mark.embedded
@pytest.mark.parametrize("suffix", ["", "/events"])
async def test_another_clients_job_is_404_like_a_missing_one(
    api, make_token, auth, upload_bytes, suffix
):
    owner, other = await make_token(), await make_token()
    job_id = await new_job(api, owner, auth, upload_bytes)
    foreign = await api.get(f"/api/jobs/{job_id}{suffix}", headers=auth(other))
    missing = await api.get(f"/api/jobs/{uuid.uuid4()}{suffix}", headers=auth(other))
    garbage = await api.get(f"/api/jobs/not-a-uuid{suffix}", headers=auth(other))
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert foreign.json() == missing.json()
    assert job_id not in foreign.text


async def test_list_is_own_newest_first_and_paginates(make_api, make_token, auth, upload_bytes):
    api = await make_api(max_jobs_in_flight_per_client=10)
    owner, other = await make_token(), await make_token()
    created = [await new_job(api, owner, auth, upload_bytes) for _ in range(5)]
    await new_job(api, other, auth, upload_bytes)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = (await api.get(f"/api/jobs{query}", headers=auth(owner))).json()
        assert len(page["jobs"]) <= 2
        assert all(job["result"] is None for job in page["jobs"])
        seen += [job["id"] for job in page["jobs"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))
    assert pages == 3


async def read_events(response) -> list[dict]:
    events = []
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            events.append(json.loads(line[len("data: ") :]))
    return events


async def test_events_stream_current_state_then_progress_then_end(
    api, settings, client_token, auth, upload_bytes, database_url
):
    from soundy.db.session import create_engine, sessionmaker
    from soundy.pipeline import events
    from soundy.pipeline.queue import redis_client

    job_id = await new_job(api, client_token, auth, upload_bytes)
    engine = create_engine(database_url, pool_size=2)
    redis = redis_client(settings)

    async def worker() -> None:
        async with sessionmaker(engine)() as session:
            # Wait until the stream has subscribed (it reads and sends the current state after).
            channel = events.channel(job_id, prefix=settings.queue_prefix)
            while (await redis.pubsub_numsub(channel))[0][1] < 1:
                await asyncio.sleep(0.01)
            assert await jobs.start_attempt(session, job_id)
            assert await jobs.set_progress(session, job_id, progress=40, stage="measuring")
            await events.publish(
                redis, job_id, {"status": "processing", "progress": 40, "stage": "measuring"},
                prefix=settings.queue_prefix,
            )  # fmt: skip
            assert await jobs.complete(session, job_id, result={"schema_version": 1})
            await events.publish(
                redis, job_id, {"status": "completed", "progress": 100, "stage": "done"},
                prefix=settings.queue_prefix,
            )  # fmt: skip

    task = asyncio.create_task(worker())
    try:
        async with asyncio.timeout(20):
            response = await api.get(f"/api/jobs/{job_id}/events", headers=auth(client_token))
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            received = await read_events(response)
        await task
    finally:
        task.cancel()
        await redis.aclose()
        await engine.dispose()
    assert received[0]["status"] == "pending"
    assert received[-1]["status"] == "completed" and received[-1]["progress"] == 100
    progress = [event["progress"] for event in received]
    assert progress == sorted(progress)


async def test_events_of_a_finished_job_end_at_once(
    api, client_token, auth, upload_bytes, db_session
):
    job_id = await new_job(api, client_token, auth, upload_bytes)
    assert await jobs.fail(db_session, job_id, code="empty_audio", message="no samples")
    async with asyncio.timeout(10):
        response = await api.get(f"/api/jobs/{job_id}/events", headers=auth(client_token))
        received = await read_events(response)
    assert len(received) == 1
    assert received[0]["status"] == "failed"
    assert received[0]["error"] == {"code": "empty_audio", "message": "no samples"}


async def test_events_without_redis_fall_back_to_the_database(
    make_api, make_token, auth, upload_bytes, db_session
):
    api = await make_api(redis_url="redis://127.0.0.1:9/0", redis_timeout_s=0.3)
    token = await make_token()
    job_id = await new_job(api, token, auth, upload_bytes)

    async def finish() -> None:
        await asyncio.sleep(0.5)
        assert await jobs.start_attempt(db_session, job_id)
        assert await jobs.complete(db_session, job_id, result={})

    task = asyncio.create_task(finish())
    async with asyncio.timeout(20):
        response = await api.get(f"/api/jobs/{job_id}/events", headers=auth(token))
        received = await read_events(response)
    await task
    assert received[0]["status"] == "pending"
    assert received[-1]["status"] == "completed"


async def test_a_result_can_be_read_in_another_language(
    api, client_token, auth, upload_bytes, db_session, tmp_path
):
    import numpy as np
    import soundfile as sf

    from soundy.report import AnalysisOptions, analyze_file

    # A real, too quiet result (a -30 dBFS 1 kHz sine), compared with trap in English.
    t = np.arange(48000 * 8) / 48000
    tone = 10 ** (-30 / 20) * np.sin(2 * np.pi * 1000 * t)
    sf.write(tmp_path / "quiet.wav", np.column_stack([tone, tone]), 48000, subtype="PCM_24")
    result = analyze_file(tmp_path / "quiet.wav", AnalysisOptions(genre="trap", lang="en"))
    file_key = await upload_bytes(api, client_token, b"0123456789")
    response = await api.post(
        "/api/audio/analyze",
        json={"file_key": file_key, "genre": "trap", "lang": "en"},
        headers=auth(client_token),
    )
    job_id = response.json()["job"]["id"]
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=result)

    url = f"/api/jobs/{job_id}"
    stored = (await api.get(url, headers=auth(client_token))).json()["result"]
    english = (await api.get(url + "?lang=en", headers=auth(client_token))).json()["result"]
    portuguese = (await api.get(url + "?lang=pt-BR", headers=auth(client_token))).json()["result"]
    assert english == stored == json.loads(json.dumps(result))
    loudness = next(
        s for s in portuguese["suggestions"] if s["metric"] == "loudness.integrated_lufs"
    )
    assert "alvo" in loudness["message"] and loudness["delta"] > 0
    # Only the words change: the measurements, the score and the deltas are the same.
    assert portuguese["score"] == stored["score"]
    assert portuguese["loudness"] == stored["loudness"]
    assert [(s["metric"], s["delta"]) for s in portuguese["suggestions"]] == [
        (s["metric"], s["delta"]) for s in stored["suggestions"]
    ]
    assert (await api.get(url + "?lang=x1", headers=auth(client_token))).status_code == 422
