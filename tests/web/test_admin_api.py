"""``/api/admin/*`` against real PostgreSQL and Redis (in-process app, no worker running):
who may see it, what the counts say, and that a retry is a new job with the same inputs."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from soundy import jobs
from soundy.pipeline.queue import queue_state

ADMIN = "admin-token-for-tests"


@pytest.fixture
async def admin_api(make_api: Callable[..., Awaitable[Any]]) -> Any:
    return await make_api(admin_token=ADMIN)


def _admin(token: str = ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _failed_job(
    api: Any, token: str, auth: Any, upload_bytes: Any, db_session: Any, **fields: Any
) -> str:
    file_key = await upload_bytes(api, token, b"not audio", filename="broken.wav")
    created = await api.post(
        "/api/audio/analyze", json={"file_key": file_key, **fields}, headers=auth(token)
    )
    assert created.status_code == 202, created.text
    job_id = str(created.json()["job"]["id"])
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.fail(db_session, job_id, code="unsupported_format", message="not audio")
    return job_id


@pytest.mark.parametrize("path", ["/overview", "/queue", "/workers", "/throughput", "/failures"])
async def test_disabled_without_an_admin_token(api: Any, path: str) -> None:
    # The default settings have no SOUNDY_ADMIN_TOKEN: the dashboard does not exist.
    response = await api.get("/api/admin" + path, headers=_admin())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "SOUNDY_ADMIN_TOKEN" in response.json()["error"]["message"]
    retry = await api.post(f"/api/admin/jobs/{uuid.uuid4()}/retry", headers=_admin())
    assert retry.status_code == 404


@pytest.mark.parametrize("headers", [{}, _admin("wrong"), {"Authorization": ADMIN}])
async def test_refused_without_the_right_token(
    admin_api: Any, client_token: str, auth: Any, headers: dict[str, str]
) -> None:
    for path in ("/overview", "/queue", "/workers", "/throughput", "/failures"):
        response = await admin_api.get("/api/admin" + path, headers=headers)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"
    # A producer's own token is not an admin token either.
    response = await admin_api.get("/api/admin/overview", headers=auth(client_token))
    assert response.status_code == 401
    retry = await admin_api.post(f"/api/admin/jobs/{uuid.uuid4()}/retry", headers=headers)
    assert retry.status_code == 401


async def test_overview_counts_failures_and_retry(
    admin_api: Any, client_token: str, auth: Any, upload_bytes: Any, db_session: Any
) -> None:
    before = (await admin_api.get("/api/admin/overview", headers=_admin())).json()
    failed_id = await _failed_job(
        admin_api,
        client_token,
        auth,
        upload_bytes,
        db_session,
        genre="trap",
        destination="club",
        lang="pt-BR",
    )
    overview = (await admin_api.get("/api/admin/overview", headers=_admin())).json()

    # The failure is listed, newest first, with its reason.
    first = overview["failures"][0]
    assert first["id"] == failed_id
    assert (first["error_code"], first["error_message"]) == ("unsupported_format", "not audio")
    assert first["filename"] == "broken.wav"
    assert first["attempts"] == 1
    # Postgres counts moved by exactly this job. (Earlier tests' failures may leave the last-minute
    # window meanwhile, so that one can only be bounded; the suite is far shorter than an hour.)
    tp, tp0 = overview["throughput"], before["throughput"]
    assert 1 <= tp["failed_last_minute"] <= tp0["failed_last_minute"] + 1
    assert tp["failed_last_hour"] == tp0["failed_last_hour"] + 1
    assert tp["jobs_by_status"]["failed"] == tp0["jobs_by_status"]["failed"] + 1
    # The API queued the job (no worker runs here, so it still waits in BullMQ).
    assert overview["queue"]["waiting"] == before["queue"]["waiting"] + 1
    assert overview["queue"]["error"] is None
    assert overview["workers"] == {"workers": [], "error": None}

    # Retry: a new pending job with the same inputs; the failed one stays failed.
    response = await admin_api.post(f"/api/admin/jobs/{failed_id}/retry", headers=_admin())
    assert response.status_code == 202, response.text
    body = response.json()
    new = body["job"]
    assert body["retry_of"] == failed_id
    assert new["id"] != failed_id and new["status"] == "pending" and new["attempts"] == 0
    old = (await admin_api.get(f"/api/jobs/{failed_id}", headers=auth(client_token))).json()
    assert old["status"] == "failed"
    for field in ("file_key", "mode", "genre", "destination", "lang", "reference_job_id"):
        assert new[field] == old[field], field
    # It belongs to the same client and is in the queue.
    mine = (await admin_api.get(f"/api/jobs/{new['id']}", headers=auth(client_token))).json()
    assert mine["status"] == "pending"
    settings = admin_api.app.state.soundy.settings
    assert await queue_state(settings, new["id"]) == "waiting"
    queue = (await admin_api.get("/api/admin/queue", headers=_admin())).json()
    assert queue["waiting"] == overview["queue"]["waiting"] + 1


async def test_only_failed_jobs_can_be_retried(
    admin_api: Any, client_token: str, auth: Any, upload_bytes: Any
) -> None:
    file_key = await upload_bytes(admin_api, client_token, b"0123456789")
    created = await admin_api.post(
        "/api/audio/analyze", json={"file_key": file_key}, headers=auth(client_token)
    )
    pending_id = created.json()["job"]["id"]
    response = await admin_api.post(f"/api/admin/jobs/{pending_id}/retry", headers=_admin())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        response = await admin_api.post(f"/api/admin/jobs/{missing}/retry", headers=_admin())
        assert response.status_code == 404


async def test_failures_limit(
    admin_api: Any, client_token: str, auth: Any, upload_bytes: Any, db_session: Any
) -> None:
    ids = [
        await _failed_job(admin_api, client_token, auth, upload_bytes, db_session) for _ in range(3)
    ]
    listed = (await admin_api.get("/api/admin/failures?limit=2", headers=_admin())).json()
    assert [f["id"] for f in listed["failures"]] == ids[::-1][:2]
    bad = await admin_api.get("/api/admin/failures?limit=0", headers=_admin())
    assert bad.status_code == 422
