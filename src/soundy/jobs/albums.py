"""Albums: several of a client's jobs read as one release (table ``albums``).

:func:`create_album` checks and stores the track order; :func:`album_view` reads the jobs again
and derives the album report from their measurements (``soundy.compare.album``), so an album
made while its jobs run shows its report once they have finished.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from soundy.compare.album import album_report
from soundy.compare.messages import normalise_lang
from soundy.db.models import Album, Job
from soundy.errors import InvalidRequest, NotFound
from soundy.jobs.store import ACTIVE_STATUSES
from soundy.result import AlbumReport, JobStatus, Measurements

__all__ = ["AlbumView", "album_view", "create_album", "get_album", "list_albums"]


@dataclass(frozen=True)
class AlbumView:
    """An album as read now: its jobs in track order (None for a job deleted since) and the
    report (None while a job is pending or processing, or when no track has a result)."""

    album: Album
    jobs: list[Job | None]
    report: AlbumReport | None

    @property
    def status(self) -> str:
        """``pending`` while any of its jobs is pending or processing, else ``completed``."""
        active = any(j is not None and j.status in ACTIVE_STATUSES for j in self.jobs)
        return JobStatus.PENDING.value if active else JobStatus.COMPLETED.value


async def _jobs(
    session: AsyncSession, client_id: uuid.UUID, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Job]:
    stmt = select(Job).where(Job.id.in_(list(ids)), Job.client_id == client_id)
    return {job.id: job for job in (await session.execute(stmt)).scalars()}


async def create_album(
    session: AsyncSession,
    *,
    client_id: uuid.UUID,
    job_ids: Sequence[uuid.UUID],
    name: str | None,
    lang: str | None,
    max_tracks: int,
) -> Album:
    """Store an album of the client's jobs in this order (2 to ``max_tracks``, each once)."""
    if not 2 <= len(job_ids) <= max_tracks:
        raise InvalidRequest(f"job_ids: an album has 2 to {max_tracks} tracks, not {len(job_ids)}")
    if len(set(job_ids)) != len(job_ids):
        raise InvalidRequest("job_ids: a job may appear only once in an album")
    found = await _jobs(session, client_id, job_ids)
    missing = [str(j) for j in job_ids if j not in found]
    if missing:
        raise NotFound(f"no such job: {', '.join(missing)}")
    album = Album(id=uuid.uuid4(), client_id=client_id, name=name, job_ids=list(job_ids), lang=lang)
    session.add(album)
    await session.commit()
    await session.refresh(album)
    return album


async def get_album(session: AsyncSession, *, client_id: uuid.UUID, album_id: str) -> Album:
    """The client's album; NotFound for another client's, as for one that does not exist."""
    try:
        key = uuid.UUID(album_id)
    except ValueError:
        raise NotFound("no such album") from None
    album = await session.get(Album, key)
    if album is None or album.client_id != client_id:
        raise NotFound("no such album")
    return album


async def album_view(session: AsyncSession, album: Album, *, lang: str | None = None) -> AlbumView:
    """The album with its jobs as they are now and, once none is running, its report (of the
    completed tracks, in album order; a failed track is left out and listed as failed)."""
    found = await _jobs(session, album.client_id, album.job_ids)
    jobs = [found.get(job_id) for job_id in album.job_ids]
    report = None
    done = [j for j in jobs if j is not None and j.status == JobStatus.COMPLETED and j.result]
    if done and not any(j is not None and j.status in ACTIVE_STATUSES for j in jobs):
        measurements: list[Measurements] = [j.result for j in done if j.result is not None]
        report = album_report(
            measurements,
            names=[j.file_key.rsplit("/", 1)[-1] for j in done],
            lang=normalise_lang(lang or album.lang),
        )
    return AlbumView(album=album, jobs=jobs, report=report)


async def list_albums(session: AsyncSession, *, client_id: uuid.UUID, limit: int) -> list[Album]:
    """The client's albums, newest first, at most ``limit``."""
    stmt = (
        select(Album)
        .where(Album.client_id == client_id)
        .order_by(Album.created_at.desc(), Album.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
