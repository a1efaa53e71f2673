"""Read-only share links to a job's report (table ``shares``, :class:`soundy.db.models.Share`).

A job has at most one live link. :func:`share` returns it, making one when there is none;
:func:`revoke` ends it for good; :func:`shared_job` is what a link's token opens (None once
revoked). Each function commits its own transaction.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from soundy.db.models import Job, Share

__all__ = ["TOKEN_BYTES", "live_share", "revoke", "share", "shared_job"]

#: Random bytes in a token (``secrets.token_urlsafe``): 192 bits, 32 URL-safe characters.
TOKEN_BYTES = 24


async def live_share(session: AsyncSession, job_id: uuid.UUID) -> Share | None:
    """The job's live (not revoked) link, or None."""
    stmt = select(Share).where(Share.job_id == job_id, Share.revoked_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def share(session: AsyncSession, job_id: uuid.UUID) -> tuple[Share, bool]:
    """(the job's live link, whether it was made now). Two requests at once get the same link:
    the partial unique index lets only one insert win, and the other reads the winner's."""
    existing = await live_share(session, job_id)
    if existing is not None:
        return existing, False
    row = Share(id=uuid.uuid4(), job_id=job_id, token=secrets.token_urlsafe(TOKEN_BYTES))
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        winner = await live_share(session, job_id)
        if winner is None:  # revoked in between: a new one
            return await share(session, job_id)
        return winner, False
    await session.refresh(row)
    return row, True


async def revoke(session: AsyncSession, job_id: uuid.UUID) -> bool:
    """End the job's live link; False when it had none."""
    stmt = (
        update(Share)
        .where(Share.job_id == job_id, Share.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(Share.id)
    )
    ended = (await session.execute(stmt)).first() is not None
    await session.commit()
    return ended


async def shared_job(session: AsyncSession, token: str) -> Job | None:
    """The job a live link's token opens, or None (unknown or revoked token)."""
    stmt = (
        select(Job)
        .join(Share, Share.job_id == Job.id)
        .where(Share.token == token, Share.revoked_at.is_(None))
    )
    return (await session.execute(stmt)).scalar_one_or_none()
