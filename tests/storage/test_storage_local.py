"""Local-folder storage: atomic writes, the size limit, reads, deletes, and key safety."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from soundy.config import Settings
from soundy.errors import Conflict, InvalidRequest, NotFound, TooLarge
from soundy.storage import LocalStorage, S3Storage, open_storage


async def _chunks(*parts: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for index, part in enumerate(parts):
        if fail_after is not None and index == fail_after:
            raise ConnectionResetError("client went away")
        yield part


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_download_to_another_file_system_copies(tmp_path: Path) -> None:
    """A worker's temporary folder may be on another file system than the storage (a tmpfs
    /tmp): the hard link fails there (EXDEV) and the file is copied instead."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no /dev/shm on another file system than the test's temporary folder")
    storage = LocalStorage(tmp_path)
    await storage.write_stream("uploads/c1/u1/a.wav", _chunks(b"RIFF" * 8), max_bytes=100)
    dest_dir = Path(tempfile.mkdtemp(dir=shm))
    try:
        await storage.download("uploads/c1/u1/a.wav", dest_dir / "a.wav")
        assert (dest_dir / "a.wav").read_bytes() == b"RIFF" * 8
        assert (dest_dir / "a.wav").stat().st_nlink == 1  # a copy, not a link
    finally:
        shutil.rmtree(dest_dir)


async def test_write_read_size_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    size = await storage.write_stream(
        "uploads/c1/u1/a.wav", _chunks(b"RIFF", b"data" * 10), max_bytes=100
    )
    assert size == 44
    assert await storage.size("uploads/c1/u1/a.wav") == 44
    dest = tmp_path / "copy.wav"
    await storage.download("uploads/c1/u1/a.wav", dest)
    assert dest.read_bytes() == b"RIFF" + b"data" * 10
    assert dest.stat().st_nlink == 2  # the same file system: a hard link, no bytes copied
    await storage.delete("uploads/c1/u1/a.wav")
    assert await storage.size("uploads/c1/u1/a.wav") is None
    # A job's download is its own: the stored file's deletion leaves it whole.
    assert dest.read_bytes() == b"RIFF" + b"data" * 10
    await storage.delete("uploads/c1/u1/a.wav")  # deleting twice is fine
    assert await storage.presigned_put("uploads/x", size_bytes=1, expires_s=60) is None


async def test_over_the_limit_raises_and_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    with pytest.raises(TooLarge):
        await storage.write_stream("k/big.wav", _chunks(b"x" * 60, b"x" * 60), max_bytes=100)
    assert await storage.size("k/big.wav") is None
    assert _files(tmp_path) == []


async def test_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert await storage.write_stream("k/f", _chunks(b"x" * 50, b"y" * 50), max_bytes=100) == 100


async def test_interrupted_upload_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(ConnectionResetError):
        await storage.write_stream("k/f.wav", _chunks(b"new", b"er", fail_after=1), max_bytes=100)
    assert _files(tmp_path) == []
    # The key is still free: a whole upload lands.
    assert await storage.write_stream("k/f.wav", _chunks(b"new"), max_bytes=100) == 3


async def test_a_stored_file_is_never_replaced(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await storage.write_stream("k/f.wav", _chunks(b"old"), max_bytes=100)
    with pytest.raises(Conflict):
        await storage.write_stream("k/f.wav", _chunks(b"new"), max_bytes=100)
    assert (tmp_path / "k" / "f.wav").read_bytes() == b"old"
    assert [p.name for p in _files(tmp_path / "k")] == ["f.wav"]


async def test_a_body_of_another_size_than_declared_stores_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(InvalidRequest, match="received 5 bytes but 6"):
        await storage.write_stream("k/f", _chunks(b"ab", b"cde"), max_bytes=10, exact_bytes=6)
    assert _files(tmp_path) == []


async def test_large_stream_is_written_whole(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    parts = [bytes([i % 256]) * 65536 for i in range(40)]  # 2.5 MiB, several buffered writes
    assert await storage.write_stream("k/big", _chunks(*parts), max_bytes=10**8) == 40 * 65536
    assert (tmp_path / "k" / "big").read_bytes() == b"".join(parts)


async def test_missing_file_is_not_found(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(NotFound):
        await storage.download("nope/x.wav", tmp_path / "x")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "a/../../b", "", "a//b", "a\\b"])
async def test_keys_cannot_escape_the_root(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(InvalidRequest):
        await storage.write_stream(key, _chunks(b"x"), max_bytes=10)
    with pytest.raises(InvalidRequest):
        await storage.size(key)


def test_open_storage_picks_the_backend_from_the_url(tmp_path: Path) -> None:
    local = open_storage(Settings(storage_url=(tmp_path / "my files").as_uri()))
    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "my files").resolve()

    default = open_storage(Settings(storage_url=None, data_dir=tmp_path))
    assert isinstance(default, LocalStorage) and default.root == (tmp_path / "files").resolve()

    s3 = open_storage(
        Settings(storage_url="s3://bucket/some/prefix/", s3_endpoint_url="http://127.0.0.1:9")
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    assert s3.object_key("uploads/a.wav") == "some/prefix/uploads/a.wav"
