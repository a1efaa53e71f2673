"""Request and response shapes of the HTTP API (apart from the tables in ``soundy.db.models``).

Times are ISO 8601 with time zone (UTC); sizes in bytes; progress in percent (0-100).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from soundy.db.models import Job
from soundy.result import AnalysisResult, JobStatus, Mode, Stage

__all__ = [
    "AnalyzeRequest",
    "ClientCreated",
    "ErrorBody",
    "ErrorInfo",
    "JobError",
    "JobList",
    "JobOut",
    "JobResponse",
    "UploadCreate",
    "UploadCreated",
    "job_out",
]


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable snake_case code clients may switch on.")
    message: str = Field(description="A sentence a person can read.")


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx response."""

    error: ErrorInfo


class ClientCreated(BaseModel):
    token: str = Field(description="Bearer token for every other /api call; shown only once.")


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(
        min_length=1, max_length=255, description="The file's name (kept, sanitised, in the key)."
    )
    size: int = Field(gt=0, description="Exact size of the file in bytes.")


class UploadCreated(BaseModel):
    upload_id: uuid.UUID
    file_key: str = Field(description="Pass this to POST /api/audio/analyze after the PUT.")
    upload_url: str = Field(description="PUT the file's bytes here (once, before expires_at).")
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(description="Headers to send with the PUT.")
    expires_at: datetime
    max_bytes: int = Field(description="The PUT may carry at most this many bytes.")


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_key: str = Field(min_length=1, max_length=1000)
    mode: Mode = Mode.GENRE
    genre: str | None = Field(default=None, max_length=100)
    destination: str | None = Field(default=None, max_length=50)
    stage: Stage = Field(
        default=Stage.MASTER,
        description="What the file is: mix (before mastering) or master (finished); sets the "
        "loudness, true-peak and DR targets (docs/scoring.md).",
    )
    reference_job_id: uuid.UUID | None = None
    lang: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[A-Za-z]{2})?$")


class JobError(BaseModel):
    code: str
    message: str


class JobOut(BaseModel):
    id: uuid.UUID
    status: JobStatus
    progress: int = Field(description="Percent, 0-100; never decreases.")
    stage: str | None = Field(
        description="queued, downloading, decoding, measuring, comparing, done."
    )
    mode: Mode
    genre: str | None
    destination: str | None
    analysis_stage: Stage = Field(
        description="The stage the file was compared as: mix or master (the request's stage)."
    )
    reference_job_id: uuid.UUID | None
    lang: str | None
    file_key: str
    filename: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    error: JobError | None
    result: AnalysisResult | None = Field(
        description="The analysis result (docs/result.md) once completed; null in lists."
    )


class JobResponse(BaseModel):
    job: JobOut


class JobList(BaseModel):
    jobs: list[JobOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page.")


def job_out(job: Job, *, with_result: bool = True) -> JobOut:
    """The API's view of a job row."""
    error = (
        JobError(code=job.error_code or "error", message=job.error_message or "")
        if job.status == JobStatus.FAILED or job.error_code
        else None
    )
    return JobOut(
        id=job.id,
        status=JobStatus(job.status),
        progress=job.progress,
        stage=job.stage,
        mode=Mode(job.mode),
        genre=job.genre,
        destination=job.destination,
        analysis_stage=Stage(job.analysis_stage or Stage.MASTER),
        reference_job_id=job.reference_job_id,
        lang=job.lang,
        file_key=job.file_key,
        filename=job.file_key.rsplit("/", 1)[-1],
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        attempts=job.attempts,
        error=error,
        result=job.result if with_result else None,
    )
