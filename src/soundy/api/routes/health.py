"""``/healthz`` (the process answers), ``/readyz`` (PostgreSQL and Redis answer), ``/metrics``."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select, text

from soundy import metrics
from soundy.api.deps import StateDep
from soundy.api.errors import error_response
from soundy.db.models import Job
from soundy.pipeline.queue import queue_counts

__all__ = ["router"]

_log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

# Each readiness check gives up after this many seconds.
READY_TIMEOUT_S = 2.0


@router.get("/healthz", summary="Liveness: the API process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check_database(state: StateDep) -> None:
    async with state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check_redis(state: StateDep) -> None:
    if not await state.redis.ping():
        raise ConnectionError("PING was not answered with PONG")


@router.get(
    "/readyz",
    summary="Readiness: PostgreSQL and Redis are reachable (503 names what is not)",
    responses={503: {"description": "error + checks: which dependency failed"}},
)
async def readyz(state: StateDep) -> Response:
    checks: dict[str, str] = {}
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        try:
            await asyncio.wait_for(check(state), timeout=READY_TIMEOUT_S)
            checks[name] = "ok"
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            checks[name] = f"unreachable: {reason}"[:300]
    failed = [name for name, value in checks.items() if value != "ok"]
    if failed:
        return error_response(
            503,
            "not_ready",
            f"{' and '.join(failed)} unreachable",
            extra={"checks": checks},
        )
    return JSONResponse({"status": "ok", "checks": checks})


async def _refresh_scrape_gauges(state: StateDep) -> None:
    """Queue depth (from BullMQ) and job rows per status (from PostgreSQL), best effort."""
    try:
        counts = await asyncio.wait_for(queue_counts(state.settings), timeout=READY_TIMEOUT_S)
        for queue_state, n in counts.items():
            metrics.QUEUE_JOBS.labels(queue_state).set(n)
    except Exception as exc:
        _log.warning("metrics: queue depth unavailable: %s", exc)
    try:
        async with state.sessionmaker() as session:
            rows = (
                await asyncio.wait_for(
                    session.execute(select(Job.status, func.count()).group_by(Job.status)),
                    timeout=READY_TIMEOUT_S,
                )
            ).all()
        seen = {status: int(n) for status, n in rows}
        for status in ("pending", "processing", "completed", "failed"):
            metrics.JOBS_BY_STATUS.labels(status).set(seen.get(status, 0))
    except Exception as exc:
        _log.warning("metrics: job counts unavailable: %s", exc)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics_endpoint(state: StateDep) -> Response:
    await _refresh_scrape_gauges(state)
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE_LATEST)
