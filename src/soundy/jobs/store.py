"""Job rows and their transitions: ``pending -> processing -> completed | failed``.

Every transition is ONE conditional ``UPDATE ... WHERE id = :id AND status IN (...) RETURNING``
and returns the row it changed when it won (without its ``result``), or ``None`` when it found
the job in a state it may not leave.
A late or duplicate worker therefore can never overwrite a finished job, and a status never
moves backwards (docs/architecture.md#states-and-transitions). Each function commits its own
transaction. A transition takes a session or a connection (the worker's, cheaper); a ``Job``
object of the same session is refreshed by a transition that wins; ``get_job`` always returns
the stored state.

=============  ==========================  ===============================================
function       from                        to / effect
=============  ==========================  ===============================================
create_job     (new row)                   pending
start_attempt  pending, processing         processing; attempts += 1; stage "downloading"
set_progress   processing                  progress = max(old, new) in 0-100; stage
complete       processing                  completed; progress 100; result; finished_at
fail           pending, processing         failed; error code and message; finished_at
=============  ==========================  ===============================================
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import asyncpg
import orjson
from sqlalchemy import Table, Uuid, and_, bindparam, func, insert, or_, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.orm.util import identity_key

from soundy.db.models import Client, Job
from soundy.db.session import fetch_row
from soundy.result import JobStatus, Measurements

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "STAGE_DOWNLOADING",
    "ClientAndJob",
    "JobKey",
    "JobStatus",
    "client_and_job",
    "complete",
    "count_in_flight",
    "create_job",
    "fail",
    "get_job",
    "list_jobs",
    "pending_or_processing",
    "row_state",
    "set_progress",
    "start_attempt",
]


ACTIVE_STATUSES = (JobStatus.PENDING.value, JobStatus.PROCESSING.value)
FINAL_STATUSES = (JobStatus.COMPLETED.value, JobStatus.FAILED.value)

# Stage names a job passes through (the worker sets the middle ones).
STAGE_QUEUED = "queued"
STAGE_DOWNLOADING = "downloading"
STAGE_DONE = "done"


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def create_job(
    session: AsyncSession,
    *,
    client_id: uuid.UUID,
    file_key: str,
    mode: str,
    upload_id: uuid.UUID | None = None,
    genre: str | None = None,
    destination: str | None = None,
    reference_job_id: uuid.UUID | None = None,
    lang: str | None = None,
    job_id: uuid.UUID | None = None,
    analysis_stage: str = "master",
    quota_exempt: bool = False,
    song: str | None = None,
    codec_check: bool = False,
) -> Job:
    """Insert a ``pending`` job and commit, so it exists before anything is queued;
    ``quota_exempt`` jobs do not count against the client's monthly quota.

    One ``INSERT ... RETURNING`` gives the stored row (its server defaults included): no
    flush of a pending object and no second read."""
    stmt = insert(Job).values(
        id=job_id or uuid.uuid4(),
        client_id=client_id,
        upload_id=upload_id,
        file_key=file_key,
        mode=mode,
        genre=genre,
        destination=destination,
        analysis_stage=analysis_stage,
        reference_job_id=reference_job_id,
        lang=lang,
        quota_exempt=quota_exempt,
        song=song,
        codec_check=codec_check,
        status=JobStatus.PENDING.value,
        progress=0,
        stage=STAGE_QUEUED,
        attempts=0,
    )
    job: Job = (await session.execute(stmt.returning(Job))).scalar_one()
    await session.commit()
    return job


# (attribute name, column labelled j_<name>) of each column of a job but its result.
_JOB_COLUMNS = [
    (attribute.key, attribute.columns[0].label("j_" + attribute.key))
    for attribute in Job.__mapper__.column_attrs
    if attribute.key != "result"
]
_JOBS = cast(Table, Job.__table__)
# The uuid columns: asyncpg returns its own UUID type for them, made uuid.UUID as the ORM does.
_UUID_COLUMNS = frozenset(column.name for column in _JOBS.columns if isinstance(column.type, Uuid))
# A job's columns but the result (which never changes once stored), in the mapper's order:
# what a transition returns, and what a GET's cached body is checked against.
_ROW_ATTRIBUTES = tuple(name for name, _ in _JOB_COLUMNS)
_RETURNING = "RETURNING " + ", ".join(_ROW_ATTRIBUTES)
_ACTIVE = ", ".join(f"'{status}'" for status in ACTIVE_STATUSES)
_PROCESSING = f"'{JobStatus.PROCESSING.value}'"

# The transitions, each one conditional UPDATE (module docstring), in plain SQL for asyncpg.
_START_ATTEMPT = f"""
UPDATE jobs SET status = {_PROCESSING}, attempts = attempts + 1,
    started_at = coalesce(started_at, now()), stage = '{STAGE_DOWNLOADING}',
    error_code = NULL, error_message = NULL, updated_at = now()
WHERE id = $1 AND status IN ({_ACTIVE})
{_RETURNING}"""
# The new stage only when progress did not go backwards (SET reads the old values).
_SET_PROGRESS = f"""
UPDATE jobs SET progress = greatest(progress, $2),
    stage = CASE WHEN progress <= $2 THEN $3 ELSE stage END, updated_at = now()
WHERE id = $1 AND status = {_PROCESSING}
{_RETURNING}"""
_COMPLETE = f"""
UPDATE jobs SET status = '{JobStatus.COMPLETED.value}', progress = 100, stage = '{STAGE_DONE}',
    result = $2, error_code = NULL, error_message = NULL, finished_at = now(),
    updated_at = now()
WHERE id = $1 AND status = {_PROCESSING}
{_RETURNING}"""
_FAIL = f"""
UPDATE jobs SET status = '{JobStatus.FAILED.value}', error_code = $2, error_message = $3,
    finished_at = now(), updated_at = now()
WHERE id = $1 AND status IN ({_ACTIVE})
{_RETURNING}"""


async def _transition(
    db: AsyncSession | AsyncConnection, statement: str, *args: object
) -> Job | None:
    """Run one conditional ``UPDATE jobs ... RETURNING`` (``$1`` the job's id) and return the
    changed row as it is now without its ``result`` (None when no row changed), so the caller
    needs no second read.

    Run by asyncpg itself (:func:`fetch_row`) on the connection, or on the session's and then
    committed: outside a transaction the statement commits by itself, within the session's
    open one it joins it. SQLAlchemy's execution of a Core UPDATE (statement building,
    compiled cache key, parameters, result metadata, greenlet switches) made a job's two
    transitions (``start_attempt``, ``complete``) cost 2.2 ms of CPU instead of 1.3 ms, and a
    session around each (begin, commit, close) 0.4 ms more than a connection
    (docs/benchmarks.md); returning ``result`` would send the ~12 KB just written back. Only
    when a session already holds the job (loaded earlier; the worker passes connections) is
    that object refreshed and returned, so it shows no stale value.
    """
    if isinstance(db, AsyncConnection):
        row = await fetch_row(db, statement, *args)
        return None if row is None else _job_of(row)
    row = await fetch_row(await db.connection(), statement, *args)
    await db.commit()
    if row is None:
        return None
    job = _job_of(row)
    loaded = db.identity_map.get(identity_key(Job, job.id))
    if isinstance(loaded, Job):
        await db.refresh(loaded)
        return loaded
    return job


def _job_of(row: Mapping[str, Any], prefix: str = "") -> Job:
    """A ``Job`` of a row holding every column but ``result``, each named ``prefix`` + its
    name (a transition's returned row; ``j_`` in :func:`client_and_job`'s), its uuid columns
    as ``uuid.UUID``."""
    values = {}
    for name in _ROW_ATTRIBUTES:
        value = row[prefix + name]
        values[name] = (
            uuid.UUID(bytes=value.bytes) if name in _UUID_COLUMNS and value is not None else value
        )
    return Job(**values)


def row_state(job: Job) -> tuple[Any, ...]:
    """Every column of ``job`` but ``result``, in the mapper's order: equal to
    :meth:`ClientAndJob.job_columns` of the same row."""
    return tuple(getattr(job, name) for name in _ROW_ATTRIBUTES)


async def start_attempt(db: AsyncSession | AsyncConnection, job_id: uuid.UUID | str) -> Job | None:
    """``pending | processing -> processing``: one more attempt begins.

    ``attempts`` grows by one, ``started_at`` is set on the first attempt only, the stage
    becomes "downloading". Returns the row as it is now, or None when the job is finished (or
    does not exist): the caller must then drop the work, not redo it.
    """
    return await _transition(db, _START_ATTEMPT, _as_uuid(job_id))


async def set_progress(
    db: AsyncSession | AsyncConnection, job_id: uuid.UUID | str, *, progress: int, stage: str
) -> Job | None:
    """Record progress (percent, clamped to 0-100) and stage while the job is ``processing``.

    Progress never decreases: a lower value leaves progress and stage as they are (but the
    call still counts as a heartbeat: ``updated_at`` moves). Returns the row, or None when the
    job is not processing.
    """
    percent = max(0, min(100, int(progress)))
    return await _transition(db, _SET_PROGRESS, _as_uuid(job_id), percent, stage)


async def complete(
    db: AsyncSession | AsyncConnection, job_id: uuid.UUID | str, *, result: Measurements
) -> Job | None:
    """``processing -> completed`` with ``result``; progress 100, ``finished_at`` now.

    Returns the completed row, or None when the job is not processing (already completed,
    failed, or never started): the stored result is then left untouched.
    """
    # orjson: json.dumps spent 0.17 ms of CPU on a 10 s noise clip's 11.8 KB of measurements
    # and 0.9-1.0 ms on a song's 40-55 KB (their floats' repr), orjson a tenth. The same
    # JSON values: the measurements are JSON-safe already (soundy.analysis.measure.json_safe:
    # str keys, plain numbers, no NaN or infinity; orjson would write those as null).
    return await _transition(db, _COMPLETE, _as_uuid(job_id), orjson.dumps(result).decode())


async def fail(
    db: AsyncSession | AsyncConnection, job_id: uuid.UUID | str, *, code: str, message: str
) -> Job | None:
    """``pending | processing -> failed`` with a stable error ``code`` and a readable message.

    Returns the failed row, or None when the job is already completed or failed.
    """
    return await _transition(db, _FAIL, _as_uuid(job_id), code[:64], message)


async def get_job(session: AsyncSession, job_id: uuid.UUID | str) -> Job | None:
    """The job row as stored now (never a stale cached copy), or None."""
    try:
        key = _as_uuid(job_id)
    except ValueError:
        return None
    return (
        await session.execute(
            select(Job).where(Job.id == key).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


# Built once, with bound parameters: SQLAlchemy compiles it once and caches its key.
_CLIENT_AND_JOB = (
    select(
        # Of the client, what a GET checks: who it is and whether its key is revoked.
        Client.id.label("c_id"),
        Client.revoked_at.label("c_revoked_at"),
        *(column for _, column in _JOB_COLUMNS),
        Job.result.is_not(None).label("has_result"),
    )
    .select_from(Client)
    .outerjoin(
        Job, and_(Job.id == bindparam("job_id", type_=Job.id.type), Job.client_id == Client.id)
    )
    .where(Client.token_hash == bindparam("token_hash"))
)
# The same statement as asyncpg runs it ($1 = job_id, $2 = token_hash), for fetch_row.
_CLIENT_AND_JOB_COMPILED = _CLIENT_AND_JOB.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
assert _CLIENT_AND_JOB_COMPILED.positiontup == ["job_id", "token_hash"]
_CLIENT_AND_JOB_SQL = str(_CLIENT_AND_JOB_COMPILED)


class JobKey(NamedTuple):
    """The columns of a job its comparison key is made of (``soundy.jobs.results.KeyedJob``)."""

    id: uuid.UUID
    genre: str | None
    reference_job_id: uuid.UUID | None
    lang: str | None


@dataclass(frozen=True, slots=True)
class ClientAndJob:
    """One row of :func:`client_and_job` as asyncpg returned it: the client's id and
    revocation, and its job's columns. The ``Job`` is built from it only when asked: a GET
    served from its cached body needs none, and building it with a ``Client`` was about 7 %
    of the API's CPU per GET of a completed job."""

    row: asyncpg.Record

    @property
    def client_id(self) -> uuid.UUID:
        return cast(uuid.UUID, self.row["c_id"])

    @property
    def revoked_at(self) -> datetime | None:
        return cast(datetime | None, self.row["c_revoked_at"])

    @property
    def has_job(self) -> bool:
        """Whether the client has the job (another client's job is not read)."""
        return self.row["j_id"] is not None

    @property
    def has_result(self) -> bool:
        return bool(self.row["has_result"])

    def job(self) -> Job:
        """The job without its ``result`` (read it with :func:`get_job`)."""
        return _job_of(self.row, "j_")

    def job_key(self) -> JobKey:
        row = self.row
        return JobKey(row["j_id"], row["j_genre"], row["j_reference_job_id"], row["j_lang"])

    def job_columns(self) -> tuple[Any, ...]:
        """Every column of the job but ``result``, in the mapper's order: equal to
        :func:`row_state` of the same row's ``Job``."""
        return tuple(self.row[column.name] for _, column in _JOB_COLUMNS)


async def client_and_job(
    connection: AsyncConnection, token_hash: str, job_id: uuid.UUID | str
) -> ClientAndJob | None:
    """In one statement: the client of ``token_hash`` (its id and revocation) and its job
    ``job_id`` without its ``result`` (another client's job is not read), and whether the job
    has a result; None when no client has that token.

    Run by asyncpg itself (:func:`soundy.db.session.fetch_row`, the statement compiled once):
    SQLAlchemy's execution around it was about a sixth of the API's CPU per GET of a job."""
    try:
        key: uuid.UUID | None = _as_uuid(job_id)
    except ValueError:
        key = None
    row = await fetch_row(connection, _CLIENT_AND_JOB_SQL, key, token_hash)
    return None if row is None else ClientAndJob(row)


async def pending_or_processing(
    session: AsyncSession, *, older_than_s: float, limit: int
) -> list[Job]:
    """Jobs still pending or processing whose row has not changed for ``older_than_s`` seconds,
    oldest first, at most ``limit`` (for the reconciler)."""
    stmt = (
        select(Job)
        .where(
            Job.status.in_(ACTIVE_STATUSES),
            Job.updated_at < func.now() - timedelta(seconds=older_than_s),
        )
        .order_by(Job.updated_at)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def count_in_flight(session: AsyncSession, *, client_id: uuid.UUID) -> int:
    """How many of a client's jobs are pending or processing."""
    stmt = select(func.count()).where(Job.client_id == client_id, Job.status.in_(ACTIVE_STATUSES))
    return int((await session.execute(stmt)).scalar_one())


async def list_jobs(
    session: AsyncSession,
    *,
    client_id: uuid.UUID,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None = None,
    options: Sequence[ORMOption] = (),
) -> list[Job]:
    """A client's jobs newest first; ``before`` = (created_at, id) of the last row already seen
    (keyset pagination, stable while new jobs arrive); ``options`` e.g. ``defer(Job.result)``."""
    stmt = select(Job).options(*options).where(Job.client_id == client_id)
    if before is not None:
        created_at, last_id = before
        stmt = stmt.where(
            or_(Job.created_at < created_at, and_(Job.created_at == created_at, Job.id < last_id))
        )
    stmt = stmt.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())
