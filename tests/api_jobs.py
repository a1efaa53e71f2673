"""A job through the API, for the tests of what is done with one (shares, albums, reads)."""

from __future__ import annotations

from typing import Any


async def new_job(api: Any, token: str, auth: Any, upload_bytes: Any) -> str:
    """Upload ten bytes and POST /api/audio/analyze of them as ``token``'s client: the job's id.
    ``auth`` and ``upload_bytes`` are the fixtures of tests/conftest.py."""
    file_key = await upload_bytes(api, token, b"0123456789")
    response = await api.post(
        "/api/audio/analyze", json={"file_key": file_key}, headers=auth(token)
    )
    assert response.status_code == 202, response.text
    return str(response.json()["job"]["id"])
