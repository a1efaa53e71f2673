"""``GET /api/jobs``, ``GET /api/jobs/{id}``, ``GET /api/jobs/{id}/events`` (Server-Sent Events).

A job belongs to one client; any other client gets 404 for it, as for a job that does not exist.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask

from soundy import jobs
from soundy.api.auth import authenticated, required_token_hash
from soundy.api.deps import (
    BEARER_OPENAPI,
    ClientDep,
    SessionDep,
    StateDep,
    get_state,
    request_token,
)
from soundy.api.routes.quota import client_quota
from soundy.api.schemas import LANG_QUERY_PATTERN, ErrorBody, JobList, JobOut, job_out
from soundy.db.models import Client, Job
from soundy.errors import InvalidRequest, NotFound
from soundy.jobs import FINAL_STATUSES, store
from soundy.jobs.results import CacheKey, LruCache, comparison_key, result_of

__all__ = ["JobBodies", "own_job", "router"]

_log = logging.getLogger(__name__)

router = APIRouter(tags=["jobs"])

# SSE: re-read the row this often (s) in case a pub/sub message was missed, and send a
# comment line (": ping") this often (s) so proxies keep the connection open.
EVENTS_RECHECK_S = 3.0
EVENTS_HEARTBEAT_S = 15.0


async def own_job(session: AsyncSession, client: Client, job_id: str) -> Job:
    job = await jobs.get_job(session, job_id)
    if job is None or job.client_id != client.id:
        raise NotFound("no such job")
    return job


def _encode_cursor(job: Job) -> str:
    raw = f"{job.created_at.isoformat()}|{job.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, _, job_id = raw.partition("|")
        when = datetime.fromisoformat(created)
        # Ours are UTC times of this era; anything else (naive, year 1 at +14:00, which
        # PostgreSQL cannot bind) is not one of them.
        if when.tzinfo is None or not 2000 <= when.astimezone(UTC).year <= 9000:
            raise ValueError(created)
        return when, uuid.UUID(job_id)
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidRequest("cursor: not a cursor returned by GET /api/jobs") from exc


@router.get(
    "/api/jobs",
    response_model=JobList,
    responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="List your jobs, newest first (without results)",
)
async def list_jobs(
    client: ClientDep,
    session: SessionDep,
    state: StateDep,
    response: Response,
    limit: int = Query(default=20, ge=1, le=100, description="Jobs per page."),
    cursor: str | None = Query(default=None, description="next_cursor of the previous page."),
) -> JobList:
    before = _decode_cursor(cursor) if cursor else None
    rows = await jobs.list_jobs(
        session, client_id=client.id, limit=limit + 1, before=before, options=[defer(Job.result)]
    )
    page = rows[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(rows) > limit else None
    response.headers.update((await client_quota(session, state, client)).headers())
    return JobList(jobs=[job_out(j) for j in page], next_cursor=next_cursor)


RowState = tuple[Any, ...]


class JobBodies(LruCache[CacheKey, tuple[RowState, bytes]]):
    """The JSON bodies of ``GET /api/jobs/{id}`` of jobs with a result, per API process, by
    :func:`soundy.jobs.results.comparison_key` (job, targets version, language), each with the
    row's columns but ``result`` (``store.row_state``; the result never changes once stored)
    it was made from: a body is served again only while the row read now is the same
    and the targets are the same version, so every GET still reads the row in PostgreSQL and
    checks its owner. A hit costs no validation, no comparison and no serialisation, and
    builds no ORM object."""


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get(
    "/api/jobs/{job_id}",
    response_model=JobOut,
    responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="A job's status, progress and (when completed) result",
    openapi_extra=BEARER_OPENAPI,
)
async def get_job(
    job_id: str,
    request: Request,
    lang: str | None = Query(
        default=None,
        pattern=LANG_QUERY_PATTERN,
        description="Render the result's suggestions in this language (en, pt-BR) instead of "
        "the job's own.",
    ),
) -> Response:
    """One autocommit statement finds the client and its job (without the result); a job
    with a result is served from :class:`JobBodies` while its row is unchanged, else read
    whole, compared (``result_of``, with its cache) and serialised once (docs/benchmarks.md)."""
    token = request_token(request)  # not a dependency: BEARER_OPENAPI declares it
    state = get_state(request)
    # fetch_row: asyncpg runs the statement on its own, no transaction (an autocommit engine
    # cost 14 us more per checkout, setting and resetting the isolation level).
    async with state.engine.connect() as connection:
        found = authenticated(
            await jobs.client_and_job(connection, required_token_hash(token), job_id)
        )
    await state.request_rate.check(found.client_id)
    if not found.has_job:
        raise NotFound("no such job")
    if not found.has_result:
        return _json(job_out(found.job()).model_dump_json().encode())
    job_key = found.job_key()
    cached = state.job_bodies.get(comparison_key(job_key, lang))
    if cached is not None and cached[0] == found.job_columns():
        return _json(cached[1])
    async with state.sessionmaker() as session:
        whole = await jobs.get_job(session, job_key.id)
        if whole is None or whole.client_id != found.client_id:
            raise NotFound("no such job")  # deleted since the first read
        result = await result_of(session, whole, lang=lang, cache=state.comparisons)
    body = job_out(whole, result).model_dump_json().encode()
    state.job_bodies.put(comparison_key(whole, lang), (store.row_state(whole), body))
    return _json(body)


def _state(job: Job) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": str(job.id),
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
    }
    if job.status == "failed":
        state["error"] = {"code": job.error_code, "message": job.error_message}
    return state


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


_STATUS_RANK = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


def _ahead(candidate: dict[str, Any], last: dict[str, Any] | None) -> bool:
    """Whether a state is newer than the one last sent (status and progress never go back)."""
    if last is None:
        return True
    rank, last_rank = _STATUS_RANK.get(candidate["status"], 0), _STATUS_RANK[last["status"]]
    if rank != last_rank:
        return rank > last_rank
    if int(candidate.get("progress") or 0) < int(last.get("progress") or 0):
        return False
    return candidate != last


async def _event_stream(state: StateDep, job_id: uuid.UUID) -> AsyncGenerator[bytes]:
    """The current state at once, then every change until the job is completed or failed.

    Subscribes to the job's pub/sub channel first, then reads the row (so nothing falls in
    between); progress messages are forwarded as they come, and the row is re-read every
    ``EVENTS_RECHECK_S`` without a message, and before the stream ends, so a lost message only
    delays an update and the final state is always the stored one. Without Redis it reads the
    row alone. Status and progress never go backwards in the stream.
    """
    last: dict[str, Any] | None = None

    async def read() -> dict[str, Any] | None:
        async with state.sessionmaker() as session:
            job = await jobs.get_job(session, job_id)
            return None if job is None else _state(job)

    feed = state.events.subscribe(job_id, heartbeat_s=EVENTS_RECHECK_S)
    subscription: AsyncIterator[dict[str, Any]] | None = feed

    async def close_subscription() -> None:
        nonlocal subscription
        if subscription is not None:
            aclose = getattr(subscription, "aclose", None)  # an async generator's
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        subscription = None

    try:
        try:
            await anext(feed)  # {"type": "subscribed"}
        except Exception as exc:  # Redis down: poll the database instead
            _log.warning("job %s events: no pub/sub (%s); polling the database", job_id, exc)
            await close_subscription()
        yield b"retry: 3000\n\n"
        check_row = True
        while True:
            if check_row:
                current = await read()
                if current is None:
                    return
                if _ahead(current, last):
                    last = current
                    yield _sse(current)
                if current["status"] in FINAL_STATUSES:
                    return
            check_row = False
            if subscription is None:
                await asyncio.sleep(EVENTS_RECHECK_S)
                check_row = True
                continue
            try:
                event = await anext(subscription)
            except StopAsyncIteration:
                await close_subscription()  # the publisher saw the end: the row has it
                check_row = True
                continue
            except Exception as exc:
                _log.warning("job %s events: pub/sub lost (%s); polling the database", job_id, exc)
                await close_subscription()
                check_row = True
                continue
            status = event.get("status")
            if status is None or status in FINAL_STATUSES:
                check_row = True  # heartbeat, or the end: read the stored state
                continue
            candidate = {
                "id": str(job_id),
                "status": str(status),
                "progress": int(event.get("progress") or 0),
                "stage": event.get("stage"),
            }
            if _ahead(candidate, last):
                last = candidate
                yield _sse(candidate)
    finally:
        await close_subscription()


@router.get(
    "/api/jobs/{job_id}/events",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "data: {id,status,...}"},
        401: {"model": ErrorBody},
        404: {"model": ErrorBody},
        429: {"model": ErrorBody},
    },
    summary="Server-Sent Events: the job's status and progress until it ends",
)
async def job_events(
    job_id: str, client: ClientDep, session: SessionDep, state: StateDep
) -> EventSourceResponse:
    """At most ``SOUNDY_MAX_EVENT_STREAMS_PER_CLIENT`` of a client's streams are open on one
    API process; one more gets 429 ``rate_limited``."""
    job = await own_job(session, client, job_id)
    await session.close()
    slot = state.event_streams.acquire(client.id)

    async def stream() -> AsyncIterator[bytes]:
        try:
            async with contextlib.aclosing(_event_stream(state, job.id)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            slot.release()

    # sse-starlette adds the keep-alive comments and ends open streams when uvicorn shuts
    # down (so a stop is not held up by clients watching long jobs; they reconnect). The
    # background task frees the slot too, should the response end before the stream started.
    return EventSourceResponse(
        stream(),
        ping=EVENTS_HEARTBEAT_S,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        background=BackgroundTask(slot.release),
    )
