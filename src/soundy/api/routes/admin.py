"""The operator dashboard's API under ``/api/admin`` (the page itself is ``/admin``).

Behind ``SOUNDY_ADMIN_TOKEN`` (``settings.admin_token``), sent as ``Authorization: Bearer
<token>``:

* no admin token configured -> every ``/api/admin`` route answers 404 ``not_found`` (the
  dashboard is disabled, and says so in the message);
* a missing or wrong token -> 401 ``unauthorized``.

Routes:

=========================================  ===================================================
``GET  /api/admin/overview``               everything below in one answer (the page polls it)
``GET  /api/admin/queue``                  BullMQ counts: waiting, active, delayed, completed,
                                           failed
``GET  /api/admin/workers``                live workers: BullMQ's worker list (Redis
                                           ``CLIENT LIST`` names ``<prefix>:audio-analysis:w:
                                           <host:pid>``, one entry per worker process)
``GET  /api/admin/throughput``             jobs finished in the last minute / hour (Postgres)
``GET  /api/admin/failures?limit=N``       the most recent failed jobs with their reasons
``POST /api/admin/jobs/{id}/retry``        retry a failed job as a NEW job (see below)
``GET  /api/admin/plans``                  every plan's analyses per month, the default plan
``PUT  /api/admin/plans/{name}``           set a plan's analyses per month (a new plan, or a
                                           built-in one's override of its setting)
``PUT  /api/admin/clients/{id}/plan``      put a client (anonymous or key) on a plan
=========================================  ===================================================

Retry: a job's status never moves backwards (docs/architecture.md#states-and-transitions), so a
failed job stays failed. Retrying creates a new ``pending`` job of the same client with the same
inputs (file, mode, genre, destination, reference, language) and queues it; the answer is 202
with the new job and ``retry_of`` (the failed job's id). The client sees the new job in its own
list. A job that is not failed cannot be retried (409 ``conflict``). The per-client in-flight
limit does not apply to an operator's retry, and the new job does not count against the
client's monthly quota.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from soundy.api.deps import SessionDep, StateDep, bearer_token
from soundy.api.schemas import (
    PLAN_NAME_PATTERN,
    ClientPlan,
    ClientPlanOut,
    ErrorBody,
    Failure,
    Failures,
    Overview,
    PlanLimit,
    PlanOut,
    Plans,
    QueueCounts,
    Retried,
    Throughput,
    WorkerInfo,
    Workers,
    job_out,
)
from soundy.config import Settings
from soundy.db.models import Job
from soundy.errors import NotFound, TransientError, Unauthorized
from soundy.jobs import JobStatus, quota, service
from soundy.pipeline.queue import queue_counts, queue_workers

__all__ = ["router"]

_log = logging.getLogger(__name__)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong admin token."},
    404: {"model": ErrorBody, "description": "The dashboard is disabled (no admin token set)."},
}


def require_admin(
    state: StateDep, authorization: Annotated[str | None, Depends(bearer_token)]
) -> None:
    """404 when no admin token is configured; 401 unless the bearer token equals it."""
    expected = state.settings.admin_token
    if not expected:
        raise NotFound("the operator dashboard is disabled: set SOUNDY_ADMIN_TOKEN to enable it")
    if authorization is None or not hmac.compare_digest(
        authorization.encode("utf-8"), expected.encode("utf-8")
    ):
        raise Unauthorized("send 'Authorization: Bearer <SOUNDY_ADMIN_TOKEN>'")


router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=_RESPONSES,
)


async def _queue_counts(settings: Settings) -> QueueCounts:
    try:
        return QueueCounts.model_validate(await queue_counts(settings))
    except TransientError as exc:
        return QueueCounts(error=exc.message)


async def _workers(settings: Settings) -> Workers:
    """BullMQ's worker list (Redis CLIENT LIST), one entry per worker name."""
    try:
        clients = await queue_workers(settings)
    except TransientError as exc:
        return Workers(workers=[], error=exc.message)
    by_name: dict[str, WorkerInfo] = {}
    for client in clients:
        name = str(client["rawname"]).split(":w:", 1)[1]
        info = by_name.get(name)
        age_s, idle_s = _int(client.get("age")), _int(client.get("idle"))
        if info is None:
            by_name[name] = WorkerInfo(
                name=name, addr=client.get("addr"), age_s=age_s, idle_s=idle_s, connections=1
            )
        else:
            info.connections += 1
            info.age_s = max(filter(None, (info.age_s, age_s)), default=None)
            info.idle_s = min((v for v in (info.idle_s, idle_s) if v is not None), default=None)
    return Workers(workers=sorted(by_name.values(), key=lambda w: w.name))


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


async def _throughput(session: AsyncSession) -> Throughput:
    minute = func.now() - timedelta(minutes=1)
    hour = func.now() - timedelta(hours=1)
    completed = Job.status == JobStatus.COMPLETED.value
    failed = Job.status == JobStatus.FAILED.value
    duration_s = func.extract("epoch", Job.finished_at - Job.started_at)
    row = (
        await session.execute(
            select(
                func.count().filter(completed, Job.finished_at >= minute),
                func.count().filter(completed, Job.finished_at >= hour),
                func.count().filter(failed, Job.finished_at >= minute),
                func.count().filter(failed, Job.finished_at >= hour),
                func.percentile_cont(0.5)
                .within_group(duration_s)
                .filter(completed, Job.finished_at >= hour, Job.started_at.is_not(None)),
            ).where(Job.finished_at >= hour)
        )
    ).one()
    by_status = dict(
        (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
    )
    return Throughput(
        completed_last_minute=row[0],
        completed_last_hour=row[1],
        failed_last_minute=row[2],
        failed_last_hour=row[3],
        median_duration_s_last_hour=None if row[4] is None else round(float(row[4]), 3),
        jobs_by_status={s.value: int(by_status.get(s.value, 0)) for s in JobStatus},
    )


async def _failures(session: AsyncSession, limit: int) -> list[Failure]:
    rows = (
        await session.execute(
            select(Job)
            .where(Job.status == JobStatus.FAILED.value)
            .order_by(Job.finished_at.desc().nulls_last(), Job.created_at.desc())
            .limit(limit)
        )
    ).scalars()
    return [
        Failure(
            id=job.id,
            client_id=job.client_id,
            filename=job.file_key.rsplit("/", 1)[-1],
            mode=job.mode,
            genre=job.genre,
            destination=job.destination,
            attempts=job.attempts,
            error_code=job.error_code,
            error_message=job.error_message,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )
        for job in rows
    ]


@router.get("/overview", response_model=Overview, summary="Queue, workers, throughput, failures")
async def overview(
    state: StateDep,
    session: SessionDep,
    limit: int = Query(default=20, ge=1, le=200, description="How many recent failures."),
) -> Overview:
    return Overview(
        generated_at=datetime.now(UTC),
        queue=await _queue_counts(state.settings),
        workers=await _workers(state.settings),
        throughput=await _throughput(session),
        failures=await _failures(session, limit),
    )


@router.get("/queue", response_model=QueueCounts, summary="BullMQ job counts per state")
async def queue(state: StateDep) -> QueueCounts:
    return await _queue_counts(state.settings)


@router.get("/workers", response_model=Workers, summary="Live workers")
async def workers(state: StateDep) -> Workers:
    return await _workers(state.settings)


@router.get("/throughput", response_model=Throughput, summary="Jobs finished recently")
async def throughput(session: SessionDep) -> Throughput:
    return await _throughput(session)


@router.get("/failures", response_model=Failures, summary="Recent failed jobs with reasons")
async def failures(session: SessionDep, limit: int = Query(default=50, ge=1, le=500)) -> Failures:
    return Failures(failures=await _failures(session, limit))


@router.post(
    "/jobs/{job_id}/retry",
    status_code=202,
    response_model=Retried,
    responses={
        409: {"model": ErrorBody, "description": "The job is not failed."},
        410: {"model": ErrorBody, "description": "Its audio was deleted (retention)."},
    },
    summary="Retry a failed job as a new job with the same inputs",
)
async def retry(job_id: str, state: StateDep, session: SessionDep) -> Retried:
    new = await service.retry(session, settings=state.settings, job_id=job_id)
    return Retried(job=job_out(new), retry_of=uuid.UUID(job_id))


async def _plans(session: AsyncSession, settings: Settings) -> Plans:
    limits = await quota.plan_limits(session, settings)
    return Plans(
        plans=[PlanOut(name=name, analyses_per_month=n) for name, n in limits.items()],
        default_plan=quota.default_plan(settings),
    )


@router.get("/plans", response_model=Plans, summary="Every plan's analyses per month")
async def plans(state: StateDep, session: SessionDep) -> Plans:
    return await _plans(session, state.settings)


@router.put(
    "/plans/{name}",
    response_model=Plans,
    responses={422: {"model": ErrorBody}},
    summary="Set a plan's analyses per month (creates the plan if new)",
)
async def put_plan(
    body: PlanLimit,
    state: StateDep,
    session: SessionDep,
    name: str = Path(pattern=PLAN_NAME_PATTERN),
) -> Plans:
    await quota.set_plan_limit(session, name, body.analyses_per_month)
    _log.info("plan %s: %s analyses per month (operator)", name, body.analyses_per_month)
    return await _plans(session, state.settings)


@router.put(
    "/clients/{client_id}/plan",
    response_model=ClientPlanOut,
    responses={422: {"model": ErrorBody}},
    summary="Put a client on a plan (null: the default plan)",
)
async def put_client_plan(
    client_id: uuid.UUID, body: ClientPlan, state: StateDep, session: SessionDep
) -> ClientPlanOut:
    await quota.set_client_plan(session, state.settings, client_id, body.plan)
    return ClientPlanOut(client_id=client_id, plan=body.plan)
