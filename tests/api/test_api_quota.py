"""Plans and monthly quotas: the X-Quota-* headers, 429 quota_exceeded with Retry-After and a
message in English or Portuguese saying when the quota renews, counted in PostgreSQL under
concurrency, operators' overrides (settings and admin API), and what does not count."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from soundy import jobs
from soundy.api.auth import create_client
from soundy.jobs.quota import month_bounds

ADMIN = "quota-admin-token"


def _next_month_start() -> datetime:
    return month_bounds(datetime.now(UTC))[1]


async def _analyze(api, token, auth, upload_bytes, **headers):
    file_key = await upload_bytes(api, token, b"0123456789")
    return await api.post(
        "/api/audio/analyze", json={"file_key": file_key}, headers={**auth(token), **headers}
    )


async def test_anonymous_client_gets_one_free_analysis_then_a_dated_429(
    make_api, auth, upload_bytes
):
    api = await make_api(default_plan=None)  # the shipped default: free, 1 a month
    token = (await api.post("/api/clients")).json()["token"]
    reset = _next_month_start()

    first = await _analyze(api, token, auth, upload_bytes)
    assert first.status_code == 202, first.text
    assert first.headers["x-quota-plan"] == "free"
    assert first.headers["x-quota-limit"] == "1"
    assert first.headers["x-quota-remaining"] == "0"
    assert first.headers["x-quota-reset"] == reset.strftime("%Y-%m-%dT%H:%M:%SZ")

    second = await _analyze(api, token, auth, upload_bytes)
    assert second.status_code == 429, second.text
    error = second.json()["error"]
    assert error["code"] == "quota_exceeded"
    month = reset.strftime("%B")
    assert f"renews on {month} 1, {reset.year}" in error["message"]
    assert second.headers["x-quota-remaining"] == "0"
    wait_s = (reset - datetime.now(UTC)).total_seconds()
    assert abs(int(second.headers["retry-after"]) - wait_s) < 60

    # The same refusal in Brazilian Portuguese, by Accept-Language as for the suggestions.
    pt = await _analyze(api, token, auth, upload_bytes, **{"Accept-Language": "pt-BR,pt;q=0.9"})
    assert pt.status_code == 429
    assert re.search(rf"renova em 1 de \w+ de {reset.year}", pt.json()["error"]["message"])

    # Nothing was created by the refused requests.
    listed = await api.get("/api/jobs", headers=auth(token))
    assert len(listed.json()["jobs"]) == 1
    assert listed.headers["x-quota-remaining"] == "0"


async def test_quota_route_and_headers(make_api, auth, upload_bytes, db_session):
    api = await make_api(default_plan=None, plan_plus_analyses_per_month=3)
    token = await create_client(db_session, plan="plus")
    before = await api.get("/api/quota", headers=auth(token))
    assert before.status_code == 200
    assert before.json() == {
        "plan": "plus",
        "analyses_per_month": 3,
        "used": 0,
        "remaining": 3,
        "resets_at": _next_month_start().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert before.headers["x-quota-remaining"] == "3"
    assert (await _analyze(api, token, auth, upload_bytes)).headers["x-quota-remaining"] == "2"
    after = (await api.get("/api/quota", headers=auth(token))).json()
    assert (after["used"], after["remaining"]) == (1, 2)


async def test_unlimited_plan_is_never_refused(make_api, auth, upload_bytes, db_session):
    api = await make_api(default_plan=None, max_jobs_in_flight_per_client=20)
    token = await create_client(db_session, plan="unlimited")
    for _ in range(3):
        answer = await _analyze(api, token, auth, upload_bytes)
        assert answer.status_code == 202
        assert answer.headers["x-quota-limit"] == "unlimited"
        assert answer.headers["x-quota-remaining"] == "unlimited"


async def test_concurrent_analyses_cannot_pass_the_quota(make_api, auth, upload_bytes, db_session):
    api = await make_api(default_plan=None, plan_plus_analyses_per_month=3)
    token = await create_client(db_session, plan="plus")
    keys = [await upload_bytes(api, token, b"0123456789") for _ in range(8)]
    answers = await asyncio.gather(
        *(
            api.post("/api/audio/analyze", json={"file_key": key}, headers=auth(token))
            for key in keys
        )
    )
    assert sorted(a.status_code for a in answers) == [202] * 3 + [429] * 5
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 429} == {
        "quota_exceeded"
    }
    count = await db_session.execute(
        text(
            "SELECT count(*) FROM jobs j JOIN uploads u ON u.id = j.upload_id"
            " WHERE u.file_key = ANY(:k)"
        ),
        {"k": keys},
    )
    assert count.scalar_one() == 3


async def test_retries_and_last_month_do_not_count(make_api, auth, upload_bytes, db_session):
    api = await make_api(default_plan=None, admin_token=ADMIN)
    token = (await api.post("/api/clients")).json()["token"]
    job_id = (await _analyze(api, token, auth, upload_bytes)).json()["job"]["id"]
    assert await jobs.fail(db_session, job_id, code="timeout", message="took too long")
    retried = await api.post(
        f"/api/admin/jobs/{job_id}/retry", headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert retried.status_code == 202, retried.text
    quota = (await api.get("/api/quota", headers=auth(token))).json()
    assert quota["used"] == 1  # the operator's retry is not the client's analysis
    # A job of last month does not count in this one.
    await db_session.execute(
        text("UPDATE jobs SET created_at = :when WHERE id = :id"),
        {
            "when": month_bounds(datetime.now(UTC))[0].replace(microsecond=0)
            - timedelta(seconds=1),
            "id": job_id,
        },
    )
    await db_session.commit()
    quota = (await api.get("/api/quota", headers=auth(token))).json()
    assert (quota["used"], quota["remaining"]) == (0, 1)
    assert (await _analyze(api, token, auth, upload_bytes)).status_code == 202


def test_month_bounds_cross_the_year():
    start, end = month_bounds(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    start, end = month_bounds(datetime(2027, 2, 14, 8, tzinfo=UTC))
    assert (start, end) == (datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))


def test_plan_limits_and_default_plan_come_from_the_environment(monkeypatch):
    from pydantic import ValidationError

    from soundy.config import Settings

    monkeypatch.setenv("SOUNDY_PLAN_FREE_ANALYSES_PER_MONTH", "3")
    monkeypatch.setenv("SOUNDY_DEFAULT_PLAN", "pro")
    settings = Settings()
    assert (settings.plan_free_analyses_per_month, settings.default_plan) == (3, "pro")
    assert (settings.plan_plus_analyses_per_month, settings.plan_studio_analyses_per_month) == (
        20,
        400,
    )
    monkeypatch.setenv("SOUNDY_DEFAULT_PLAN", "Not A Plan")
    with pytest.raises(ValidationError, match="default_plan"):
        Settings()


async def test_operators_set_plans_and_move_clients(make_api, auth, upload_bytes, db_session):
    api = await make_api(default_plan=None, admin_token=ADMIN)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    client_id = uuid.uuid4()
    token = await create_client(db_session, client_id=client_id)
    assert (await _analyze(api, token, auth, upload_bytes)).status_code == 202
    assert (await _analyze(api, token, auth, upload_bytes)).status_code == 429

    # Raise the free plan to 2 a month: the client may analyse once more.
    put = await api.put("/api/admin/plans/free", json={"analyses_per_month": 2}, headers=admin)
    assert put.status_code == 200, put.text
    assert {"name": "free", "analyses_per_month": 2} in put.json()["plans"]
    second = await _analyze(api, token, auth, upload_bytes)
    assert (second.status_code, second.headers["x-quota-limit"]) == (202, "2")

    # A plan of the operator's own, and the client moved onto it.
    made = await api.put("/api/admin/plans/label-x", json={"analyses_per_month": 5}, headers=admin)
    assert made.status_code == 200
    moved = await api.put(
        f"/api/admin/clients/{client_id}/plan", json={"plan": "label-x"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    quota = (await api.get("/api/quota", headers=auth(token))).json()
    assert (quota["plan"], quota["analyses_per_month"], quota["remaining"]) == ("label-x", 5, 3)
    listed = (await api.get("/api/admin/plans", headers=admin)).json()
    assert listed["default_plan"] == "free"
    assert [p["name"] for p in listed["plans"]][:5] == [
        "free",
        "plus",
        "pro",
        "studio",
        "unlimited",
    ]

    # Refused: an unknown plan, the unlimited plan's limit, a bad number, no admin token.
    for path, body in (
        (f"/api/admin/clients/{client_id}/plan", {"plan": "gold"}),
        ("/api/admin/plans/unlimited", {"analyses_per_month": 3}),
        ("/api/admin/plans/free", {"analyses_per_month": -1}),
        ("/api/admin/plans/free", {"analyses_per_month": "3"}),
        ("/api/admin/plans/Free%20Plan", {"analyses_per_month": 3}),
    ):
        refused = await api.put(path, json=body, headers=admin)
        assert refused.status_code == 422, (path, body, refused.text)
    missing = await api.put(
        f"/api/admin/clients/{uuid.uuid4()}/plan", json={"plan": "pro"}, headers=admin
    )
    assert missing.status_code == 404
    assert (
        await api.put("/api/admin/plans/free", json={"analyses_per_month": 9})
    ).status_code == 401
