"""Every error has the shape {"error": {"code", "message"}}: 401, 404, 405, 413, 422, 429, 500;
each of Soundy's error classes has its HTTP status in one table (soundy.api.errors)."""

from __future__ import annotations

import asyncio
import inspect
import signal

import asyncpg
import pytest

from private_services import PrivatePostgres
from soundy import errors
from soundy.api.errors import (
    ERROR_STATUSES,
    InvalidSignature,
    RetryLater,
    UploadExpired,
    http_status,
)
from soundy.compare.profiles import ProfileError


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body


@pytest.mark.embedded
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/uploads"),
        ("POST", "/api/audio/analyze"),
        ("GET", "/api/jobs"),
        ("GET", "/api/jobs/00000000-0000-0000-0000-000000000000"),
        ("GET", "/api/jobs/00000000-0000-0000-0000-000000000000/events"),
    ],
)
async def test_no_token_or_unknown_token_is_401(api, auth, method, path):
    response = await api.request(method, path, json={})
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    response = await api.request(method, path, json={}, headers=auth("not-a-real-token"))
    assert_error(response, 401, "unauthorized")
    response = await api.request(method, path, json={}, headers={"Authorization": "Basic abc"})
    assert_error(response, 401, "unauthorized")


async def test_unknown_route_is_404_with_error_shape(api):
    assert_error(await api.get("/api/nothing-here"), 404, "not_found")
    assert_error(await api.get("/no/such/page"), 404, "not_found")


async def test_wrong_method_is_405_with_allow_header(api):
    response = await api.delete("/api/jobs")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_upload_over_size_limit_is_413(make_api, make_token, auth):
    api = await make_api(max_upload_bytes=1000)
    token = await make_token()
    response = await api.post(
        "/api/uploads", json={"filename": "big.wav", "size": 1001}, headers=auth(token)
    )
    body = assert_error(response, 413, "too_large")
    assert "1000" in body["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"filename": "a.wav"}, "size"),
        ({"filename": "a.wav", "size": 0}, "size"),
        ({"filename": "a.wav", "size": "lots"}, "size"),
        ({"filename": "", "size": 10}, "filename"),
        ({"filename": "a.wav", "size": 10, "file_key": "mine"}, "file_key"),
        ([1, 2, 3], "JSON object"),
    ],
)
async def test_invalid_body_is_422_with_readable_message(api, client_token, auth, payload, needle):
    response = await api.post("/api/uploads", json=payload, headers=auth(client_token))
    body = assert_error(response, 422, "invalid_request")
    assert needle in body["error"]["message"]


async def test_malformed_json_is_422(api, client_token, auth):
    response = await api.post(
        "/api/uploads",
        content=b'{"filename": "a.wav", "size": ',
        headers={**auth(client_token), "Content-Type": "application/json"},
    )
    body = assert_error(response, 422, "invalid_request")
    assert "JSON" in body["error"]["message"]


async def test_invalid_query_is_422(api, client_token, auth):
    assert_error(
        await api.get("/api/jobs?limit=0", headers=auth(client_token)), 422, "invalid_request"
    )
    assert_error(
        await api.get("/api/jobs?cursor=%%%", headers=auth(client_token)), 422, "invalid_request"
    )


async def test_unexpected_exception_is_500_without_traceback(make_api):
    api = await make_api(raise_app_exceptions=False)

    async def boom() -> None:
        raise RuntimeError("secret internal detail /srv/app.py line 42")

    api.app.add_api_route("/api/boom-for-test", boom)
    response = await api.get("/api/boom-for-test")
    body = assert_error(response, 500, "internal_error")
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["error"]["message"]


async def test_database_down_is_503_not_500(make_api, auth):
    api = await make_api(
        raise_app_exceptions=False,
        database_url="postgresql+asyncpg://nobody@127.0.0.1:9/none",
    )
    response = await api.get("/api/jobs", headers=auth("some-token"))
    assert_error(response, 503, "temporarily_unavailable")


async def test_a_database_shutting_down_is_503_with_retry_after(make_api, auth, private_tmp_dir):
    """A PostgreSQL being restarted refuses new sessions with SQLSTATE 57P03 ("the database
    system is shutting down"), which SQLAlchemy raises as a plain DBAPIError: a 503 with
    Retry-After, not a 500 (bench/chaos.py's clients saw 500s there). A real server in a smart
    shutdown, held open by one session, refuses every new one that way."""
    server = PrivatePostgres(private_tmp_dir / "postgres")
    url = server.start()
    holder = await asyncpg.connect(url)  # a smart shutdown waits for it
    try:
        server.signal_group(signal.SIGTERM)
        for _ in range(200):
            try:
                await (await asyncpg.connect(url)).close()
            except asyncpg.CannotConnectNowError:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the server never refused a new session")
        api = await make_api(raise_app_exceptions=False, database_url=url)
        response = await api.get("/api/jobs", headers=auth("some-token"))
        assert_error(response, 503, "temporarily_unavailable")
        assert int(response.headers["retry-after"]) > 0
    finally:
        await holder.close()
        server.kill()


async def test_oversized_json_body_is_413(api, settings, client_token, auth):
    padding = "x" * (settings.max_request_body_bytes + 1)
    response = await api.post(
        "/api/uploads", json={"filename": padding, "size": 1}, headers=auth(client_token)
    )
    assert_error(response, 413, "too_large")


async def test_oversized_chunked_json_body_is_413(make_api, make_token, auth):
    api = await make_api(max_request_body_bytes=64 * 1024)
    token = await make_token()

    async def body():
        yield b'{"filename": "'
        for _ in range(64 * 1024 // 4096 + 1):
            yield b"x" * 4096
        yield b'", "size": 1}'

    response = await api.post(
        "/api/uploads",
        content=body(),
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert_error(response, 413, "too_large")
    assert "65536 bytes" in response.json()["error"]["message"]


def test_every_error_class_of_soundy_errors_has_its_http_status() -> None:
    defined = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.SoundyError) and cls.__module__ == errors.__name__
    ]
    assert [cls.__name__ for cls in defined if cls not in ERROR_STATUSES] == []
    # Most specific first: an entry below one of its bases would never be used.
    listed = list(ERROR_STATUSES)
    hidden = [
        f"{later.__name__} is listed after its base {earlier.__name__}"
        for i, earlier in enumerate(listed)
        for later in listed[i + 1 :]
        if issubclass(later, earlier)
    ]
    assert hidden == []
    assert all(http_status(cls) == status for cls, status in ERROR_STATUSES.items())


# Statuses and codes as docs/api.md lists them ("Errors"); errors defined outside soundy.errors
# take their base's status.
@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.TooLarge("the file is too large"), 413, "too_large"),
        (errors.UnsupportedFormat("not audio"), 422, "unsupported_format"),
        (errors.InvalidRequest("genre: unknown"), 422, "invalid_request"),
        (errors.NotFound("no such job"), 404, "not_found"),
        (errors.UploadIncomplete("not all bytes yet"), 409, "upload_incomplete"),
        (errors.Conflict("already uploaded"), 409, "conflict"),
        (errors.AudioDeleted("deleted"), 410, "audio_deleted"),
        (UploadExpired("expired"), 403, "upload_url_expired"),
        (InvalidSignature("bad signature"), 403, "invalid_signature"),
        (RetryLater("slow down", retry_after_s=7), 429, "rate_limited"),
        (errors.TransientError("storage unreachable"), 503, "temporarily_unavailable"),
        (ProfileError("pop.json: bad field"), 500, "invalid_profile"),
        (errors.AnalysisCrashed("the analysis process died"), 500, "analysis_crashed"),
    ],
)
async def test_a_soundy_error_is_answered_with_its_status_and_code(make_api, error, status, code):
    api = await make_api(raise_app_exceptions=False)

    async def fail() -> None:
        raise error

    api.app.add_api_route("/api/fail-for-test", fail)
    response = await api.get("/api/fail-for-test")
    body = assert_error(response, status, code)
    assert body["error"]["message"] == error.message
    if isinstance(error, RetryLater):
        assert response.headers["retry-after"] == "7"


async def test_unauthorized_asks_for_a_bearer_token(make_api):
    api = await make_api(raise_app_exceptions=False)

    async def fail() -> None:
        raise errors.Unauthorized("no token")

    api.app.add_api_route("/api/fail-for-test", fail)
    response = await api.get("/api/fail-for-test")
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
