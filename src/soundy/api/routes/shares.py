"""Read-only share links: ``POST``/``GET``/``DELETE /api/jobs/{id}/share`` (the owner's, with
its token) and ``GET /api/shared/{token}`` (anyone's, no token).

A link opens one completed job's report (and its reference's result, in reference mode) and
nothing else: not the owner, the upload key, the other jobs. The page for people is
``/r/{token}`` (``soundy.web``). A revoked token answers 404, as one that never existed.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from soundy.api.deps import ClientDep, SessionDep, StateDep
from soundy.api.routes.jobs import own_job
from soundy.api.schemas import (
    LANG_QUERY_PATTERN,
    ErrorBody,
    SharedJob,
    SharedReport,
    ShareOut,
    ShareState,
)
from soundy.db.models import Share
from soundy.errors import Conflict, NotFound
from soundy.jobs import shares, store
from soundy.jobs.results import result_of
from soundy.result import JobStatus, Mode, Stage

__all__ = ["router"]

router = APIRouter(tags=["shares"])


def _share_out(request: Request, row: Share) -> ShareOut:
    base = str(request.base_url).rstrip("/")
    return ShareOut(
        job_id=row.job_id,
        token=row.token,
        url=f"{base}/r/{row.token}",
        api_url=f"/api/shared/{row.token}",
        created_at=row.created_at,
    )


@router.post(
    "/api/jobs/{job_id}/share",
    response_model=ShareOut,
    status_code=201,
    responses={
        200: {"model": ShareOut, "description": "The job's link already existed."},
        401: {"model": ErrorBody},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody, "description": "The job is not completed."},
    },
    summary="Make (or return) the read-only link to a completed job's report",
)
async def create_share(
    job_id: str, request: Request, response: Response, client: ClientDep, session: SessionDep
) -> ShareOut:
    job = await own_job(session, client, job_id)
    if job.status != JobStatus.COMPLETED:
        raise Conflict("only a completed job's report can be shared")
    row, created = await shares.share(session, job.id)
    if not created:
        response.status_code = 200
    return _share_out(request, row)


@router.get(
    "/api/jobs/{job_id}/share",
    response_model=ShareState,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="The job's live read-only link (link: null when it has none)",
)
async def get_share(
    job_id: str, request: Request, client: ClientDep, session: SessionDep
) -> ShareState:
    job = await own_job(session, client, job_id)
    row = await shares.live_share(session, job.id)
    return ShareState(link=None if row is None else _share_out(request, row))


@router.delete(
    "/api/jobs/{job_id}/share",
    status_code=204,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="Revoke the job's read-only link: it stops working at once, for good",
)
async def revoke_share(job_id: str, client: ClientDep, session: SessionDep) -> Response:
    job = await own_job(session, client, job_id)
    if not await shares.revoke(session, job.id):
        raise NotFound("this job has no share link")
    return Response(status_code=204)


@router.get(
    "/api/shared/{token}",
    response_model=SharedReport,
    responses={404: {"model": ErrorBody, "description": "Unknown or revoked link."}},
    summary="A shared report, without a token",
)
async def get_shared(
    token: str,
    session: SessionDep,
    state: StateDep,
    lang: str | None = Query(
        default=None,
        pattern=LANG_QUERY_PATTERN,
        description="Render the suggestions in this language (en, pt-BR) instead of the job's.",
    ),
) -> SharedReport:
    job = await shares.shared_job(session, token) if len(token) <= 64 else None
    if job is None:
        raise NotFound("no such shared report (the link is wrong or was revoked)")
    result = await result_of(session, job, lang=lang, cache=state.comparisons)
    reference = None
    if job.reference_job_id is not None:
        ref_job = await store.get_job(session, job.reference_job_id)
        if ref_job is not None and ref_job.client_id == job.client_id:
            reference = await result_of(session, ref_job, lang=lang, cache=state.comparisons)
    return SharedReport(
        job=SharedJob(
            id=job.id,
            status=JobStatus(job.status),
            mode=Mode(job.mode),
            genre=job.genre,
            destination=job.destination,
            analysis_stage=Stage(job.analysis_stage or Stage.MASTER),
            lang=job.lang,
            filename=job.file_key.rsplit("/", 1)[-1],
            created_at=job.created_at,
            finished_at=job.finished_at,
            result=result,
        ),
        reference=reference,
    )
