"""POST /api/audio/analyze: checks the upload and the request, writes the row, queues the job."""

from __future__ import annotations

import uuid

import pytest

from soundy import jobs


async def analyze(api, headers, **body):
    return await api.post("/api/audio/analyze", json=body, headers=headers)


async def test_analyze_creates_pending_job_and_queues_it(
    api, settings, client_token, auth, upload_bytes
):
    from soundy.pipeline.queue import queue_state

    file_key = await upload_bytes(api, client_token, b"RIFF....WAVE")
    response = await analyze(api, auth(client_token), file_key=file_key, destination="streaming")
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert (job["status"], job["progress"], job["attempts"], job["error"]) == (
        "pending",
        0,
        0,
        None,
    )
    assert job["file_key"] == file_key and job["mode"] == "genre"
    assert await queue_state(settings, job["id"]) == "waiting"
    fetched = await api.get(f"/api/jobs/{job['id']}", headers=auth(client_token))
    assert fetched.status_code == 200 and fetched.json()["id"] == job["id"]


async def test_unknown_upload_is_404(api, client_token, auth):
    response = await analyze(api, auth(client_token), file_key=f"uploads/abc/{uuid.uuid4()}/x.wav")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.embedded
async def test_another_clients_upload_is_404(api, make_token, auth, upload_bytes):
    owner, other = await make_token(), await make_token()
    file_key = await upload_bytes(api, owner, b"0123456789")
    response = await analyze(api, auth(other), file_key=file_key)
    assert response.status_code == 404
    assert (await analyze(api, auth(owner), file_key=file_key)).status_code == 202


async def test_upload_without_bytes_is_409(api, client_token, auth):
    created = await api.post(
        "/api/uploads", json={"filename": "a.wav", "size": 10}, headers=auth(client_token)
    )
    response = await analyze(api, auth(client_token), file_key=created.json()["file_key"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "upload_incomplete"


async def test_jobs_in_flight_limit_is_429(make_api, make_token, auth, upload_bytes):
    api = await make_api(max_jobs_in_flight_per_client=2)
    token = await make_token()
    file_key = await upload_bytes(api, token, b"0123456789")
    assert (await analyze(api, auth(token), file_key=file_key)).status_code == 202
    assert (await analyze(api, auth(token), file_key=file_key)).status_code == 202
    refused = await analyze(api, auth(token), file_key=file_key)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    # Another client is not affected.
    other = await make_token()
    other_key = await upload_bytes(api, other, b"0123456789")
    assert (await analyze(api, auth(other), file_key=other_key)).status_code == 202


async def test_finished_jobs_free_in_flight_slots(
    make_api, make_token, auth, upload_bytes, db_session
):
    api = await make_api(max_jobs_in_flight_per_client=1)
    token = await make_token()
    file_key = await upload_bytes(api, token, b"0123456789")
    first = (await analyze(api, auth(token), file_key=file_key)).json()["job"]["id"]
    assert (await analyze(api, auth(token), file_key=file_key)).status_code == 429
    assert await jobs.fail(db_session, first, code="unsupported_format", message="not audio")
    assert (await analyze(api, auth(token), file_key=file_key)).status_code == 202


async def test_invalid_mode_destination_and_reference_combinations_are_422(
    api, client_token, auth, upload_bytes
):
    file_key = await upload_bytes(api, client_token, b"0123456789")
    for body in (
        {"mode": "karaoke"},
        {"genre": "no-such-genre"},
        {"destination": "the-moon"},
        {"mode": "reference"},
        {"mode": "genre", "reference_job_id": str(uuid.uuid4())},
        {"reference_job_id": "not-a-uuid", "mode": "reference"},
        {"lang": "english please"},
        {"stage": "pre-master mix"},
        {"codec_check": "true"},
        {"codec_check": 1},
    ):
        response = await analyze(api, auth(client_token), file_key=file_key, **body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "invalid_request"


async def test_reference_job_must_be_own_and_completed(
    api, make_token, auth, upload_bytes, db_session
):
    owner, other = await make_token(), await make_token()
    owner_key = await upload_bytes(api, owner, b"0123456789")
    reference = (await analyze(api, auth(owner), file_key=owner_key)).json()["job"]["id"]
    # Not completed yet: 409.
    response = await analyze(
        api, auth(owner), file_key=owner_key, mode="reference", reference_job_id=reference
    )
    assert response.status_code == 409
    assert await jobs.start_attempt(db_session, reference)
    assert await jobs.complete(db_session, reference, result={"schema_version": 1})
    # Someone else's reference: 404.
    other_key = await upload_bytes(api, other, b"0123456789")
    response = await analyze(
        api, auth(other), file_key=other_key, mode="reference", reference_job_id=reference
    )
    assert response.status_code == 404
    # Own and completed: accepted.
    response = await analyze(
        api, auth(owner), file_key=owner_key, mode="reference", reference_job_id=reference
    )
    assert response.status_code == 202, response.text
    assert response.json()["job"]["reference_job_id"] == reference


async def test_queue_down_still_answers_202_and_keeps_the_row(
    make_api, make_token, auth, upload_bytes, db_session
):
    api = await make_api(redis_url="redis://127.0.0.1:9/0", redis_timeout_s=0.5)
    token = await make_token()
    file_key = await upload_bytes(api, token, b"0123456789")
    response = await analyze(api, auth(token), file_key=file_key)
    assert response.status_code == 202, response.text
    job = await jobs.get_job(db_session, response.json()["job"]["id"])
    assert job is not None and job.status == "pending"


async def test_stage_is_kept_on_the_job_and_defaults_to_master(
    api, client_token, auth, upload_bytes
):
    file_key = await upload_bytes(api, client_token, b"0123456789")
    mix = await analyze(api, auth(client_token), file_key=file_key, genre="pop", stage="mix")
    assert mix.status_code == 202, mix.text
    master = await analyze(api, auth(client_token), file_key=file_key, genre="pop")
    for response, stage in ((mix, "mix"), (master, "master")):
        job_id = response.json()["job"]["id"]
        fetched = (await api.get(f"/api/jobs/{job_id}", headers=auth(client_token))).json()
        assert (fetched["analysis_stage"], fetched["genre"]) == (stage, "pop")


async def test_known_genre_is_accepted(api, client_token, auth, upload_bytes):
    from soundy.compare import list_profiles

    genre = list_profiles()[0].key
    file_key = await upload_bytes(api, client_token, b"0123456789")
    response = await analyze(api, auth(client_token), file_key=file_key, genre=genre)
    assert response.status_code == 202, response.text
    assert response.json()["job"]["genre"] == genre


async def test_in_flight_limit_holds_under_concurrent_requests(
    make_api, make_token, auth, upload_bytes
):
    import asyncio

    api = await make_api(max_jobs_in_flight_per_client=2)
    token = await make_token()
    file_key = await upload_bytes(api, token, b"0123456789")
    responses = await asyncio.gather(
        *(analyze(api, auth(token), file_key=file_key) for _ in range(6))
    )
    assert sorted(r.status_code for r in responses) == [202, 202, 429, 429, 429, 429]


async def test_suggestion_language_comes_from_lang_or_accept_language(
    make_api, make_token, auth, upload_bytes
):
    api = await make_api(max_jobs_in_flight_per_client=10)
    token = await make_token()

    async def lang_of(body: dict, accept_language: str | None) -> str | None:
        file_key = await upload_bytes(api, token, b"0123456789")
        headers = auth(token)
        if accept_language is not None:
            headers["Accept-Language"] = accept_language
        response = await analyze(api, headers, file_key=file_key, **body)
        assert response.status_code == 202, response.text
        return response.json()["job"]["lang"]

    assert await lang_of({}, "pt-BR,pt;q=0.9,en;q=0.8") == "pt-BR"
    assert await lang_of({}, "fr-FR, en;q=0.5, pt;q=0.7") == "pt-BR"  # highest q wins
    assert await lang_of({}, "en-US,en;q=0.9") == "en"
    assert await lang_of({"lang": "en"}, "pt-BR") == "en"  # the body's choice wins
    assert await lang_of({}, "de-DE") is None  # neither: the worker's default (English)


async def test_a_revoked_key_or_a_new_plan_applies_to_the_next_post(
    make_api, auth, upload_bytes, db_session
):
    """The API remembers which client a token belongs to (soundy.api.auth.TokenClients), but
    revocation and the plan are read on every POST: a key revoked after its token was used is
    refused at once, and a client moved to another plan is counted on it at once."""
    from sqlalchemy import text

    from soundy.api.auth import create_client

    api = await make_api(default_plan=None, max_jobs_in_flight_per_client=10)
    client_id = uuid.uuid4()
    token = await create_client(db_session, client_id=client_id, is_key=True, plan="pro")
    first = await analyze(api, auth(token), file_key=await upload_bytes(api, token, b"0123456789"))
    assert (first.status_code, first.headers["x-quota-plan"]) == (202, "pro")

    await db_session.execute(
        text("UPDATE clients SET plan = 'studio' WHERE id = :id"), {"id": client_id}
    )
    await db_session.commit()
    moved = await analyze(api, auth(token), file_key=await upload_bytes(api, token, b"0123456789"))
    assert moved.status_code == 202
    assert (moved.headers["x-quota-plan"], moved.headers["x-quota-remaining"]) == ("studio", "398")

    file_key = await upload_bytes(api, token, b"0123456789")
    await db_session.execute(
        text("UPDATE clients SET revoked_at = now() WHERE id = :id"), {"id": client_id}
    )
    await db_session.commit()
    refused = await analyze(api, auth(token), file_key=file_key)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]
    count = await db_session.execute(
        text("SELECT count(*) FROM jobs WHERE client_id = :id"), {"id": client_id}
    )
    assert count.scalar_one() == 2
