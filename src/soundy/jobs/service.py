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
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from soundy import metrics
from soundy.compare import DESTINATIONS, list_profiles
from soundy.db.models import Job, Upload
from soundy.db.session import fetch_row
from soundy.errors import (
    Conflict,
    InvalidRequest,
    NotFound,
    RateLimited,
    TooLarge,
    TransientError,
    UploadIncomplete,
    audio_deleted,
    key_revoked,
    unknown_token,
)
from soundy.jobs import quota, store
from soundy.jobs.quota import Quota
from soundy.pipeline.queue import enqueue
from soundy.result import JobStatus, Mode, Stage

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from soundy.config import Settings
    from soundy.storage import Storage

__all__ = ["NewJob", "Submission", "Submitted", "retry", "submit"]

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


@dataclass(frozen=True, kw_only=True, slots=True)
class NewJob:
    """A job row as ``soundy_create_job`` just inserted it: its values, not an ORM ``Job``
    (building one, with SQLAlchemy's attribute events, was about 11 % of the API's CPU per
    POST). The same attribute names and types as ``Job``'s columns but ``result``."""

    id: uuid.UUID
    client_id: uuid.UUID
    upload_id: uuid.UUID
    file_key: str
    mode: str
    genre: str | None
    destination: str | None
    analysis_stage: str
    reference_job_id: uuid.UUID | None
    lang: str | None
    song: str | None
    codec_check: bool
    created_at: datetime
    quota_exempt: bool = False
    status: str = JobStatus.PENDING.value
    progress: int = 0
    stage: str | None = store.STAGE_QUEUED
    attempts: int = 0
    error_code: str | None = None
    error_message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def updated_at(self) -> datetime:
        return self.created_at  # both are the insert's now()


@dataclass(frozen=True)
class Submitted:
    """A job just created, and the client's quota with it counted."""

    job: NewJob
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


async def _check_stored(
    storage: Storage, settings: Settings, file_key: str, declared_bytes: int
) -> None:
    """All ``declared_bytes`` of the upload are in storage, and no more than the limit."""
    stored_bytes = await storage.size(file_key)
    if stored_bytes is None or stored_bytes < declared_bytes:
        got = stored_bytes or 0
        raise UploadIncomplete(
            f"the upload has {got} of {declared_bytes} bytes; PUT the file to its upload_url"
        )
    if stored_bytes > settings.max_upload_bytes:
        raise TooLarge(
            f"the stored file is {stored_bytes} bytes; the limit is {settings.max_upload_bytes}"
        )
    if stored_bytes != declared_bytes:
        raise UploadIncomplete(
            f"the stored file is {stored_bytes} bytes but {declared_bytes} were declared"
        )


# submit's first statement: the client (revoked? plan?), its upload of the key, the reference
# job, and the plans rows that decide the client's limit; one row, or none for a client that no
# longer exists. $1 client id, $2 file key, $3 reference job id, $4 plan names.
_CLIENT_AND_UPLOAD = """
    SELECT c.plan, c.revoked_at,
           u.id AS upload_id, u.size_bytes, u.audio_deleted_at,
           r.client_id AS reference_client_id, r.status AS reference_status,
           (SELECT coalesce(json_agg(json_build_array(p.name, p.analyses_per_month)), '[]')
              FROM plans p WHERE p.name = ANY(CAST($4 AS text[]))
                              OR p.name = c.plan) AS plan_rows
      FROM clients c
      LEFT JOIN uploads u ON u.client_id = c.id AND u.file_key = $2
      LEFT JOIN jobs r ON r.id = $3
     WHERE c.id = $1
"""

# The client's lock, the counts and the insert: the function of migration 0013 (the in-flight
# count a read of 0014's counter), one statement.
_CREATE_JOB = """
    SELECT quota_used, in_flight, created_at
      FROM soundy_create_job($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
"""


async def _queue(settings: Settings, job: Job | NewJob) -> None:
    try:
        await enqueue(settings, job_id=job.id, file_key=job.file_key, mode=job.mode)
    except TransientError as exc:
        _log.warning("job %s: queue add failed (%s); the reconciler will add it", job.id, exc)


async def submit(
    engine: AsyncEngine,
    *,
    settings: Settings,
    storage: Storage,
    client_id: uuid.UUID,
    request: Submission,
) -> Submitted:
    """Create a ``pending`` job for a client's upload and queue it.

    Refused: a client that no longer exists or whose key was revoked (``Unauthorized``);
    choices that do not fit together or name an unknown genre or destination
    (``InvalidRequest``); an upload that is not the client's (``NotFound``), not fully stored
    (``UploadIncomplete``), too large (``TooLarge``) or whose audio was deleted
    (``AudioDeleted``); a reference job that is not the client's or not completed; and more
    than ``SOUNDY_MAX_JOBS_IN_FLIGHT_PER_CLIENT`` jobs pending or processing (``RateLimited``);
    a plan's analyses of the month used up (``QuotaExceeded``, in the request's language).

    Two statements, each on its own (autocommit, by asyncpg: ``fetch_row``): the client with
    its upload, its reference job and its plan; then ``soundy_create_job`` (migrations 0013,
    0014), which takes the client's lock, counts the quota, reads the in-flight counter and
    inserts. Then the queue add.
    """
    _check_choices(request)
    now = datetime.now(UTC)
    month_start, resets_at = quota.month_bounds(now)
    async with engine.connect() as conn:
        # Each statement on its own, run by asyncpg (fetch_row): no BEGIN or COMMIT round
        # trips; the first only reads, the second is atomic by itself.
        found = await fetch_row(
            conn,
            _CLIENT_AND_UPLOAD,
            client_id,
            request.file_key,
            request.reference_job_id,
            quota.plans_to_resolve(settings, None),
        )
        if found is None:
            raise unknown_token()
        if found["revoked_at"] is not None:
            raise key_revoked(found["revoked_at"])
        if found["upload_id"] is None:
            raise NotFound("no such upload; create one with POST /api/uploads and PUT the file")
        if found["audio_deleted_at"] is not None:
            raise audio_deleted(found["audio_deleted_at"])
        await _check_stored(storage, settings, request.file_key, found["size_bytes"])
        if request.reference_job_id is not None:
            if found["reference_client_id"] != client_id:
                raise NotFound("reference_job_id: no such job")
            if found["reference_status"] != JobStatus.COMPLETED:
                raise Conflict(
                    f"reference_job_id: the reference job is {found['reference_status']}; "
                    "it must be completed first"
                )
        limits = quota.limits_with_rows(settings, [tuple(row) for row in found["plan_rows"]])
        plan = quota.resolve_plan(limits, settings, found["plan"])
        quota_limit = limits[plan]
        in_flight_limit = settings.max_jobs_in_flight_per_client
        job_id = uuid.uuid4()
        upload_id = uuid.UUID(bytes=found["upload_id"].bytes)
        created = await fetch_row(
            conn,
            _CREATE_JOB,
            job_id,
            client_id,
            upload_id,
            request.file_key,
            request.mode.value,
            request.genre,
            request.destination,
            request.stage.value,
            request.reference_job_id,
            request.lang,
            request.song,
            request.codec_check,
            month_start,
            quota_limit,
            in_flight_limit,
        )
    assert created is not None  # the function returns one row
    used = Quota(
        plan=plan, limit=quota_limit, used=created["quota_used"], resets_at=resets_at, now=now
    )
    if created["created_at"] is None:  # refused: nothing was inserted
        if used.exhausted:
            raise quota.quota_exceeded(used, request.lang)
        raise RateLimited(
            f"{created['in_flight']} of your jobs are pending or processing (limit "
            f"{in_flight_limit}); wait for one to finish"
        )
    # The row as stored: the values just inserted, and the insert's now().
    job = NewJob(
        id=job_id,
        client_id=client_id,
        upload_id=upload_id,
        file_key=request.file_key,
        mode=request.mode.value,
        genre=request.genre,
        destination=request.destination,
        analysis_stage=request.stage.value,
        reference_job_id=request.reference_job_id,
        lang=request.lang,
        song=request.song,
        codec_check=request.codec_check,
        created_at=created["created_at"],
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
