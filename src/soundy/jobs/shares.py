"""Read-only share links to a job's report or an album's (table ``shares``,
:class:`soundy.db.models.Share`).

A job, and an album, has at most one live link. :func:`share` returns it, making one when there
is none; :func:`revoke` ends it for good; :func:`shared_job` and :func:`shared_album` are what a
link's token opens (None once revoked, or for a token of the other kind). :func:`link_path` is
the page a link opens, for the API, the page and ``soundy share``. Each function that writes
commits its own transaction.

Every function takes its target as ``job_id=`` or ``album_id=`` (exactly one).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from soundy.db.models import Album, Job, Share
from soundy.errors import Conflict
from soundy.jobs.albums import album_view
from soundy.result import JobStatus

__all__ = [
    "MAX_TOKEN_CHARS",
    "TOKEN_BYTES",
    "link_path",
    "link_url",
    "live_share",
    "new_token",
    "revoke",
    "revoke_token",
    "share",
    "share_album",
    "share_job",
    "shared_album",
    "shared_job",
]

#: Random bytes in a token (``secrets.token_urlsafe``): 192 bits, 32 URL-safe characters.
TOKEN_BYTES = 24
#: The column's width: a longer token is unknown without a query.
MAX_TOKEN_CHARS = 64


def new_token() -> str:
    """A share token: ``secrets.token_urlsafe(TOKEN_BYTES)`` that does not start with "-", so
    that ``soundy share revoke TOKEN`` does not read it as an option (1 in 64 did)."""
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        pass
    return token


def _target(job_id: uuid.UUID | None, album_id: uuid.UUID | None) -> Any:
    if (job_id is None) == (album_id is None):
        raise TypeError("name exactly one of job_id and album_id")
    return Share.job_id == job_id if job_id is not None else Share.album_id == album_id


def link_path(row: Share) -> str:
    """The page the link opens: ``/r/{token}`` for a job, ``/r/albums/{token}`` for an album."""
    return f"/r/albums/{row.token}" if row.album_id is not None else f"/r/{row.token}"


def link_url(base_url: str | None, row: Share) -> str:
    """The link under ``base_url`` (``SOUNDY_PUBLIC_URL``, or the API's own address); only the
    path when there is none."""
    return (base_url or "").rstrip("/") + link_path(row)


async def live_share(
    session: AsyncSession, *, job_id: uuid.UUID | None = None, album_id: uuid.UUID | None = None
) -> Share | None:
    """The job's or album's live (not revoked) link, or None."""
    stmt = select(Share).where(_target(job_id, album_id), Share.revoked_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def share(
    session: AsyncSession, *, job_id: uuid.UUID | None = None, album_id: uuid.UUID | None = None
) -> tuple[Share, bool]:
    """(the live link, whether it was made now). Two requests at once get the same link: the
    partial unique index lets only one insert win, and the other reads the winner's."""
    _target(job_id, album_id)
    existing = await live_share(session, job_id=job_id, album_id=album_id)
    if existing is not None:
        return existing, False
    row = Share(
        id=uuid.uuid4(),
        job_id=job_id,
        album_id=album_id,
        token=new_token(),
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        winner = await live_share(session, job_id=job_id, album_id=album_id)
        if winner is None:  # revoked in between: a new one
            return await share(session, job_id=job_id, album_id=album_id)
        return winner, False
    await session.refresh(row)
    return row, True


async def share_job(session: AsyncSession, job: Job) -> tuple[Share, bool]:
    """:func:`share` for a completed job; Conflict for one still running or failed."""
    if job.status != JobStatus.COMPLETED:
        raise Conflict("only a completed job's report can be shared")
    return await share(session, job_id=job.id)


async def share_album(session: AsyncSession, album: Album) -> tuple[Share, bool]:
    """:func:`share` for an album that has its report; Conflict while a track runs or when no
    track completed."""
    if (await album_view(session, album)).report is None:
        raise Conflict(
            "only an album whose tracks have finished (one at least completed) can be shared"
        )
    return await share(session, album_id=album.id)


async def revoke(
    session: AsyncSession, *, job_id: uuid.UUID | None = None, album_id: uuid.UUID | None = None
) -> bool:
    """End the job's or album's live link; False when it had none."""
    stmt = (
        update(Share)
        .where(_target(job_id, album_id), Share.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(Share.id)
    )
    ended = (await session.execute(stmt)).first() is not None
    await session.commit()
    return ended


async def revoke_token(session: AsyncSession, token: str) -> Share | None:
    """End the live link with this token (``soundy share revoke``); None when no live link has
    it."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    stmt = (
        update(Share)
        .where(Share.token == token, Share.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(Share)
    )
    ended = (await session.execute(stmt)).scalar_one_or_none()
    await session.commit()
    return ended


async def shared_job(session: AsyncSession, token: str) -> Job | None:
    """The job a live job link's token opens, or None (unknown, revoked or an album's)."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    stmt = (
        select(Job)
        .join(Share, Share.job_id == Job.id)
        .where(Share.token == token, Share.revoked_at.is_(None))
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def shared_album(session: AsyncSession, token: str) -> Album | None:
    """The album a live album link's token opens, or None (unknown, revoked or a job's)."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    stmt = (
        select(Album)
        .join(Share, Share.album_id == Album.id)
        .where(Share.token == token, Share.revoked_at.is_(None))
    )
    return (await session.execute(stmt)).scalar_one_or_none()
