"""/healthz, /readyz (names what is unreachable) and /metrics."""

from __future__ import annotations


async def test_healthz_and_readyz_ok(api):
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_naming_redis_when_redis_is_unreachable(make_api):
    api = await make_api(redis_url="redis://127.0.0.1:9/0", redis_timeout_s=0.5)
    ready = await api.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["error"]["code"] == "not_ready"
    assert "redis" in body["error"]["message"] and "database" not in body["error"]["message"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unreachable")
    assert (await api.get("/healthz")).status_code == 200


async def test_readyz_is_503_naming_the_database_when_it_is_unreachable(make_api):
    api = await make_api(database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none")
    ready = await api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"] == "ok"
    assert ready.json()["checks"]["database"].startswith("unreachable")


async def test_metrics_exposes_job_queue_and_latency_series(api, client_token, auth, upload_bytes):
    file_key = await upload_bytes(api, client_token, b"0123456789")
    await api.post("/api/audio/analyze", json={"file_key": file_key}, headers=auth(client_token))
    text = (await api.get("/metrics")).text
    for name in (
        "soundy_jobs_created_total",
        "soundy_jobs_completed_total",
        "soundy_job_duration_seconds_bucket",
        'soundy_queue_jobs{state="waiting"} 1.0',
        'soundy_jobs{status="pending"}',
        'soundy_http_request_duration_seconds_count{method="POST",route="/api/audio/analyze"',
        'route="/api/uploads/{upload_id}/content"',
    ):
        assert name in text, name


async def test_openapi_docs_are_served(api):
    assert (await api.get("/docs")).status_code == 200
    spec = (await api.get("/openapi.json")).json()
    for path in ("/api/clients", "/api/uploads", "/api/audio/analyze", "/api/jobs/{job_id}/events"):
        assert path in spec["paths"]
