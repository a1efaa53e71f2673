"""``POST /api/albums`` and ``GET /api/albums/{id}``: several of your jobs read as one release.

The rules (2 to ``SOUNDY_ALBUM_MAX_TRACKS`` jobs, each once, all yours) are in
:mod:`soundy.jobs.albums`; the report is :func:`soundy.compare.album.album_report` of the
completed tracks, derived on every read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query

from soundy.api.deps import ClientDep, SessionDep, StateDep
from soundy.api.routes.analyze import language_from_header
from soundy.api.schemas import (
    LANG_QUERY_PATTERN,
    AlbumCreate,
    AlbumList,
    AlbumOut,
    AlbumSummary,
    AlbumTrackOut,
    ErrorBody,
    JobError,
)
from soundy.jobs import albums
from soundy.result import JobStatus

__all__ = ["album_tracks", "router"]

router = APIRouter(tags=["albums"])


def album_tracks(view: albums.AlbumView) -> list[AlbumTrackOut]:
    """The album's tracks in order, each with its place in the report (the album's own page and
    its share link, ``soundy.api.routes.shares``)."""
    tracks = []
    report_index = 0
    for position, (job_id, job) in enumerate(zip(view.album.job_ids, view.jobs, strict=True)):
        index = None
        if view.report is not None and job is not None and job.status == JobStatus.COMPLETED:
            index = report_index
            report_index += 1
        error = None
        if job is not None and job.status == JobStatus.FAILED:
            error = JobError(code=job.error_code or "error", message=job.error_message or "")
        tracks.append(
            AlbumTrackOut(
                position=position + 1,
                job_id=job_id,
                status=None if job is None else JobStatus(job.status),
                filename=None if job is None else job.file_key.rsplit("/", 1)[-1],
                error=error,
                report_index=index,
            )
        )
    return tracks


def _album_out(view: albums.AlbumView) -> AlbumOut:
    tracks = album_tracks(view)
    return AlbumOut(
        id=view.album.id,
        name=view.album.name,
        lang=view.album.lang,
        created_at=view.album.created_at,
        status="pending" if view.status == JobStatus.PENDING else "completed",
        tracks=tracks,
        report=view.report,
    )


@router.post(
    "/api/albums",
    status_code=201,
    response_model=AlbumOut,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="Read several of your jobs as one album or EP, in track order",
)
async def create_album(
    body: AlbumCreate,
    client: ClientDep,
    session: SessionDep,
    state: StateDep,
    accept_language: Annotated[str | None, Header()] = None,
) -> AlbumOut:
    album = await albums.create_album(
        session,
        client_id=client.id,
        job_ids=body.job_ids,
        name=body.name,
        lang=body.lang or language_from_header(accept_language),
        max_tracks=state.settings.album_max_tracks,
    )
    return _album_out(await albums.album_view(session, album))


@router.get(
    "/api/albums",
    response_model=AlbumList,
    responses={401: {"model": ErrorBody}},
    summary="Your albums, newest first (without their reports)",
)
async def list_albums(
    client: ClientDep,
    session: SessionDep,
    limit: int = Query(default=20, ge=1, le=100, description="Albums to list."),
) -> AlbumList:
    rows = await albums.list_albums(session, client_id=client.id, limit=limit)
    return AlbumList(
        albums=[
            AlbumSummary(id=a.id, name=a.name, created_at=a.created_at, tracks=len(a.job_ids))
            for a in rows
        ]
    )


@router.get(
    "/api/albums/{album_id}",
    response_model=AlbumOut,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="An album: its tracks' jobs and, once none is running, the album report",
)
async def get_album(
    album_id: str,
    client: ClientDep,
    session: SessionDep,
    lang: str | None = Query(
        default=None,
        pattern=LANG_QUERY_PATTERN,
        description="Write the report's messages in this language (en, pt-BR).",
    ),
) -> AlbumOut:
    album = await albums.get_album(session, client_id=client.id, album_id=album_id)
    return _album_out(await albums.album_view(session, album, lang=lang))
