"""Per-client limits: uploads in flight, open event streams and the request rate, each a 429
with ``Retry-After`` (docs/api.md, docs/configuration.md)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx


async def _announce(api, token, auth, size: int = 4):
    return await api.post(
        "/api/uploads", json={"filename": "a.wav", "size": size}, headers=auth(token)
    )


async def test_uploads_in_flight_are_capped_until_one_arrives(make_api, make_token, auth):
    api = await make_api(max_uploads_in_flight_per_client=2, upload_url_ttl_s=600)
    token, other = await make_token(), await make_token()
    first = await _announce(api, token, auth)
    assert (await _announce(api, token, auth)).status_code == 201
    refused = await _announce(api, token, auth)
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "2" in refused.json()["error"]["message"]
    # Retry-After: until the oldest pending upload URL expires.
    assert 590 <= int(refused.headers["retry-after"]) <= 600
    # Another client is not affected.
    assert (await _announce(api, other, auth)).status_code == 201
    # Once the bytes of one have arrived, it no longer counts.
    grant = first.json()
    put = await api.put(grant["upload_url"], content=b"abcd", headers=grant["headers"])
    assert put.status_code == 200, put.text
    assert (await _announce(api, token, auth)).status_code == 201


async def test_uploads_in_flight_hold_under_concurrent_requests(make_api, make_token, auth):
    api = await make_api(max_uploads_in_flight_per_client=3)
    token = await make_token()
    answers = await asyncio.gather(*(_announce(api, token, auth) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [201] * 3 + [429] * 5


async def test_expired_upload_urls_do_not_count(make_api, make_token, auth, db_session):
    from sqlalchemy import text

    api = await make_api(max_uploads_in_flight_per_client=1)
    token = await make_token()
    grant = (await _announce(api, token, auth)).json()
    assert (await _announce(api, token, auth)).status_code == 429
    await db_session.execute(
        text("UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = :id"),
        {"id": grant["upload_id"]},
    )
    await db_session.commit()
    assert (await _announce(api, token, auth)).status_code == 201


async def test_request_rate_per_client_per_minute(make_api, make_token, auth):
    api = await make_api(requests_per_client_per_minute=5)
    other = await make_token()
    for _ in range(3):  # again with a new client if the clock minute rolled over meanwhile
        minute = time.time() // 60
        token = await make_token()
        statuses = [(await api.get("/api/jobs", headers=auth(token))).status_code for _ in range(6)]
        if time.time() // 60 == minute:
            break
    assert statuses == [200] * 5 + [429]
    refused = await api.get("/api/jobs", headers=auth(token))
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert (await api.get("/api/jobs", headers=auth(other))).status_code == 200


async def _in_one_minute(attempt):
    """``await attempt()`` until it ran within one clock minute (at most 3 tries): a rate
    window that rolled over in the middle would start the count again."""
    for _ in range(3):
        minute = time.time() // 60
        result = await attempt()
        if time.time() // 60 == minute:
            return result
    raise AssertionError("the clock minute rolled over three times")


async def test_request_rate_takes_leases_and_serves_exactly_the_limit(
    make_api, make_token, auth, redis_url
):
    """One API process takes a client's requests from Redis 1 % of the limit at a time (here
    2 of 200): the counter in Redis moves by leases, and the 201st request is refused."""
    import redis.asyncio as aioredis

    api = await make_api(requests_per_client_per_minute=200)
    prefix = api.app.state.soundy.settings.queue_prefix
    redis = aioredis.Redis.from_url(redis_url)

    async def attempt():
        for key in await redis.keys(f"{prefix}:soundy:ratelimit:requests:*"):
            await redis.delete(key)  # an earlier attempt's client
        token = await make_token()
        assert (await api.get("/api/jobs", headers=auth(token))).status_code == 200
        (key,) = await redis.keys(f"{prefix}:soundy:ratelimit:requests:*")
        counted = int(await redis.get(key))
        statuses = [
            (await api.get("/api/jobs", headers=auth(token))).status_code for _ in range(200)
        ]
        return counted, statuses

    try:
        counted, statuses = await _in_one_minute(attempt)
    finally:
        await redis.aclose()
    assert counted == 2  # a lease of 2 for the first request, not 1
    assert statuses == [200] * 199 + [429]  # with the first, 200 served


async def test_request_rate_over_two_processes_never_exceeds_the_limit(make_api, make_token, auth):
    """Two API processes (two apps on one Redis) each take leases: the client's requests
    through both never pass the limit, and at most one lease's remainder per process is lost."""
    first = await make_api(requests_per_client_per_minute=300)  # leases of 3
    second = await make_api(requests_per_client_per_minute=300)

    async def attempt():
        token = await make_token()
        statuses = []
        for index in range(320):
            api = first if index % 5 else second  # 4 of 5 to the first process
            statuses.append((await api.get("/api/jobs", headers=auth(token))).status_code)
        return statuses

    statuses = await _in_one_minute(attempt)
    served = statuses.count(200)
    assert 300 - 2 <= served <= 300, served  # lease 3: at most 2 lost in the other process
    assert set(statuses[-15:]) == {429}


async def test_request_rate_is_not_enforced_while_redis_is_down(make_api, make_token, auth, caplog):
    # A Redis that refuses connections (nothing listens on port 1).
    api = await make_api(requests_per_client_per_minute=1, redis_url="redis://127.0.0.1:1/0")
    token = await make_token()
    for _ in range(3):
        assert (await api.get("/api/jobs", headers=auth(token))).status_code == 200
    assert "request rate not checked" in caplog.text


async def test_event_streams_per_client_are_capped(make_live_url, make_token, auth):
    # A real server (tests/conftest.py): httpx's in-process transport buffers a response until
    # it ends, and SSE streams do not end.
    base = await make_live_url(max_event_streams_per_client=2)
    token, other = await make_token(), await make_token()
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        grant = (await _announce(http, token, auth)).json()
        await http.put(grant["upload_url"], content=b"abcd", headers=grant["headers"])
        job = await http.post(
            "/api/audio/analyze", json={"file_key": grant["file_key"]}, headers=auth(token)
        )
        job_id = job.json()["job"]["id"]  # stays pending: no worker runs, the streams stay open

        async def first_event(stream) -> str:
            # One line iterator per stream, kept open: abandoning it would end the stream.
            lines = stream.aiter_lines()
            held.append(lines)
            while not (line := await anext(lines)).startswith("data: "):
                pass
            return line

        held: list = []

        url = f"/api/jobs/{job_id}/events"
        async with contextlib.AsyncExitStack() as streams:
            for _ in range(2):
                stream = await streams.enter_async_context(
                    http.stream("GET", url, headers=auth(token))
                )
                assert stream.status_code == 200
                assert '"pending"' in await first_event(stream)
            refused = await http.get(url, headers=auth(token))
            assert refused.status_code == 429, refused.text
            assert refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["retry-after"]) >= 1
        # Both streams closed by the client: their slots are free again.
        async with asyncio.timeout(10):
            while True:
                async with http.stream("GET", url, headers=auth(token)) as stream:
                    if stream.status_code == 200:
                        assert '"pending"' in await first_event(stream)
                        break
                await asyncio.sleep(0.05)  # the server has not yet seen the disconnect
        # Another client's job is not its business: 404 (not a stream slot either way).
        assert (await http.get(url, headers=auth(other))).status_code == 404


async def test_openapi_declares_the_limits_and_the_quota_headers(api):
    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]
    # Every route that takes a client's token may answer the request rate's 429.
    assert "429" in paths["/api/jobs/{job_id}"]["get"]["responses"]
    assert "429" in paths["/api/quota"]["get"]["responses"]
    assert "429" not in paths["/api/genres"]["get"]["responses"]  # no token, no client limit
    for path, method, status in (
        ("/api/audio/analyze", "post", "202"),
        ("/api/quota", "get", "200"),
    ):
        headers = paths[path][method]["responses"][status]["headers"]
        assert {"X-Quota-Plan", "X-Quota-Limit", "X-Quota-Remaining", "X-Quota-Reset"} <= set(
            headers
        )
