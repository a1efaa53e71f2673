"""``POST /api/audio/analyze``: check the request, write the job row (commit), then queue it.

The row is the source of truth: if the queue add fails the answer is still 202 and the
reconciler adds the job later (DESIGN.md "Job lifecycle").
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header
from sqlalchemy import select, text

from soundy import metrics
from soundy.api.deps import ClientDep, SessionDep, StateDep
from soundy.api.errors import UploadIncomplete, audio_deleted
from soundy.api.schemas import AnalyzeRequest, ErrorBody, JobResponse, job_out
from soundy.db.models import Upload
from soundy.errors import Conflict, InvalidRequest, NotFound, RateLimited, TooLarge, TransientError
from soundy.pipeline import jobs
from soundy.pipeline.jobs import JobStatus

__all__ = ["known_destinations", "known_genres", "router"]

_log = logging.getLogger(__name__)

router = APIRouter(tags=["jobs"])


def known_genres() -> set[str]:
    """Genre keys a job may name (the comparison's profiles, incl. SOUNDY_GENRES_DIR)."""
    from soundy.compare import list_profiles

    return {profile.key for profile in list_profiles()}


def known_destinations() -> tuple[str, ...]:
    """Destination keys a job may name (``soundy.compare.DESTINATIONS``)."""
    from soundy.compare import DESTINATIONS

    return DESTINATIONS


def language_from_header(accept_language: str | None) -> str | None:
    """The suggestion language ("en" | "pt-BR") an ``Accept-Language`` header prefers (RFC 9110
    12.5.4: highest q first, ties in order), or None when it names neither."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, index, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality < 0 and (tag.startswith("pt") or tag.startswith("en")):
            return "pt-BR" if tag.startswith("pt") else "en"
    return None


def _validate(body: AnalyzeRequest) -> None:
    if body.mode == "reference" and body.reference_job_id is None:
        raise InvalidRequest("reference_job_id: required when mode is 'reference'")
    if body.mode == "genre" and body.reference_job_id is not None:
        raise InvalidRequest("reference_job_id: only allowed when mode is 'reference'")
    if body.genre is not None and body.genre not in known_genres():
        raise InvalidRequest(
            f"genre: unknown genre {body.genre!r}; GET /api/genres lists the known ones"
        )
    if body.destination is not None:
        destinations = known_destinations()
        if body.destination not in destinations:
            raise InvalidRequest(f"destination: must be one of {', '.join(sorted(destinations))}")


@router.post(
    "/api/audio/analyze",
    status_code=202,
    response_model=JobResponse,
    responses={
        401: {"model": ErrorBody},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
        410: {"model": ErrorBody, "description": "The upload's audio was deleted (retention)."},
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
        429: {"model": ErrorBody},
    },
    summary="Start analysing an uploaded file",
)
async def analyze(
    body: AnalyzeRequest,
    client: ClientDep,
    session: SessionDep,
    state: StateDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> JobResponse:
    """Suggestions are written in ``lang`` if given, else in the ``Accept-Language`` choice."""
    settings = state.settings
    _validate(body)

    upload = (
        await session.execute(
            select(Upload).where(Upload.file_key == body.file_key, Upload.client_id == client.id)
        )
    ).scalar_one_or_none()
    if upload is None:
        raise NotFound("no such upload; create one with POST /api/uploads and PUT the file")
    if upload.audio_deleted_at is not None:
        raise audio_deleted(upload.audio_deleted_at)
    stored_bytes = await state.storage.size(upload.file_key)
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

    if body.reference_job_id is not None:
        reference = await jobs.get_job(session, body.reference_job_id)
        if reference is None or reference.client_id != client.id:
            raise NotFound("reference_job_id: no such job")
        if reference.status != JobStatus.COMPLETED:
            raise Conflict(
                f"reference_job_id: the reference job is {reference.status}; "
                "it must be completed first"
            )

    # Serialise this client's job creations so the in-flight limit holds under concurrency
    # (the transaction-level lock is released by create_job's commit).
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"jobs:{client.id}"}
    )
    in_flight = await jobs.count_in_flight(session, client_id=client.id)
    if in_flight >= settings.max_jobs_in_flight_per_client:
        await session.rollback()
        raise RateLimited(
            f"{in_flight} of your jobs are pending or processing (limit "
            f"{settings.max_jobs_in_flight_per_client}); wait for one to finish"
        )
    job = await jobs.create_job(
        session,
        client_id=client.id,
        upload_id=upload.id,
        file_key=upload.file_key,
        mode=body.mode,
        genre=body.genre,
        destination=body.destination,
        analysis_stage=body.stage.value,
        reference_job_id=body.reference_job_id,
        lang=body.lang or language_from_header(accept_language),
    )
    metrics.JOBS_CREATED.inc()

    from soundy.pipeline.queue import enqueue

    try:
        await enqueue(settings, job_id=job.id, file_key=job.file_key, mode=job.mode)
    except TransientError as exc:
        _log.warning("job %s: queue add failed (%s); the reconciler will add it", job.id, exc)
    return JobResponse(job=job_out(job))
