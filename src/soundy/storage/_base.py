"""The storage protocol both backends follow, and the key rules they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from soundy.errors import InvalidRequest

__all__ = ["Storage", "check_key"]


@runtime_checkable
class Storage(Protocol):
    """Where uploaded files live. Every method is async; blocking I/O runs in a thread.

    Keys are made by the server (``uploads/<client>/<uuid>/<name>``), never by a client; they
    are relative POSIX paths without ``..`` parts.
    """

    async def presigned_put(
        self, key: str, *, size_bytes: int, expires_s: int
    ) -> tuple[str, dict[str, str]] | None:
        """A URL (and the headers to send with it) that accepts one HTTP PUT of the file's bytes
        for ``expires_s`` seconds; ``None`` when the backend has no such URL (local folder: the
        API serves its own signed upload URL and calls :meth:`write_stream`)."""
        ...

    async def write_stream(self, key: str, chunks: AsyncIterator[bytes], *, max_bytes: int) -> int:
        """Store ``chunks`` under ``key``; returns the size in bytes.

        Atomic: readers see the whole file or nothing. More than ``max_bytes`` raises
        :class:`soundy.errors.TooLarge` and leaves nothing behind.
        """
        ...

    async def size(self, key: str) -> int | None:
        """Size of the stored file in bytes, or ``None`` if there is none."""
        ...

    async def download(self, key: str, dest: Path) -> None:
        """Copy the file to ``dest``. Missing: :class:`NotFound`; storage unreachable:
        :class:`TransientError`."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""
        ...

    async def aclose(self) -> None:
        """Release connections (a no-op for the local folder)."""
        ...


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root (absolute, ``..``, backslashes, empty)."""
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "\x00" in key
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidRequest(f"invalid storage key {key!r}")
    return key
