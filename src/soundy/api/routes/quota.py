"""``GET /api/quota``: the client's plan and its analyses left this month.

The same figures travel as headers (``X-Quota-Plan``, ``X-Quota-Limit``, ``X-Quota-Remaining``,
``X-Quota-Reset``) on this route, ``POST /api/audio/analyze`` (its 202 and its 429
``quota_exceeded``) and ``GET /api/jobs``. The rules are in :mod:`soundy.jobs.quota`.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from soundy.api.deps import ClientDep, SessionDep, StateDep
from soundy.api.schemas import ErrorBody, QuotaOut, quota_out
from soundy.db.models import Client
from soundy.jobs.quota import Quota, quota_of

__all__ = ["QUOTA_HEADERS", "client_quota", "router"]

router = APIRouter(tags=["clients"])

#: The quota headers as /openapi.json declares them (soundy.jobs.quota.Quota.headers).
QUOTA_HEADERS = {
    "X-Quota-Plan": {"description": "Your plan.", "schema": {"type": "string"}},
    "X-Quota-Limit": {
        "description": "Analyses per calendar month (UTC), or 'unlimited'.",
        "schema": {"type": "string"},
    },
    "X-Quota-Remaining": {
        "description": "Analyses left this month, or 'unlimited'.",
        "schema": {"type": "string"},
    },
    "X-Quota-Reset": {
        "description": "When the month renews, ISO 8601 UTC.",
        "schema": {"type": "string", "format": "date-time"},
    },
}


async def client_quota(session: SessionDep, state: StateDep, client: Client) -> Quota:
    """The authenticated client's quota (two small queries: its plan, its jobs this month)."""
    return await quota_of(session, state.settings, client_id=client.id, plan=client.plan)


@router.get(
    "/api/quota",
    response_model=QuotaOut,
    responses={200: {"headers": QUOTA_HEADERS}, 401: {"model": ErrorBody}},
    summary="Your plan and the analyses left this month",
)
async def get_quota(
    client: ClientDep, session: SessionDep, state: StateDep, response: Response
) -> QuotaOut:
    quota = await client_quota(session, state, client)
    response.headers.update(quota.headers())
    return quota_out(quota)
