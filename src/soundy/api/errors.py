"""Every error the API returns has one shape: ``{"error": {"code": "...", "message": "..."}}``.

Soundy's own errors (``soundy.errors``) carry their code; this module gives each class its HTTP
status (``ERROR_STATUSES``, one table) and maps the rest at the boundary: FastAPI validation
errors -> 422 ``invalid_request`` with a readable message; Starlette's 404 (unknown route) and
405 -> ``not_found`` / ``method_not_allowed``; database or Redis outages -> 503
``temporarily_unavailable`` with ``Retry-After`` (a refused or lost connection, and a
PostgreSQL that is shutting down or starting up: SQLSTATE classes 08 and 57P, which SQLAlchemy
raises as a plain ``DBAPIError``); anything else -> 500 ``internal_error`` with no traceback (the
traceback goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from soundy.errors import (
    AnalysisCrashed,
    AnalysisTimeout,
    AudioDeleted,
    AudioTooLong,
    Conflict,
    EmptyAudio,
    Forbidden,
    InputError,
    InvalidAudio,
    InvalidRequest,
    JobMissing,
    NotFound,
    PermanentError,
    QuotaExceeded,
    RateLimited,
    SoundyError,
    TooLarge,
    TransientError,
    Unauthorized,
    UnsupportedFormat,
    UploadIncomplete,
    UploadMissing,
)

__all__ = [
    "ERROR_STATUSES",
    "InvalidSignature",
    "RetryLater",
    "UploadExpired",
    "error_response",
    "http_status",
    "install_error_handlers",
]

_log = logging.getLogger(__name__)

# Codes for HTTP statuses raised by Starlette/FastAPI themselves.
_STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    500: "internal_error",
    503: "temporarily_unavailable",
}


# The HTTP status of each of Soundy's errors, most specific class first: an error gets the
# status of the first class it is an instance of, so one defined elsewhere (RetryLater below,
# compare's ProfileError) gets its base's. tests/api/test_api_errors.py checks that every class
# of soundy.errors is listed and that no entry is hidden by an earlier one.
ERROR_STATUSES: dict[type[SoundyError], int] = {
    # The client's input: 422, but 413 for an upload over the size limit.
    TooLarge: 413,
    UnsupportedFormat: 422,
    AudioTooLong: 422,
    EmptyAudio: 422,
    InvalidAudio: 422,
    InvalidRequest: 422,
    InputError: 422,
    # The worker's permanent faults: not the client's doing, should one reach a response.
    UploadMissing: 404,
    JobMissing: 404,
    AnalysisCrashed: 500,
    AnalysisTimeout: 500,
    PermanentError: 500,
    TransientError: 503,
    NotFound: 404,
    Unauthorized: 401,
    Forbidden: 403,
    QuotaExceeded: 429,
    RateLimited: 429,
    UploadIncomplete: 409,
    Conflict: 409,
    AudioDeleted: 410,
    SoundyError: 500,
}


def http_status(error: type[SoundyError]) -> int:
    """The HTTP status of an error class: its first entry in :data:`ERROR_STATUSES`."""
    return next(status for cls, status in ERROR_STATUSES.items() if issubclass(error, cls))


class RetryLater(RateLimited):
    """Rate limited, with a ``Retry-After`` (seconds) the client can wait for."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(max(1, int(retry_after_s)))}


class UploadExpired(Forbidden):
    """A signed upload URL past its expiry time."""

    code = "upload_url_expired"


class InvalidSignature(Forbidden):
    """A signed upload URL whose signature does not match."""

    code = "invalid_signature"


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """The JSON error body every failing request gets."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


# A 422 names at most this many problems, each field path and message cut to these lengths, so
# its size is bounded whatever the request (an answer must never amplify a request).
_MAX_VALIDATION_ERRORS = 5
_MAX_FIELD_CHARS = 60
_MAX_MESSAGE_CHARS = 200


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _readable_validation(exc: RequestValidationError) -> str:
    """``"size: Input should be greater than 0; filename: Field required"``; at most
    ``_MAX_VALIDATION_ERRORS`` problems, then ``"(and 2995 more)"``."""
    parts: list[str] = []
    errors = exc.errors()
    for err in errors[:_MAX_VALIDATION_ERRORS]:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "header")]
        where = _cut(".".join(loc), _MAX_FIELD_CHARS)
        msg = _cut(str(err.get("msg", "invalid value")), _MAX_MESSAGE_CHARS)
        if err.get("type") == "json_invalid":
            msg, where = "the request body is not valid JSON", ""  # loc is a byte offset
        elif err.get("type") == "model_attributes_type" or (not loc and "dict" in msg):
            msg = "the request body must be a JSON object"
        parts.append(f"{where}: {msg}" if where else msg)
    more = len(errors) - _MAX_VALIDATION_ERRORS
    if more > 0:
        parts.append(f"(and {more} more)")
    return "; ".join(parts) or "invalid request"


async def _soundy_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SoundyError)
    status = http_status(type(exc))
    headers: dict[str, str] | None = getattr(exc, "headers", None)
    if isinstance(exc, Unauthorized):
        headers = {"WWW-Authenticate": "Bearer"}
    if status >= 500:
        _log.warning("%s %s: %s", request.method, request.url.path, exc.message)
    return error_response(status, exc.code, exc.message, headers=headers)


# FastAPI's HTTPException detail for a body it could not decode at all.
_BODY_PARSE_ERROR = "There was an error parsing the body"


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    if exc.status_code == 400 and exc.detail == _BODY_PARSE_ERROR:
        # FastAPI's answer to a body that is not even text (not UTF-8): as for invalid JSON.
        return error_response(422, "invalid_request", "the request body is not valid JSON")
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no such route: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, headers=dict(exc.headers or {}) or None)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid_request", _readable_validation(exc))


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    _log.warning("%s %s: backing service unavailable: %r", request.method, request.url.path, exc)
    return error_response(
        503,
        "temporarily_unavailable",
        "a backing service (database or queue) is unavailable; retry shortly",
        headers={"Retry-After": "5"},
    )


# SQLSTATE prefixes of a database that cannot serve now: connection exceptions (08) and
# operator intervention (57P: shutting down, crash recovery, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "57P")


def _sqlstate(exc: sqlalchemy.exc.DBAPIError) -> str:
    """The SQLSTATE of the driver's error (asyncpg's, as SQLAlchemy's adapter carries it)."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(state, str):
            return state
    return ""


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A DBAPIError that is not an OperationalError/InterfaceError: 503 when the database is
    going down or coming up (a restart), else a 500 like any other bug."""
    assert isinstance(exc, sqlalchemy.exc.DBAPIError)
    if exc.connection_invalidated or _sqlstate(exc).startswith(_UNAVAILABLE_SQLSTATES):
        return await _unavailable(request, exc)
    return await _internal_error(request, exc)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    _log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an internal error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the ``{"error": {...}}`` shape."""
    app.add_exception_handler(SoundyError, _soundy_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for unavailable in (
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
        sqlalchemy.exc.TimeoutError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        ConnectionError,
        TimeoutError,
    ):
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, _database_error)
    app.add_exception_handler(Exception, _internal_error)
