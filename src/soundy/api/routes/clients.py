"""``POST /api/clients``: a new anonymous client and its bearer token (rate limited per IP)."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request
from redis.exceptions import RedisError

from soundy.api.auth import create_client
from soundy.api.deps import SessionDep, StateDep
from soundy.api.errors import RetryLater
from soundy.api.limits import fixed_window_count
from soundy.api.schemas import ClientCreated, ErrorBody

__all__ = ["router"]

_log = logging.getLogger(__name__)

router = APIRouter(tags=["clients"])

# The rate limit counts per clock hour (fixed window).
_WINDOW_S = 3600


async def _check_rate(state: StateDep, ip: str) -> None:
    """At most ``clients_per_ip_per_hour`` new clients per IP and clock hour (Redis INCR +
    EXPIRE). If Redis is unreachable the request is let through (and logged): creating a
    client costs one row, and refusing every new user during a Redis outage is worse."""
    limit = state.settings.clients_per_ip_per_hour
    now_s = int(time.time())
    window = now_s // _WINDOW_S
    key = f"{state.settings.queue_prefix}:soundy:ratelimit:clients:{ip}:{window}"
    try:
        count = await fixed_window_count(state.redis, key, _WINDOW_S)
    except (RedisError, OSError) as exc:
        _log.warning("client rate limit not checked (Redis unavailable): %s", exc)
        return
    if count > limit:
        raise RetryLater(
            f"too many new clients from this address (limit {limit} per hour); "
            "reuse your token or try again later",
            retry_after_s=(window + 1) * _WINDOW_S - now_s,
        )


@router.post(
    "/api/clients",
    status_code=201,
    response_model=ClientCreated,
    responses={429: {"model": ErrorBody}},
    summary="Create an anonymous client and get its bearer token",
)
async def post_client(request: Request, state: StateDep, session: SessionDep) -> ClientCreated:
    ip = request.client.host if request.client else "unknown"
    await _check_rate(state, ip)
    token = await create_client(session, name=None, is_key=False)
    return ClientCreated(token=token)
