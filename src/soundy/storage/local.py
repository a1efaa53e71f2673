"""Files in a local folder (the embedded default, and single-machine installs)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

from soundy.errors import NotFound, TooLarge, TransientError
from soundy.storage._base import already_stored, check_key, check_size

__all__ = ["LocalStorage"]

# Chunks are gathered to this many bytes before one write in a worker thread.
_WRITE_BUFFER_BYTES = 1 << 20


class LocalStorage:
    """A folder on this machine; ``root/<key>`` holds each file.

    Writes go to a hidden temporary file in the same folder and are hard-linked into place
    (``link(2)`` fails when the name exists), so a reader sees a whole file or none, an
    interrupted upload leaves nothing under the key, and of two writers of one key only the
    first to finish places its file: a stored file is never replaced. The folder's file system
    must support hard links (every local Linux one does).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file's path on disk (whether or not it exists)."""
        return self.root / check_key(key)

    async def presigned_put(
        self, key: str, *, size_bytes: int, expires_s: int
    ) -> tuple[str, dict[str, str]] | None:
        check_key(key)
        return None

    def upload_origin(self) -> str | None:
        return None

    async def write_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        max_bytes: int,
        exact_bytes: int | None = None,
    ) -> int:
        final = self.path(key)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")

        def _open() -> BinaryIO:
            if final.exists():
                raise already_stored(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            return open(tmp, "wb")

        try:
            fh = await anyio.to_thread.run_sync(_open)
        except OSError as exc:
            raise TransientError(f"cannot write to local storage: {exc}") from exc
        size_bytes = 0
        buffer: list[bytes] = []
        buffered_bytes = 0

        async def _write(data: bytes) -> None:
            try:
                await anyio.to_thread.run_sync(fh.write, data)
            except OSError as exc:
                raise TransientError(f"cannot write to local storage: {exc}") from exc

        def _finish() -> None:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            try:
                os.link(tmp, final)  # never replaces: FileExistsError when another writer won
            except FileExistsError as exc:
                raise already_stored(key) from exc
            finally:
                tmp.unlink(missing_ok=True)

        try:
            async for chunk in chunks:
                size_bytes += len(chunk)
                if size_bytes > max_bytes:
                    raise TooLarge(f"the file is larger than the limit of {max_bytes} bytes")
                buffer.append(chunk)
                buffered_bytes += len(chunk)
                if buffered_bytes >= _WRITE_BUFFER_BYTES:
                    data = b"".join(buffer)
                    buffer, buffered_bytes = [], 0
                    await _write(data)
            if buffer:
                await _write(b"".join(buffer))
            check_size(size_bytes, exact_bytes)
            try:
                await anyio.to_thread.run_sync(_finish)
            except OSError as exc:
                raise TransientError(f"cannot write to local storage: {exc}") from exc
        except BaseException:
            fh.close()
            tmp.unlink(missing_ok=True)
            raise
        return size_bytes

    async def size(self, key: str) -> int | None:
        # One stat() of a local file, on the event loop: a thread hand-off costs more CPU than
        # the call (every POST /api/audio/analyze asks).
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    async def download(self, key: str, dest: Path) -> None:
        """A hard link at ``dest`` when it is on the storage's file system (no bytes move: a
        stored file is never changed, and a deleted one lives on under the link), else a copy."""
        path = self.path(key)
        if not path.is_file():
            raise NotFound(f"no stored file {key!r}")
        try:
            # One link(2) on the event loop: a thread hand-off costs more CPU than the call.
            os.link(path, dest)
            return
        except FileNotFoundError as exc:  # deleted meanwhile
            raise NotFound(f"no stored file {key!r}") from exc
        except OSError:  # another file system (EXDEV), or no hard links there: copy
            pass

        def _copy() -> None:
            try:
                shutil.copyfile(path, dest)
            except FileNotFoundError as exc:
                raise NotFound(f"no stored file {key!r}") from exc
            except OSError as exc:
                raise TransientError(f"cannot read from local storage: {exc}") from exc

        await anyio.to_thread.run_sync(_copy)

    async def delete(self, key: str) -> None:
        path = self.path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def aclose(self) -> None:
        return None
