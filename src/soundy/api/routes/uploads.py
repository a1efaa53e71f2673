"""``POST /api/uploads`` hands out a URL to PUT a file to; ``PUT /api/uploads/{id}/content``
is that URL for local storage.

File keys are made here, never by the client: ``uploads/<client id prefix>/<upload id>/<name>``.
With S3 storage the URL is a presigned S3 PUT. With local storage it is the API's own URL,
signed with HMAC-SHA256 over the upload id and the expiry time (``SOUNDY_SECRET_KEY``); the
signature is the PUT's only credential (like an S3 presigned URL), so it can be used by tools
that cannot send a bearer token. The PUT handler streams the body to storage and stops at the
declared size (and ``SOUNDY_MAX_UPLOAD_BYTES``): a longer body gets 413 and nothing is stored.
An upload URL is single use: storage is write-once, so once a PUT has placed the file every
other PUT (concurrent or later) gets 409 and changes nothing.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from soundy.api.auth import sign, verify
from soundy.api.deps import ClientDep, SessionDep, StateDep
from soundy.api.errors import InvalidSignature, RetryLater, UploadExpired
from soundy.api.schemas import ErrorBody, UploadCreate, UploadCreated
from soundy.db.models import Job, Upload
from soundy.errors import Conflict, InvalidRequest, NotFound, TooLarge

__all__ = ["router", "safe_filename", "upload_signature"]

router = APIRouter(tags=["uploads"])

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Longest file name kept in a key (characters).
_MAX_NAME_CHARS = 120


def safe_filename(filename: str) -> str:
    """The last path part of ``filename``, reduced to ``[A-Za-z0-9._-]`` (accents dropped,
    other runs replaced by ``_``), at most 120 characters, never empty, never a dot name."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("_", name).strip("._-")
    if len(name) > _MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: _MAX_NAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_NAME_CHARS]
    return name or "upload"


def upload_signature(secret_key: bytes, upload_id: uuid.UUID | str, expires: int) -> str:
    """HMAC-SHA256 (hex) over ``"put-upload\\n<upload id>\\n<expires unix s>"``."""
    return sign(secret_key, "put-upload", str(upload_id), str(expires))


async def _check_uploads_in_flight(session: AsyncSession, client_id: uuid.UUID, limit: int) -> None:
    """429 (``Retry-After``: until the oldest of them expires) when ``limit`` of the client's
    uploads are in flight: announced, URL not expired, bytes not arrived (local PUT) and used by
    no job (an S3 upload is known to have arrived once a job uses it). The client's
    transaction-level lock, released by the commit that adds the upload, makes the count hold
    under concurrent requests."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"uploads:{client_id}"}
    )
    row = (
        await session.execute(
            select(func.count(), func.min(Upload.expires_at)).where(
                Upload.client_id == client_id,
                Upload.completed_at.is_(None),
                Upload.expires_at > func.now(),
                ~exists().where(Job.upload_id == Upload.id),
            )
        )
    ).one()
    in_flight, first_expiry = int(row[0]), row[1]
    if in_flight >= limit:
        await session.rollback()
        wait_s = (first_expiry - datetime.now(UTC)).total_seconds() if first_expiry else 1
        raise RetryLater(
            f"{in_flight} of your uploads are waiting for their bytes (limit {limit}); "
            "PUT them, or wait for their URLs to expire",
            retry_after_s=math.ceil(wait_s),
        )


@router.post(
    "/api/uploads",
    status_code=201,
    response_model=UploadCreated,
    responses={
        401: {"model": ErrorBody},
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
        429: {"model": ErrorBody},
    },
    summary="Announce a file and get the URL to PUT its bytes to",
)
async def create_upload(
    body: UploadCreate,
    request: Request,
    client: ClientDep,
    session: SessionDep,
    state: StateDep,
) -> UploadCreated:
    settings = state.settings
    if any(unicodedata.category(ch) == "Cc" for ch in body.filename):
        raise InvalidRequest("filename: control characters are not allowed")
    if body.size > settings.max_upload_bytes:
        raise TooLarge(
            f"the file is {body.size} bytes; the largest upload is "
            f"{settings.max_upload_bytes} bytes"
        )
    await _check_uploads_in_flight(session, client.id, settings.max_uploads_in_flight_per_client)
    upload_id = uuid.uuid4()
    file_key = f"uploads/{client.id.hex[:12]}/{upload_id}/{safe_filename(body.filename)}"
    ttl_s = settings.upload_url_ttl_s
    expires = int(time.time()) + ttl_s
    expires_at = datetime.fromtimestamp(expires, UTC)
    presigned = await state.storage.presigned_put(file_key, size_bytes=body.size, expires_s=ttl_s)
    if presigned is None:
        # Never the request's Host header: a forged one would send the bytes elsewhere.
        base = (settings.public_url or "").rstrip("/")
        signature = upload_signature(state.secret_key, upload_id, expires)
        url = f"{base}/api/uploads/{upload_id}/content?expires={expires}&signature={signature}"
        headers = {"Content-Type": "application/octet-stream"}
    else:
        url, headers = presigned
    session.add(
        Upload(
            id=upload_id,
            client_id=client.id,
            file_key=file_key,
            filename=body.filename,
            size_bytes=body.size,
            expires_at=expires_at,
        )
    )
    await session.commit()
    return UploadCreated(
        upload_id=upload_id,
        file_key=file_key,
        upload_url=url,
        method="PUT",
        headers=headers,
        expires_at=expires_at,
        max_bytes=body.size,
    )


@router.put(
    "/api/uploads/{upload_id}/content",
    status_code=200,
    responses={
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
        413: {"model": ErrorBody},
    },
    summary="Receive a file's bytes (local storage; the URL from POST /api/uploads)",
)
async def put_upload_content(
    upload_id: str,
    request: Request,
    session: SessionDep,
    state: StateDep,
    expires: int = 0,
    signature: str = "",
) -> JSONResponse:
    # The signature authenticates this request; check it before touching anything else.
    if not signature or not verify(
        state.secret_key, signature, "put-upload", upload_id, str(expires)
    ):
        raise InvalidSignature("the upload URL's signature is invalid")
    if time.time() > expires:
        raise UploadExpired("the upload URL has expired; ask POST /api/uploads for a new one")
    try:
        key = uuid.UUID(upload_id)
    except ValueError as exc:  # cannot happen with a valid signature, but be explicit
        raise NotFound("no such upload") from exc
    upload = await session.get(Upload, key)
    if upload is None:
        raise NotFound("no such upload")
    if upload.completed_at is not None:
        raise Conflict("this upload has already received its file")
    limit_bytes = min(upload.size_bytes, state.settings.max_upload_bytes)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit_bytes:
        raise TooLarge(f"the body is {declared} bytes; this upload accepts {limit_bytes}")
    # Release the connection while the body streams in (uploads can take minutes).
    file_key, size_bytes = upload.file_key, upload.size_bytes
    await session.rollback()

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in request.stream():
            if chunk:
                yield chunk

    # Storage is write-once: of concurrent PUTs only the first to finish places its file; the
    # others (and any later one) get 409 and the stored file stays as it is.
    try:
        received = await state.storage.write_stream(
            file_key, chunks(), max_bytes=limit_bytes, exact_bytes=size_bytes
        )
    except TooLarge as exc:
        raise TooLarge(f"the body is larger than this upload's {limit_bytes} bytes") from exc
    except Conflict as exc:
        raise Conflict("this upload has already received its file") from exc
    now = datetime.now(UTC)
    won = (
        await session.execute(
            update(Upload)
            .where(Upload.id == key, Upload.completed_at.is_(None))
            .values(received_bytes=received, completed_at=now)
            .returning(Upload.id)
        )
    ).first()
    await session.commit()
    if won is None:
        raise Conflict("this upload has already received its file")
    return JSONResponse({"upload_id": str(key), "file_key": file_key, "size": received})
