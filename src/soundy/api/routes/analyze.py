"""``POST /api/audio/analyze``: parse the request, submit the job, return it.

The rules (which uploads, references and choices are accepted, the in-flight limit, queueing)
are in :func:`soundy.jobs.service.submit`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from soundy.api.deps import BEARER_OPENAPI, ClientIdDep, get_state
from soundy.api.routes.quota import QUOTA_HEADERS
from soundy.api.schemas import AnalyzeRequest, ErrorBody, JobResponse, job_out
from soundy.jobs import service

__all__ = ["language_from_header", "router"]

router = APIRouter(tags=["jobs"])


def language_from_header(accept_language: str | None) -> str | None:
    """The suggestion language ("en" | "pt-BR") an ``Accept-Language`` header prefers (RFC 9110
    12.5.4: highest q first, ties in order), or None when it names neither."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, index, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality < 0 and (tag.startswith("pt") or tag.startswith("en")):
            return "pt-BR" if tag.startswith("pt") else "en"
    return None


@router.post(
    "/api/audio/analyze",
    status_code=202,
    response_model=JobResponse,
    responses={
        202: {"headers": QUOTA_HEADERS},
        401: {"model": ErrorBody},
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
        410: {"model": ErrorBody, "description": "The upload's audio was deleted (retention)."},
        413: {"model": ErrorBody},
        422: {"model": ErrorBody},
        429: {
            "model": ErrorBody,
            "description": "quota_exceeded (the plan's analyses of this month are used up), "
            "or rate_limited",
        },
    },
    summary="Start analysing an uploaded file",
    openapi_extra=BEARER_OPENAPI,  # get_client_id reads the token itself
)
async def analyze(
    body: AnalyzeRequest,
    client_id: ClientIdDep,
    request: Request,
    accept_language: Annotated[str | None, Header()] = None,
) -> Response:
    """Suggestions are written in ``lang`` if given, else in the ``Accept-Language`` choice.
    The answer carries the client's quota (``X-Quota-*``); past it, 429 ``quota_exceeded``
    with ``Retry-After`` and a message, in that language, saying when the quota renews."""
    state = get_state(request)
    submitted = await service.submit(
        state.engine,
        settings=state.settings,
        storage=state.storage,
        client_id=client_id,
        request=service.Submission(
            file_key=body.file_key,
            mode=body.mode,
            genre=body.genre,
            destination=body.destination,
            stage=body.stage,
            reference_job_id=body.reference_job_id,
            lang=body.lang or language_from_header(accept_language),
            song=body.song.strip() if body.song else None,
            codec_check=body.codec_check,
        ),
    )
    # The body serialised here, once: returned as a model, FastAPI would validate it against
    # response_model again before serialising it.
    return Response(
        JobResponse(job=job_out(submitted.job)).model_dump_json().encode(),
        status_code=202,
        media_type="application/json",
        headers=submitted.quota.headers(),
    )
