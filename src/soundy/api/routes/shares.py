"""Read-only share links: ``POST``/``GET``/``DELETE /api/jobs/{id}/share`` and
``/api/albums/{id}/share`` (the owner's, with its token), ``GET /api/shared/{token}`` and
``GET /api/shared/albums/{token}`` (anyone's, no token).

A job link opens one completed job's report (and its reference's result, in reference mode); an
album link opens one album's report. Nothing else: not the owner, the upload key, the other jobs
(an album link does not even give its tracks' job ids). The pages for people are ``/r/{token}``
and ``/r/albums/{token}`` (``soundy.web``). A revoked token answers 404, as one that never
existed, and a job's token is a 404 on the album route and the other way round.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from soundy.api.deps import ClientDep, SessionDep, StateDep
from soundy.api.routes.albums import album_tracks
from soundy.api.routes.jobs import own_job
from soundy.api.schemas import (
    LANG_QUERY_PATTERN,
    ErrorBody,
    SharedAlbum,
    SharedAlbumTrack,
    SharedJob,
    SharedReport,
    ShareOut,
    ShareState,
)
from soundy.db.models import Share
from soundy.errors import NotFound
from soundy.jobs import albums, shares, store
from soundy.jobs.results import result_of
from soundy.result import JobStatus, Mode, Stage

__all__ = ["router", "share_out"]

router = APIRouter(tags=["shares"])


def share_out(base_url: str | None, row: Share) -> ShareOut:
    """The link as the API and ``soundy share --json`` give it, under ``base_url``."""
    kind = "albums/" if row.album_id is not None else ""
    return ShareOut(
        job_id=row.job_id,
        album_id=row.album_id,
        token=row.token,
        url=shares.link_url(base_url, row),
        api_url=f"/api/shared/{kind}{row.token}",
        created_at=row.created_at,
    )


def _base_url(request: Request, state: StateDep) -> str:
    # SOUNDY_PUBLIC_URL when set, so the request's Host header never goes into a link the
    # owner sends on (as for upload URLs).
    return state.settings.public_url or str(request.base_url)


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
    job_id: str,
    request: Request,
    response: Response,
    client: ClientDep,
    session: SessionDep,
    state: StateDep,
) -> ShareOut:
    job = await own_job(session, client, job_id)
    row, created = await shares.share_job(session, job)
    if not created:
        response.status_code = 200
    return share_out(_base_url(request, state), row)


@router.get(
    "/api/jobs/{job_id}/share",
    response_model=ShareState,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="The job's live read-only link (link: null when it has none)",
)
async def get_share(
    job_id: str, request: Request, client: ClientDep, session: SessionDep, state: StateDep
) -> ShareState:
    job = await own_job(session, client, job_id)
    row = await shares.live_share(session, job_id=job.id)
    return ShareState(link=None if row is None else share_out(_base_url(request, state), row))


@router.delete(
    "/api/jobs/{job_id}/share",
    status_code=204,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="Revoke the job's read-only link: it stops working at once, for good",
)
async def revoke_share(job_id: str, client: ClientDep, session: SessionDep) -> Response:
    job = await own_job(session, client, job_id)
    if not await shares.revoke(session, job_id=job.id):
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
    job = await shares.shared_job(session, token)
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


@router.post(
    "/api/albums/{album_id}/share",
    response_model=ShareOut,
    status_code=201,
    responses={
        200: {"model": ShareOut, "description": "The album's link already existed."},
        401: {"model": ErrorBody},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody, "description": "A track of the album is still running."},
    },
    summary="Make (or return) the read-only link to an album's report",
)
async def create_album_share(
    album_id: str,
    request: Request,
    response: Response,
    client: ClientDep,
    session: SessionDep,
    state: StateDep,
) -> ShareOut:
    album = await albums.get_album(session, client_id=client.id, album_id=album_id)
    row, created = await shares.share_album(session, album)
    if not created:
        response.status_code = 200
    return share_out(_base_url(request, state), row)


@router.get(
    "/api/albums/{album_id}/share",
    response_model=ShareState,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="The album's live read-only link (link: null when it has none)",
)
async def get_album_share(
    album_id: str, request: Request, client: ClientDep, session: SessionDep, state: StateDep
) -> ShareState:
    album = await albums.get_album(session, client_id=client.id, album_id=album_id)
    row = await shares.live_share(session, album_id=album.id)
    return ShareState(link=None if row is None else share_out(_base_url(request, state), row))


@router.delete(
    "/api/albums/{album_id}/share",
    status_code=204,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="Revoke the album's read-only link: it stops working at once, for good",
)
async def revoke_album_share(album_id: str, client: ClientDep, session: SessionDep) -> Response:
    album = await albums.get_album(session, client_id=client.id, album_id=album_id)
    if not await shares.revoke(session, album_id=album.id):
        raise NotFound("this album has no share link")
    return Response(status_code=204)


@router.get(
    "/api/shared/albums/{token}",
    response_model=SharedAlbum,
    responses={404: {"model": ErrorBody, "description": "Unknown or revoked link."}},
    summary="A shared album report, without a token",
)
async def get_shared_album(
    token: str,
    session: SessionDep,
    lang: str | None = Query(
        default=None,
        pattern=LANG_QUERY_PATTERN,
        description="Write the report's messages in this language (en, pt-BR) instead of the "
        "album's.",
    ),
) -> SharedAlbum:
    album = await shares.shared_album(session, token)
    if album is None:
        raise NotFound("no such shared album (the link is wrong or was revoked)")
    view = await albums.album_view(session, album, lang=lang)
    return SharedAlbum(
        name=album.name,
        lang=album.lang,
        created_at=album.created_at,
        status="pending" if view.status == JobStatus.PENDING else "completed",
        tracks=[
            SharedAlbumTrack(**track.model_dump(exclude={"job_id"})) for track in album_tracks(view)
        ],
        report=view.report,
    )
