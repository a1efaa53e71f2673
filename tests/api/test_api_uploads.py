"""Uploads: server-made keys, signed expiring PUT URLs, the size limit enforced while streaming."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest


def stored_files(settings) -> list[Path]:
    root = Path(settings.data_dir) / "files"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def announce(api, headers, *, filename="song.wav", size=10) -> dict:
    response = await api.post(
        "/api/uploads", json={"filename": filename, "size": size}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_upload_flow_stores_exact_bytes_under_server_made_key(
    api, settings, client_token, auth
):
    created = await announce(api, auth(client_token), filename="My Mix (v2).wav", size=11)
    assert created["method"] == "PUT"
    assert created["file_key"].startswith("uploads/")
    assert created["file_key"].endswith("/My_Mix_v2_.wav")
    assert created["upload_url"].startswith("/api/uploads/")
    put = await api.put(created["upload_url"], content=b"hello world", headers=created["headers"])
    assert put.status_code == 200, put.text
    assert put.json()["size"] == 11
    [path] = stored_files(settings)
    assert path.read_bytes() == b"hello world"
    assert path.as_posix().endswith(created["file_key"])


@pytest.mark.parametrize(
    "filename", ["../../etc/passwd", "..", "C:\\Windows\\evil.wav", "a/../../b.wav"]
)
async def test_client_cannot_choose_the_storage_path(api, client_token, auth, filename):
    created = await announce(api, auth(client_token), filename=filename)
    parts = created["file_key"].split("/")
    assert parts[0] == "uploads" and len(parts) == 4
    assert ".." not in parts and "" not in parts and "\\" not in created["file_key"]


async def test_keys_of_two_uploads_never_collide(api, client_token, auth):
    a = await announce(api, auth(client_token), filename="same.wav")
    b = await announce(api, auth(client_token), filename="same.wav")
    assert a["file_key"] != b["file_key"]


async def test_body_longer_than_declared_is_413_and_nothing_is_stored(
    api, settings, client_token, auth
):
    created = await announce(api, auth(client_token), size=10)

    async def body():  # streamed, no Content-Length: the limit must hold while reading
        for _ in range(5):
            yield b"x" * 4

    response = await api.put(created["upload_url"], content=body())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert stored_files(settings) == []
    # The upload can still be completed with the right bytes.
    ok = await api.put(created["upload_url"], content=b"0123456789")
    assert ok.status_code == 200


async def test_declared_content_length_over_limit_is_refused_at_once(
    api, settings, client_token, auth
):
    created = await announce(api, auth(client_token), size=10)
    response = await api.put(created["upload_url"], content=b"y" * 11)
    assert response.status_code == 413
    assert stored_files(settings) == []


async def test_size_limit_applies_to_the_put_even_for_a_big_declared_size(
    make_api, make_token, auth
):
    api = await make_api(max_upload_bytes=100)
    token = await make_token()
    created = await announce(api, auth(token), size=100)

    async def body():
        for _ in range(30):
            yield b"z" * 10

    response = await api.put(created["upload_url"], content=body())
    assert response.status_code == 413


async def test_short_body_is_refused_and_not_kept(api, settings, client_token, auth):
    created = await announce(api, auth(client_token), size=10)
    response = await api.put(created["upload_url"], content=b"short")
    assert response.status_code == 422
    assert "5" in response.json()["error"]["message"]
    assert stored_files(settings) == []


async def test_second_put_to_a_finished_upload_is_409(api, client_token, auth):
    created = await announce(api, auth(client_token), size=3)
    assert (await api.put(created["upload_url"], content=b"abc")).status_code == 200
    again = await api.put(created["upload_url"], content=b"xyz")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


@pytest.mark.embedded
async def test_bad_signature_is_403(api, settings, client_token, auth):
    created = await announce(api, auth(client_token))
    url = created["upload_url"]
    query = parse_qs(urlsplit(url).query)
    tampered = url.replace(query["signature"][0], "0" * 64)
    response = await api.put(tampered, content=b"0123456789")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    # Another upload's id with this signature, or a later expiry: also refused.
    other = await announce(api, auth(client_token))
    swapped = url.replace(created["upload_id"], other["upload_id"])
    assert (await api.put(swapped, content=b"0123456789")).status_code == 403
    later = url.replace(
        f"expires={query['expires'][0]}", f"expires={int(query['expires'][0]) + 3600}"
    )
    assert (await api.put(later, content=b"0123456789")).status_code == 403
    assert (await api.put(url.split("?")[0], content=b"0123456789")).status_code == 403
    assert stored_files(settings) == []


async def test_expired_url_is_403(api, settings, client_token, auth):
    from soundy.api.routes.uploads import upload_signature

    created = await announce(api, auth(client_token))
    expired = int(time.time()) - 1
    signature = upload_signature(settings.secret_key.encode(), created["upload_id"], expired)
    url = f"/api/uploads/{created['upload_id']}/content?expires={expired}&signature={signature}"
    response = await api.put(url, content=b"0123456789")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "upload_url_expired"
    assert stored_files(settings) == []


async def test_secret_key_is_generated_once_and_kept(tmp_path):
    from soundy.api.auth import load_secret_key

    first = load_secret_key(None, tmp_path)
    assert len(first) >= 32
    assert load_secret_key(None, tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load_secret_key("explicit", tmp_path) == b"explicit"


async def test_the_host_header_never_goes_into_an_upload_url(api, make_api, client_token, auth):
    headers = {**auth(client_token), "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    created = await announce(api, headers)
    assert created["upload_url"].startswith("/api/uploads/"), created["upload_url"]
    assert "evil" not in created["upload_url"]
    public = await make_api(public_url="https://soundy.example.com/")
    created = await announce(public, headers)
    assert created["upload_url"].startswith("https://soundy.example.com/api/uploads/")
