"""Connection limits of the served API (``soundy api``'s uvicorn options, soundy.api.server):
the request head's size and deadline, idle keep-alive connections, a body that stops arriving;
and forwarded headers believed only from configured proxies. Real uvicorn on a loopback port,
spoken to over raw sockets where a client misbehaves."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest


async def _connect(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(base_url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def _read_until_closed(reader: asyncio.StreamReader, timeout_s: float) -> bytes:
    async with asyncio.timeout(timeout_s):
        return await reader.read()


async def test_a_request_head_over_the_limit_is_refused(make_live_url):
    base = await make_live_url(max_request_header_bytes=16 * 1024)
    # Arriving in one read, it is parsed, then refused by the app.
    reader, writer = await _connect(base)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 64 * 1024 + b"\r\n\r\n")
    await writer.drain()
    answer = await _read_until_closed(reader, 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b'"headers_too_large"' in answer
    # 8 MB sent as it would be over a network: the server stops taking it once it passes the
    # limit, long before its end (the answer, a 431, may be lost to the reset of the connection).
    reader, writer = await _connect(base)
    sent = 0
    with contextlib.suppress(ConnectionError):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        while sent < 8 << 20:
            writer.write(b"a" * 65536)
            await writer.drain()
            sent += 65536
    with contextlib.suppress(ConnectionError):
        answer = await _read_until_closed(reader, 10)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431"), answer[:200]
    writer.close()
    assert sent < 8 << 20
    # Under the limit: served.
    async with httpx.AsyncClient(base_url=base) as http:
        ok = await http.get("/healthz", headers={"X-Big": "a" * 8 * 1024})
        assert ok.status_code == 200


async def test_body_bytes_do_not_count_towards_the_next_pipelined_head(make_live_url):
    """The server counts a head's bytes only while a head is awaited: a 40 KB body, then the
    next request's head in the same bytes, is not a head over the 4 KB limit."""
    base = await make_live_url(max_request_header_bytes=4096)
    reader, writer = await _connect(base)
    body = b'{"file_key": "' + b"a" * 40_000 + b'"}'
    post = b"POST /api/audio/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    writer.write(post + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    answer = await _read_until_closed(reader, 10)
    writer.close()
    # The first answer's body runs straight into the second's status line.
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", answer) == [b"401", b"200"], answer[:500]


async def test_a_request_head_trickled_past_the_deadline_is_cut_off(make_live_url):
    base = await make_live_url(request_header_timeout_s=1.0)
    reader, writer = await _connect(base)
    loop = asyncio.get_running_loop()
    opened_s = loop.time()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    await writer.drain()
    closed = asyncio.create_task(reader.read())
    # One header line every 0.2 s: never idle, never done. The server ends it at its deadline.
    while not closed.done() and loop.time() - opened_s < 10:
        writer.write(b"X-Slow: a\r\n")
        with_timeout = asyncio.wait({closed}, timeout=0.2)
        await with_timeout
    assert closed.done(), "the connection was still open after 10 s"
    assert closed.result() == b""  # closed without an answer
    assert loop.time() - opened_s < 5
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(make_live_url):
    base = await make_live_url(keep_alive_timeout_s=1)
    reader, writer = await _connect(base)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    started = asyncio.get_running_loop().time()
    answer = await _read_until_closed(reader, 10)
    assert answer.startswith(b"HTTP/1.1 200")
    assert asyncio.get_running_loop().time() - started < 5
    writer.close()


async def test_an_upload_body_that_stops_arriving_is_a_408_and_stores_nothing(
    make_live_url, settings, client_token, auth
):
    base = await make_live_url(request_body_idle_timeout_s=1.0)
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        created = (
            await http.post(
                "/api/uploads", json={"filename": "a.wav", "size": 1000}, headers=auth(client_token)
            )
        ).json()
        url = urlsplit(created["upload_url"])
        target = f"{url.path}?{url.query}"
        reader, writer = await _connect(base)
        writer.write(
            f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".encode()
            + b"x" * 400
        )
        await writer.drain()
        answer = await _read_until_closed(reader, 10)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
        assert b'"request_timeout"' in answer
        stored = Path(settings.data_dir) / "files" / created["file_key"]
        assert not stored.exists()
        assert not stored.parent.exists() or list(stored.parent.iterdir()) == []
        # The URL still takes the whole file.
        put = await http.put(created["upload_url"], content=b"y" * 1000, headers=created["headers"])
        assert put.status_code == 200, put.text


async def test_a_spoofed_forwarded_for_does_not_escape_the_client_creation_limit(make_live_url):
    base = await make_live_url(clients_per_ip_per_hour=2)
    async with httpx.AsyncClient(base_url=base) as http:
        statuses = [
            (
                await http.post("/api/clients", headers={"X-Forwarded-For": f"203.0.113.{i}"})
            ).status_code
            for i in range(3)
        ]
    assert statuses == [201, 201, 429]


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8"])
async def test_forwarded_for_counts_only_from_a_trusted_proxy(make_api, trusted):
    # httpx's in-process transport connects "from" 127.0.0.1.
    api = await make_api(clients_per_ip_per_hour=2, trusted_proxies=f"192.0.2.1, {trusted}")
    spread = [
        (await api.post("/api/clients", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
        for i in range(3)
    ]
    assert spread == [201, 201, 201]
    same = [
        (await api.post("/api/clients", headers={"X-Forwarded-For": "198.51.100.7"})).status_code
        for _ in range(3)
    ]
    assert same == [201, 201, 429]


async def test_cors_is_off_by_default(api):
    preflight = await api.options(
        "/api/jobs",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    answer = await api.get("/api/genres", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers


async def test_cors_allows_only_the_configured_origins(make_api):
    api = await make_api(cors_origins="https://app.example.com, https://other.example/")
    preflight = await api.options(
        "/api/uploads",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    answer = await api.get("/api/genres", headers={"Origin": "https://other.example"})
    assert answer.headers["access-control-allow-origin"] == "https://other.example"
    exposed = answer.headers["access-control-expose-headers"]
    quota = {"X-Quota-Plan", "X-Quota-Limit", "X-Quota-Remaining", "X-Quota-Reset"}
    assert quota | {"Retry-After"} <= {h.strip() for h in exposed.split(",")}
    refused = await api.options(
        "/api/uploads",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
