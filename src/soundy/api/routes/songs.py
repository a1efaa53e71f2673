"""``GET /api/songs`` and ``GET /api/songs/{song}``: the versions of a song, as a history.

A job is a version of a song when it was analysed with ``"song": NAME``
(``POST /api/audio/analyze``). The history compares each version with the previous one that has
a result, on every measure, and says whether the score went up
(:func:`soundy.compare.versions.version_history`); it is derived on read, like a job's
comparison, so each version's score is against today's targets.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from sqlalchemy import func, select

from soundy.api.deps import ClientDep, SessionDep, StateDep
from soundy.api.schemas import (
    LANG_QUERY_PATTERN,
    SONG_MAX_VERSIONS,
    SONG_PATTERN,
    ErrorBody,
    SongHistory,
    SongList,
    SongSummary,
    SongVersion,
    job_out,
)
from soundy.compare.messages import normalise_lang
from soundy.compare.versions import version_history
from soundy.db.models import Job
from soundy.errors import NotFound
from soundy.jobs.results import result_of
from soundy.result import AnalysisResult

__all__ = ["router"]

router = APIRouter(tags=["songs"])


@router.get(
    "/api/songs",
    response_model=SongList,
    responses={401: {"model": ErrorBody}},
    summary="Your songs (jobs analysed with a song name), the most recently updated first",
)
async def list_songs(client: ClientDep, session: SessionDep) -> SongList:
    stmt = (
        select(Job.song, func.count(), func.max(Job.created_at))
        .where(Job.client_id == client.id, Job.song.is_not(None))
        .group_by(Job.song)
        .order_by(func.max(Job.created_at).desc())
        .limit(200)
    )
    rows = (await session.execute(stmt)).all()
    return SongList(
        songs=[SongSummary(song=str(song), versions=n, latest_at=at) for song, n, at in rows]
    )


@router.get(
    "/api/songs/{song}",
    response_model=SongHistory,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="A song's versions, oldest first: what moved since the previous version",
)
async def song_history(
    client: ClientDep,
    session: SessionDep,
    state: StateDep,
    song: str = Path(min_length=1, max_length=200, pattern=SONG_PATTERN),
    lang: str | None = Query(
        default=None,
        pattern=LANG_QUERY_PATTERN,
        description="Write the sentences and suggestions in this language (en, pt-BR).",
    ),
) -> SongHistory:
    name = song.strip()
    stmt = (
        select(Job)
        .where(Job.client_id == client.id, Job.song == name)
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(SONG_MAX_VERSIONS + 1)
    )
    newest_first = list((await session.execute(stmt)).scalars())
    if not newest_first:
        raise NotFound("no such song (no job was analysed with this song name)")
    total = int(
        (
            await session.execute(
                select(func.count()).where(Job.client_id == client.id, Job.song == name)
            )
        ).scalar_one()
    )
    jobs = list(reversed(newest_first[:SONG_MAX_VERSIONS]))
    results: list[AnalysisResult | None] = [
        await result_of(session, job, lang=lang, cache=state.comparisons) for job in jobs
    ]
    history = version_history(results, lang=normalise_lang(lang or jobs[-1].lang))
    first = total - len(jobs)
    for entry in history:  # number versions from the song's first, not the first shown
        entry["version"] += first
        if entry["previous_version"] is not None:
            entry["previous_version"] += first
    return SongHistory(
        song=name,
        versions=[
            SongVersion(job=job_out(job, result), history=entry)
            for job, result, entry in zip(jobs, results, history, strict=True)
        ],
        older_versions=first,
    )
