"""The README flow with S3 storage: presigned upload to a real S3 server (SeaweedFS), a real
worker downloading from it, the result in PostgreSQL. The production storage path, end to end."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pipeline_support import sine_wav, wait_job

pytestmark = pytest.mark.slow

# A stereo 1 kHz sine of peak -20 dBFS at 48 kHz: -20 + 0.6977 - 0.691 LUFS (BS.1770).
EXPECTED_LUFS = -19.993


async def test_upload_to_s3_then_a_worker_analyses_it(
    s3_server, make_api, make_token, auth, start_worker, monkeypatch
) -> None:
    credentials = {
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    storage = {
        "storage_url": f"s3://{s3_server.bucket}/e2e-{uuid.uuid4().hex[:8]}",
        "s3_endpoint_url": s3_server.endpoint,
    }
    api = await make_api(**storage)
    token = await make_token()
    data = sine_wav(peak=0.1)

    created = await api.post(
        "/api/uploads", json={"filename": "mix.wav", "size": len(data)}, headers=auth(token)
    )
    assert created.status_code == 201, created.text
    upload = created.json()
    # The client PUTs straight to the S3 server, not to the API.
    assert upload["upload_url"].startswith(s3_server.endpoint + "/")
    assert upload["method"] == "PUT"
    async with httpx.AsyncClient() as s3_client:
        put = await s3_client.put(upload["upload_url"], content=data, headers=upload["headers"])
    assert put.status_code == 200, put.text

    response = await api.post(
        "/api/audio/analyze",
        json={"file_key": upload["file_key"], "mode": "genre", "genre": "pop"},
        headers=auth(token),
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]["id"]

    start_worker(
        SOUNDY_STORAGE_URL=storage["storage_url"],
        SOUNDY_S3_ENDPOINT_URL=storage["s3_endpoint_url"],
        **credentials,
    )
    job = await wait_job(api, token, job_id, timeout_s=60)
    assert job["status"] == "completed", job
    assert job["result"]["loudness"]["integrated_lufs"] == pytest.approx(EXPECTED_LUFS, abs=0.1)
    assert job["result"]["file"]["name"] == "mix.wav"
    assert job["result"]["score"]["overall"] is not None
