"""Soundy's errors, one tree.

* SoundyError                 base of everything Soundy raises on purpose
  + PermanentError            retrying cannot help: a job fails at once, never retried
    + InputError              the input itself is wrong
      - UnsupportedFormat     not audio, or a format no decoder reads
      - AudioTooLong          longer than SOUNDY_MAX_DURATION_S
      - EmptyAudio            no samples
      - InvalidAudio          decodes, but the samples are unusable (NaN, Inf)
      - TooLarge              upload bigger than SOUNDY_MAX_UPLOAD_BYTES
      - InvalidRequest        a request's fields do not make sense together
    - UploadMissing           a job's upload is no longer in storage
    - JobMissing              a job's row is no longer in the database
    - AnalysisCrashed         the analysis process died (killed, out of memory, a crash)
    - AnalysisTimeout         the analysis ran past SOUNDY_JOB_TIMEOUT_S and was stopped
  + TransientError            storage, network or database hiccup; the job is retried
  + NotFound                  does not exist, or belongs to another client (same answer: 404)
  + Unauthorized              no or unknown bearer token (401)
  + Forbidden                 authenticated but not allowed (403)
  + RateLimited               too many requests or jobs in flight (429)
    - QuotaExceeded           the client's plan allows no more analyses this month
  + Conflict                  the state forbids the request (409)
    - UploadIncomplete        the upload's bytes have not (all) arrived in storage
  + AudioDeleted              the upload's audio was deleted after SOUNDY_AUDIO_RETENTION_S (410)

Foreign errors (soundfile, PyAV, boto3, asyncpg, redis) are mapped to these at the boundary
where they are caught. The worker fails a job at once on a ``PermanentError`` and lets the queue
retry anything else. ``code`` is a stable snake_case string that clients may switch on; the API
renders every error as ``{"error": {"code", "message"}}`` with the HTTP status that
``soundy.api.errors`` maps each class to.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AnalysisCrashed",
    "AnalysisTimeout",
    "AudioDeleted",
    "AudioTooLong",
    "Conflict",
    "EmptyAudio",
    "Forbidden",
    "InputError",
    "InvalidAudio",
    "InvalidRequest",
    "JobMissing",
    "NotFound",
    "PermanentError",
    "QuotaExceeded",
    "RateLimited",
    "SoundyError",
    "TooLarge",
    "TransientError",
    "Unauthorized",
    "UnsupportedFormat",
    "UploadIncomplete",
    "UploadMissing",
    "audio_deleted",
]


class SoundyError(Exception):
    """Base of Soundy's own errors; ``message`` is a sentence a user can read."""

    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermanentError(SoundyError):
    """Retrying cannot help: a job fails at once and the queue is told not to retry it."""

    code = "permanent_error"


class InputError(PermanentError):
    """The input is wrong (a job fails at once)."""

    code = "invalid_input"


class UnsupportedFormat(InputError):
    """Not audio, or a format none of the decoders reads."""

    code = "unsupported_format"


class AudioTooLong(InputError):
    """Longer than the configured maximum duration."""

    code = "audio_too_long"


class EmptyAudio(InputError):
    """Decodes to zero samples."""

    code = "empty_audio"


class InvalidAudio(InputError):
    """Decodes, but the samples cannot be measured (NaN or infinite values)."""

    code = "invalid_audio"


class TooLarge(InputError):
    """An upload over the configured size limit."""

    code = "too_large"


class InvalidRequest(InputError):
    """A request whose fields are malformed or contradict each other."""

    code = "invalid_request"


class UploadMissing(PermanentError):
    """A job's uploaded file is no longer in storage."""

    code = "upload_missing"


class JobMissing(PermanentError):
    """A job's row is no longer in the database (nothing deletes one; an operator did)."""

    code = "not_found"


class AnalysisCrashed(PermanentError):
    """The analysis process died (killed, out of memory, a crash in native code)."""

    code = "analysis_crashed"


class AnalysisTimeout(PermanentError):
    """The analysis ran longer than ``SOUNDY_JOB_TIMEOUT_S``; its process was killed."""

    code = "timeout"


class TransientError(SoundyError):
    """A fault outside the input (storage, network, database); the job is retried with backoff."""

    code = "temporarily_unavailable"


class NotFound(SoundyError):
    """Does not exist, or belongs to another client: both answer 404 so ids leak nothing."""

    code = "not_found"


class Unauthorized(SoundyError):
    """No bearer token, or one that matches no client."""

    code = "unauthorized"


def unknown_token() -> Unauthorized:
    """The 401 for a bearer token that matches no client."""
    return Unauthorized("unknown or revoked token")


def key_revoked(revoked_at: datetime) -> Unauthorized:
    """The 401 for the token of a revoked API key."""
    return Unauthorized(f"this key was revoked on {revoked_at:%Y-%m-%d}")


class Forbidden(SoundyError):
    """Authenticated, but not allowed to do this."""

    code = "forbidden"


class RateLimited(SoundyError):
    """Too many requests, or too many jobs in flight for one client."""

    code = "rate_limited"


class QuotaExceeded(RateLimited):
    """The client's plan allows no more analyses this calendar month; ``headers`` carry
    ``Retry-After`` (seconds until the month renews) and the quota's ``X-Quota-*``."""

    code = "quota_exceeded"

    def __init__(self, message: str, *, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.headers = headers


class Conflict(SoundyError):
    """The current state forbids the request."""

    code = "conflict"


class AudioDeleted(SoundyError):
    """The stored audio of an upload was deleted (retention); its jobs and results remain."""

    code = "audio_deleted"


def audio_deleted(deleted_at: datetime) -> AudioDeleted:
    """The 410 for an upload whose audio the retention deleted (its results remain)."""
    return AudioDeleted(
        f"the audio of this upload was deleted on {deleted_at:%Y-%m-%d}, after the retention "
        "period that follows its last analysis; upload the file again to analyse it"
    )


class UploadIncomplete(Conflict):
    """The upload's bytes have not (all) arrived in storage yet."""

    code = "upload_incomplete"
