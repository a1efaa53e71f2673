"""The rules of starting a job: ``submit`` (a client's new analysis) and ``retry`` (an operator's).

Both write the job row and commit before anything is queued: the row is the source of truth, so
if the queue add fails the job still exists and the reconciler queues it later
(docs/architecture.md, "Job lifecycle"). The routes only parse, call and return.

The errors raised are those of :mod:`soundy.errors`; the API maps them to HTTP statuses.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from soundy import metrics
from soundy.compare import DESTINATIONS, list_profiles
from soundy.db.models import Job, Upload
from soundy.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    TooLarge,
    TransientError,
    UploadIncomplete,
    audio_deleted,
)
from soundy.jobs import quota, store
from soundy.jobs.quota import Quota
from soundy.pipeline.queue import enqueue
from soundy.result import JobStatus, Mode, Stage

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from soundy.config import Settings
    from soundy.storage import Storage

__all__ = ["Submission", "Submitted", "retry", "submit"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Submission:
    """What a client asks to analyse, and what to compare it with."""

    file_key: str
    mode: Mode = Mode.GENRE
    genre: str | None = None
    destination: str | None = None
    # A mix before mastering or a finished master: sets the loudness, true-peak and DR targets.
    stage: Stage = Stage.MASTER
    reference_job_id: uuid.UUID | None = None
    # "en" | "pt-BR"; None = English.
    lang: str | None = None
    # The song this upload is a version of (GET /api/songs/{song}); None = no song.
    song: str | None = None
    # Also encode with the platforms' delivery codecs and measure the decodes (costs CPU).
    codec_check: bool = False


@dataclass(frozen=True)
class Submitted:
    """A job just created, and the client's quota with it counted."""

    job: Job
    quota: Quota


def _known_genres() -> set[str]:
    """Genre keys a job may name (the comparison's profiles, incl. SOUNDY_GENRES_DIR)."""
    return {profile.key for profile in list_profiles()}


def _known_destinations() -> tuple[str, ...]:
    """Destination keys a job may name (``soundy.compare.DESTINATIONS``)."""
    return DESTINATIONS


def _check_choices(request: Submission) -> None:
    if request.mode is Mode.REFERENCE and request.reference_job_id is None:
        raise InvalidRequest("reference_job_id: required when mode is 'reference'")
    if request.mode is Mode.GENRE and request.reference_job_id is not None:
        raise InvalidRequest("reference_job_id: only allowed when mode is 'reference'")
    if request.genre is not None and request.genre not in _known_genres():
        raise InvalidRequest(
            f"genre: unknown genre {request.genre!r}; GET /api/genres lists the known ones"
        )
    if request.destination is not None:
        destinations = _known_destinations()
        if request.destination not in destinations:
            raise InvalidRequest(f"destination: must be one of {', '.join(sorted(destinations))}")


async def _stored_upload(
    session: AsyncSession, storage: Storage, settings: Settings, client_id: uuid.UUID, key: str
) -> Upload:
    """The client's upload of ``key``, once all its declared bytes are in storage."""
    upload = (
        await session.execute(
            select(Upload).where(Upload.file_key == key, Upload.client_id == client_id)
        )
    ).scalar_one_or_none()
    if upload is None:
        raise NotFound("no such upload; create one with POST /api/uploads and PUT the file")
    if upload.audio_deleted_at is not None:
        raise audio_deleted(upload.audio_deleted_at)
    stored_bytes = await storage.size(upload.file_key)
    if stored_bytes is None or stored_bytes < upload.size_bytes:
        got = stored_bytes or 0
        raise UploadIncomplete(
            f"the upload has {got} of {upload.size_bytes} bytes; PUT the file to its upload_url"
        )
    if stored_bytes > settings.max_upload_bytes:
        raise TooLarge(
            f"the stored file is {stored_bytes} bytes; the limit is {settings.max_upload_bytes}"
        )
    if stored_bytes != upload.size_bytes:
        raise UploadIncomplete(
            f"the stored file is {stored_bytes} bytes but {upload.size_bytes} were declared"
        )
    return upload


async def _check_reference(
    session: AsyncSession, client_id: uuid.UUID, reference_job_id: uuid.UUID
) -> None:
    reference = await store.get_job(session, reference_job_id)
    if reference is None or reference.client_id != client_id:
        raise NotFound("reference_job_id: no such job")
    if reference.status != JobStatus.COMPLETED:
        raise Conflict(
            f"reference_job_id: the reference job is {reference.status}; it must be completed first"
        )


async def _queue(settings: Settings, job: Job) -> None:
    try:
        await enqueue(settings, job_id=job.id, file_key=job.file_key, mode=job.mode)
    except TransientError as exc:
        _log.warning("job %s: queue add failed (%s); the reconciler will add it", job.id, exc)


async def submit(
    session: AsyncSession,
    *,
    settings: Settings,
    storage: Storage,
    client_id: uuid.UUID,
    plan: str | None = None,
    request: Submission,
) -> Submitted:
    """Create a ``pending`` job for a client's upload and queue it; ``plan`` is the client's
    ``clients.plan`` (None = the default plan).

    Refused: choices that do not fit together or name an unknown genre or destination
    (``InvalidRequest``); an upload that is not the client's (``NotFound``), not fully stored
    (``UploadIncomplete``), too large (``TooLarge``) or whose audio was deleted
    (``AudioDeleted``); a reference job that is not the client's or not completed; and more
    than ``SOUNDY_MAX_JOBS_IN_FLIGHT_PER_CLIENT`` jobs pending or processing (``RateLimited``);
    a plan's analyses of the month used up (``QuotaExceeded``, in the request's language).
    """
    _check_choices(request)
    upload = await _stored_upload(session, storage, settings, client_id, request.file_key)
    if request.reference_job_id is not None:
        await _check_reference(session, client_id, request.reference_job_id)

    # Serialise this client's job creations so the monthly quota and the in-flight limit hold
    # under concurrency (the transaction-level lock is released by create_job's commit).
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"jobs:{client_id}"}
    )
    used = await quota.quota_of(session, settings, client_id=client_id, plan=plan)
    if used.exhausted:
        await session.rollback()
        raise quota.quota_exceeded(used, request.lang)
    in_flight = await store.count_in_flight(session, client_id=client_id)
    if in_flight >= settings.max_jobs_in_flight_per_client:
        await session.rollback()
        raise RateLimited(
            f"{in_flight} of your jobs are pending or processing (limit "
            f"{settings.max_jobs_in_flight_per_client}); wait for one to finish"
        )
    job = await store.create_job(
        session,
        client_id=client_id,
        upload_id=upload.id,
        file_key=upload.file_key,
        mode=request.mode,
        genre=request.genre,
        destination=request.destination,
        analysis_stage=request.stage.value,
        reference_job_id=request.reference_job_id,
        lang=request.lang,
        song=request.song,
        codec_check=request.codec_check,
    )
    metrics.JOBS_CREATED.inc()
    await _queue(settings, job)
    return Submitted(job=job, quota=used.plus_one())


async def retry(session: AsyncSession, *, settings: Settings, job_id: str) -> Job:
    """Retry a failed job as a NEW ``pending`` job of the same client with the same inputs.

    A job's status never moves backwards, so the failed job stays failed. Only a failed job can
    be retried (``Conflict``); the per-client in-flight limit does not apply to an operator, and
    the new job does not count against the client's monthly quota (``quota_exempt``).
    """
    old = await store.get_job(session, job_id)
    if old is None:
        raise NotFound("no such job")
    if old.status != JobStatus.FAILED:
        raise Conflict(f"the job is {old.status}; only a failed job can be retried")
    upload = None if old.upload_id is None else await session.get(Upload, old.upload_id)
    if upload is not None and upload.audio_deleted_at is not None:
        raise audio_deleted(upload.audio_deleted_at)
    new = await store.create_job(
        session,
        client_id=old.client_id,
        upload_id=old.upload_id,
        file_key=old.file_key,
        mode=old.mode,
        genre=old.genre,
        destination=old.destination,
        analysis_stage=old.analysis_stage,
        reference_job_id=old.reference_job_id,
        lang=old.lang,
        quota_exempt=True,
        song=old.song,
        codec_check=old.codec_check,
    )
    metrics.JOBS_CREATED.inc()
    _log.info("job %s: retried by an operator as job %s", old.id, new.id)
    await _queue(settings, new)
    return new
