"""Object storage for uploaded files: a local folder or an S3-compatible bucket.

``open_storage(settings)`` picks the backend from ``SOUNDY_STORAGE_URL``:

* ``file:///srv/soundy/files`` -> :class:`LocalStorage` (default: ``<data_dir>/files``)
* ``s3://bucket/optional/prefix`` -> :class:`S3Storage` (``SOUNDY_S3_ENDPOINT_URL`` for MinIO,
  SeaweedFS, Backblaze B2, Cloudflare R2; credentials from the ``AWS_*`` variables)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from soundy.storage._base import Storage, check_key
from soundy.storage.local import LocalStorage
from soundy.storage.s3 import S3Storage

if TYPE_CHECKING:
    from soundy.config import Settings

__all__ = ["LocalStorage", "S3Storage", "Storage", "check_key", "open_storage"]


def open_storage(settings: Settings) -> Storage:
    """The storage named by ``settings.resolved_storage_url``."""
    url = settings.resolved_storage_url
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(Path(url2pathname(unquote(parts.path))))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"SOUNDY_STORAGE_URL {url!r} names no bucket")
        return S3Storage(
            parts.netloc, unquote(parts.path).strip("/"), endpoint_url=settings.s3_endpoint_url
        )
    raise ValueError(f"SOUNDY_STORAGE_URL {url!r}: use file:///path or s3://bucket/prefix")
