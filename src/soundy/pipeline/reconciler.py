"""The reconciler: makes the queue agree with PostgreSQL, so no job is lost or stranded.

PostgreSQL is the source of truth; Redis only carries work. Every ``SOUNDY_RECONCILE_INTERVAL_S``
seconds, inside each worker process, one pass runs, and only one at a time across all machines
(``pg_try_advisory_xact_lock``: a worker that does not get the lock skips the pass). A pass looks
at jobs still ``pending`` or ``processing`` whose row has not changed for
``SOUNDY_RECONCILE_MIN_AGE_S`` seconds and asks BullMQ for each one's state:

=================================  ==========================================================
BullMQ state                       action
=================================  ==========================================================
waiting, active, delayed, ...      none: the queue will run it (a dead worker's active job
                                   comes back through BullMQ's own stalled-job check)
missing (``unknown``)              add it again (same idempotent id): the API's add failed
                                   (Redis down) or Redis lost its data
completed                          a finished BullMQ job whose row did not finish (its last
                                   write was lost): remove the BullMQ entry and add it again
failed                             BullMQ gave up (e.g. stalled too often) but the row did not
                                   record it: fail the row with BullMQ's reason
=================================  ==========================================================

Completed and failed *rows* are never touched.

The same pass deletes abandoned uploads: announced with ``POST /api/uploads`` but used by no
job, ``SOUNDY_ABANDONED_UPLOAD_RETENTION_S`` after their upload URL expired (the row first, in
the locked transaction; then the stored file). And it deletes the stored audio of analysed
uploads ``SOUNDY_AUDIO_RETENTION_S`` after the last job on them finished, when none is pending
or processing: the upload row records ``audio_deleted_at`` (in the locked transaction), then
the file goes; jobs and results stay, and the API answers 410 ``audio_deleted`` to a new
analysis or an operator's retry of that upload.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from soundy import jobs, metrics
from soundy.db.session import sessionmaker
from soundy.errors import TransientError
from soundy.pipeline import queue
from soundy.storage import open_storage

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from soundy.config import Settings

__all__ = ["LOCK_KEY", "ReconcileReport", "reconcile_once", "run_reconciler"]

log = logging.getLogger("soundy.reconciler")

# pg advisory lock key: the bytes "soundyrc" read as a signed 64-bit integer.
LOCK_KEY = int.from_bytes(b"soundyrc", "big", signed=True)
# Jobs looked at per pass (oldest first); the rest wait for the next pass.
BATCH_LIMIT = 500


@dataclass
class ReconcileReport:
    """What one pass did (job ids as strings)."""

    locked: bool = True
    checked: int = 0
    enqueued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # File keys of the abandoned uploads deleted.
    purged_uploads: list[str] = field(default_factory=list)
    # File keys of analysed uploads whose audio was deleted (retention).
    purged_audio: list[str] = field(default_factory=list)


async def reconcile_once(settings: Settings, engine: AsyncEngine) -> ReconcileReport:
    """One pass; ``locked=False`` when another process holds the lock (nothing done)."""
    report = ReconcileReport()
    # The lock lives as long as this transaction, on this connection only.
    async with engine.connect() as conn, conn.begin():
        got = (
            await conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        ).scalar()
        if not got:
            report.locked = False
            return report
        sessions = sessionmaker(engine)
        async with sessions() as session:
            rows = await jobs.pending_or_processing(
                session, older_than_s=settings.reconcile_min_age_s, limit=BATCH_LIMIT
            )
        report.checked = len(rows)
        for row in rows:
            job_id = str(row.id)
            state = await queue.queue_state(settings, job_id)
            if state in queue.ACTIVE_STATES:
                continue
            if state == "failed":
                reason = await queue.failed_reason(settings, job_id)
                async with sessions() as session:
                    if await jobs.fail(
                        session,
                        job_id,
                        code="queue_failed",
                        message=f"the queue gave up on the job: {reason}",
                    ):
                        report.failed.append(job_id)
                        log.warning(
                            "job %s failed in the queue (%s); row marked failed", job_id, reason
                        )
                continue
            if state == "completed":
                await queue.remove(settings, job_id)
            await queue.enqueue(settings, job_id=job_id, file_key=row.file_key, mode=row.mode)
            report.enqueued.append(job_id)
            log.info(
                "job %s (%s, queue state %s) was re-added to the queue", job_id, row.status, state
            )
        report.purged_uploads = await _delete_abandoned_upload_rows(settings, conn)
        if settings.audio_retention_s is not None:
            report.purged_audio = await _mark_expired_audio(settings.audio_retention_s, conn)
    await _delete_stored_files(
        settings, {"abandoned": report.purged_uploads, "retention": report.purged_audio}
    )
    return report


async def _delete_abandoned_upload_rows(settings: Settings, conn: AsyncConnection) -> list[str]:
    """Delete (at most BATCH_LIMIT) upload rows no job uses, expired for longer than the
    retention; return their file keys. (A job created for one in that very instant, a day after
    its URL expired, would lose its file and fail with a readable "not found" reason.)"""
    result = await conn.execute(
        text(
            "DELETE FROM uploads WHERE id IN ("
            " SELECT u.id FROM uploads u"
            " WHERE u.expires_at < now() - make_interval(secs => :retention_s)"
            " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.upload_id = u.id)"
            " ORDER BY u.expires_at LIMIT :limit"
            ") RETURNING file_key"
        ),
        {"retention_s": settings.abandoned_upload_retention_s, "limit": BATCH_LIMIT},
    )
    return [str(key) for key in result.scalars()]


async def _mark_expired_audio(retention_s: float, conn: AsyncConnection) -> list[str]:
    """Mark (at most BATCH_LIMIT) analysed uploads whose every job finished more than
    ``retention_s`` ago as deleted; return their file keys. (A new job created for one in that
    very instant would find no file and fail with a readable "not found" reason.)"""
    result = await conn.execute(
        text(
            "UPDATE uploads SET audio_deleted_at = now() WHERE id IN ("
            " SELECT u.id FROM uploads u"
            " WHERE u.audio_deleted_at IS NULL"
            # Jobs finish after their upload was created: younger uploads cannot qualify.
            " AND u.created_at < now() - make_interval(secs => :retention_s)"
            " AND EXISTS (SELECT 1 FROM jobs j WHERE j.upload_id = u.id)"
            " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.upload_id = u.id"
            "  AND (j.finished_at IS NULL"
            "   OR j.finished_at >= now() - make_interval(secs => :retention_s)))"
            " ORDER BY u.created_at LIMIT :limit"
            ") RETURNING file_key"
        ),
        {"retention_s": retention_s, "limit": BATCH_LIMIT},
    )
    return [str(key) for key in result.scalars()]


async def _delete_stored_files(settings: Settings, file_keys: dict[str, list[str]]) -> None:
    """Delete the files whose rows were purged or marked, by reason ("abandoned" or
    "retention"), through one storage client; a failure only leaves an orphan file (logged)."""
    if not any(file_keys.values()):
        return
    storage = open_storage(settings)
    try:
        for reason, keys in file_keys.items():
            deleted = 0
            for file_key in keys:
                try:
                    await storage.delete(file_key)
                    deleted += 1
                except (TransientError, OSError) as exc:
                    log.warning("%s upload %s: file not deleted (%s)", reason, file_key, exc)
            if keys:
                metrics.STORED_FILES_DELETED.labels(reason=reason).inc(deleted)
                log.info("deleted %d stored upload(s) (%s)", deleted, reason)
    finally:
        await storage.aclose()


async def run_reconciler(settings: Settings, engine: AsyncEngine | None) -> None:
    """Run :func:`reconcile_once` every ``settings.reconcile_interval_s`` seconds, forever."""
    if engine is None:
        return
    interval_s = settings.reconcile_interval_s
    # A first pass soon after start (so a restart picks up orphans quickly), jittered so that
    # workers started together do not all try at once.
    await asyncio.sleep(min(interval_s, 1.0) * random.uniform(0.5, 1.0))
    while True:
        try:
            report = await reconcile_once(settings, engine)
            if report.enqueued or report.failed:
                log.info(
                    "reconciled %d job(s): %d re-added, %d failed",
                    report.checked,
                    len(report.enqueued),
                    len(report.failed),
                )
        except TransientError as exc:
            log.warning("reconcile pass skipped: %s", exc)
        except (DBAPIError, OSError) as exc:
            # Database down or not migrated: one line per pass, not a traceback.
            detail = str(getattr(exc, "orig", exc)).splitlines()[0]
            log.warning("reconcile pass skipped (database): %s", detail)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reconcile pass failed")
        await asyncio.sleep(interval_s * random.uniform(0.9, 1.1))
