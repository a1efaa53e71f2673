"""The storage protocol both backends follow, and the key rules they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from soundy.errors import Conflict, InvalidRequest

__all__ = ["Storage", "already_stored", "check_key", "check_size"]


@runtime_checkable
class Storage(Protocol):
    """Where uploaded files live. Every method is async; blocking I/O runs in a thread.

    Keys are made by the server (``uploads/<client>/<uuid>/<name>``), never by a client; they
    are relative POSIX paths without ``..`` parts. Storage is write-once: a key that holds a
    file is never written again (a stored file never changes under a job).
    """

    async def presigned_put(
        self, key: str, *, size_bytes: int, expires_s: int
    ) -> tuple[str, dict[str, str]] | None:
        """A URL (and the headers to send with it) that accepts one HTTP PUT of the file's bytes
        for ``expires_s`` seconds, and only while no file is stored under ``key``; ``None`` when
        the backend has no such URL (local folder: the API serves its own signed upload URL and
        calls :meth:`write_stream`)."""
        ...

    def upload_origin(self) -> str | None:
        """The origin (``https://host[:port]``) of :meth:`presigned_put` URLs, which the web
        page's CSP must let it connect to; ``None`` when uploads go to the API itself."""
        ...

    async def write_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        max_bytes: int,
        exact_bytes: int | None = None,
    ) -> int:
        """Store ``chunks`` under ``key``; returns the size in bytes.

        Atomic: readers see the whole file or nothing. More than ``max_bytes`` raises
        :class:`soundy.errors.TooLarge`, a size other than ``exact_bytes`` (when given)
        :class:`soundy.errors.InvalidRequest`, both leaving nothing behind. Write-once: when a
        file is stored under ``key`` already, or another writer stores one first, raises
        :class:`soundy.errors.Conflict` and the stored file stays as it was.
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


def already_stored(key: str) -> Conflict:
    """The error of a write to a key that holds a file (storage is write-once)."""
    return Conflict(f"a file is already stored under {key!r}; stored files never change")


def check_size(size_bytes: int, exact_bytes: int | None) -> None:
    """Refuse a finished body whose size is not the declared one (nothing is stored)."""
    if exact_bytes is not None and size_bytes != exact_bytes:
        raise InvalidRequest(
            f"received {size_bytes} bytes but {exact_bytes} were declared; send the whole file"
        )
