"""Files in an S3-compatible bucket (AWS S3, MinIO, SeaweedFS, Backblaze B2, Cloudflare R2).

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a
profile, or an instance role); the region from ``AWS_REGION``/``AWS_DEFAULT_REGION`` (default
``us-east-1``; R2 wants ``auto``). ``SOUNDY_S3_ENDPOINT_URL`` points at a non-AWS server; with
it, requests use path-style addressing (``https://endpoint/bucket/key``), which every
S3-compatible server accepts.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from soundy.errors import NotFound, SoundyError, TooLarge, TransientError
from soundy.storage._base import already_stored, check_key, check_size

__all__ = ["S3Storage"]

# Uploads written through the API (write_stream) stay in memory up to this size, then spill.
_SPOOL_BYTES = 8 << 20
# Downloads are written in chunks of this size.
_DOWNLOAD_CHUNK_BYTES = 1 << 20
_MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
# A conditional write (If-None-Match: *) to a key that holds an object; 409 while another
# conditional write of the key is in progress (AWS).
_EXISTS_CODES = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}


def _map_error(exc: Exception, key: str) -> SoundyError:
    """boto3's errors -> Soundy's: missing -> NotFound, anything else -> TransientError."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING_CODES:
            return NotFound(f"no stored file {key!r}")
        return TransientError(f"object storage refused the request ({code}): {exc}")
    return TransientError(f"object storage is unreachable: {exc}")


class S3Storage:
    """Objects ``<prefix>/<key>`` in ``bucket``."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        )
        self._client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region or "us-east-1", config=config
        )

    _upload_origin: str | None = None

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def presigned_put(
        self, key: str, *, size_bytes: int, expires_s: int
    ) -> tuple[str, dict[str, str]] | None:
        """A SigV4 presigned PUT URL for exactly ``size_bytes`` bytes, once: the
        ``Content-Length`` and ``If-None-Match: *`` are signed headers, so S3 refuses (403) a
        body of any other length and (412) any PUT once an object is stored under the key, a
        concurrent one included. (Clients send the length anyway: curl and browsers set it
        from the body; ``If-None-Match`` is in the returned headers.) Conditional writes need
        AWS S3 (since August 2024) or a server that has them: SeaweedFS, MinIO, R2 do. The
        API still checks the stored size before an analysis."""
        params: dict[str, object] = {
            "Bucket": self.bucket,
            "Key": self.object_key(key),
            "ContentLength": int(size_bytes),
            "IfNoneMatch": "*",
        }

        def _sign() -> str:
            url: str = self._client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=int(expires_s), HttpMethod="PUT"
            )
            return url

        try:
            url = await anyio.to_thread.run_sync(_sign)
        except (BotoCoreError, ClientError) as exc:
            raise _map_error(exc, key) from exc
        return url, {"If-None-Match": "*"}

    def upload_origin(self) -> str | None:
        """From a URL presigned here for a made-up key (signing is local: no request)."""
        if self._upload_origin is None:
            try:
                url = self._client.generate_presigned_url(
                    "put_object", Params={"Bucket": self.bucket, "Key": "origin"}, ExpiresIn=60
                )
            except BotoCoreError:  # no credentials yet: the endpoint's origin, if one is set
                url = self.endpoint_url or ""
                if not url:
                    return None
            parts = urlsplit(url)
            self._upload_origin = f"{parts.scheme}://{parts.netloc}"
        return self._upload_origin

    async def write_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        max_bytes: int,
        exact_bytes: int | None = None,
    ) -> int:
        """Buffers (memory, then a temporary file) and PUTs once, conditionally
        (``If-None-Match: *``): S3 objects appear whole, and never replace one."""
        object_key = self.object_key(key)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            size_bytes = 0
            async for chunk in chunks:
                size_bytes += len(chunk)
                if size_bytes > max_bytes:
                    raise TooLarge(f"the file is larger than the limit of {max_bytes} bytes")
                spool.write(chunk)
            check_size(size_bytes, exact_bytes)
            spool.seek(0)

            def _put() -> None:
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=object_key,
                    Body=spool,
                    ContentLength=size_bytes,
                    IfNoneMatch="*",
                )

            try:
                await anyio.to_thread.run_sync(_put)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code", "")) in _EXISTS_CODES:
                    raise already_stored(key) from exc
                raise _map_error(exc, key) from exc
            except BotoCoreError as exc:
                raise _map_error(exc, key) from exc
            return size_bytes

    async def size(self, key: str) -> int | None:
        object_key = self.object_key(key)

        def _head() -> int | None:
            try:
                head = self._client.head_object(Bucket=self.bucket, Key=object_key)
            except ClientError as exc:
                error = _map_error(exc, key)
                if isinstance(error, NotFound):
                    return None
                raise error from exc
            except BotoCoreError as exc:
                raise _map_error(exc, key) from exc
            return int(head["ContentLength"])

        return await anyio.to_thread.run_sync(_head)

    async def download(self, key: str, dest: Path) -> None:
        """One GET, streamed to a part file that is renamed to ``dest`` when whole. Not
        boto3's ``download_file``: that sends a HEAD first and starts a thread pool for every
        call, a cost each job paid for files that are mostly a few MB."""
        object_key = self.object_key(key)
        part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")

        def _get() -> None:
            try:
                body = self._client.get_object(Bucket=self.bucket, Key=object_key)["Body"]
                try:
                    with part.open("wb") as out:
                        # botocore checks the length against Content-Length at the end.
                        for chunk in body.iter_chunks(_DOWNLOAD_CHUNK_BYTES):
                            out.write(chunk)
                finally:
                    body.close()
                os.replace(part, dest)
            except (BotoCoreError, ClientError) as exc:
                raise _map_error(exc, key) from exc
            finally:
                part.unlink(missing_ok=True)

        await anyio.to_thread.run_sync(_get)

    async def delete(self, key: str) -> None:
        object_key = self.object_key(key)

        def _delete() -> None:
            try:
                self._client.delete_object(Bucket=self.bucket, Key=object_key)
            except (BotoCoreError, ClientError) as exc:
                error = _map_error(exc, key)
                if not isinstance(error, NotFound):
                    raise error from exc

        await anyio.to_thread.run_sync(_delete)

    async def aclose(self) -> None:
        self._client.close()
