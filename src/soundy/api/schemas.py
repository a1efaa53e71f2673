"""Request and response shapes of the HTTP API (apart from the tables in ``soundy.db.models``).

Times are ISO 8601 with time zone (UTC); sizes in bytes; progress in percent (0-100).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from soundy.db.models import Job
from soundy.jobs.quota import Quota
from soundy.jobs.service import NewJob
from soundy.result import (
    AlbumReport,
    AnalysisResult,
    JobStatus,
    Lang,
    Mode,
    Stage,
    VersionEntry,
)

__all__ = [
    "LANG_QUERY_PATTERN",
    "AlbumCreate",
    "AlbumList",
    "AlbumOut",
    "AlbumSummary",
    "AlbumTrackOut",
    "AnalyzeRequest",
    "ClientCreated",
    "ClientPlan",
    "ClientPlanOut",
    "ErrorBody",
    "ErrorInfo",
    "Failure",
    "Failures",
    "JobError",
    "JobList",
    "JobOut",
    "JobResponse",
    "Overview",
    "PlanLimit",
    "PlanOut",
    "Plans",
    "QueueCounts",
    "QuotaOut",
    "Retried",
    "ShareOut",
    "ShareState",
    "SharedAlbum",
    "SharedAlbumTrack",
    "SharedJob",
    "SharedReport",
    "SongHistory",
    "SongList",
    "SongSummary",
    "SongVersion",
    "Throughput",
    "UploadCreate",
    "UploadCreated",
    "WorkerInfo",
    "Workers",
    "job_out",
    "quota_out",
]


# A ``?lang=`` query parameter: a language tag, which the comparison maps to en or pt-BR.
LANG_QUERY_PATTERN = r"^[A-Za-z]{2}([-_][A-Za-z]{2})?$"


class ErrorInfo(BaseModel):
    code: str = Field(description="Stable snake_case code clients may switch on.")
    message: str = Field(description="A sentence a person can read.")


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx response."""

    error: ErrorInfo


class ClientCreated(BaseModel):
    token: str = Field(description="Bearer token for every other /api call; shown only once.")


class QuotaOut(BaseModel):
    """A client's plan and its analyses this calendar month (UTC)."""

    plan: str
    # None = unlimited.
    analyses_per_month: int | None
    used: int
    remaining: int | None
    resets_at: datetime


def quota_out(quota: Quota) -> QuotaOut:
    return QuotaOut(
        plan=quota.plan,
        analyses_per_month=quota.limit,
        used=quota.used,
        remaining=quota.remaining,
        resets_at=quota.resets_at,
    )


class UploadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(
        min_length=1, max_length=255, description="The file's name (kept, sanitised, in the key)."
    )
    # strict: "10" or 10.0 is a 422, not quietly a size.
    size: int = Field(gt=0, strict=True, description="Exact size of the file in bytes.")


class UploadCreated(BaseModel):
    upload_id: uuid.UUID
    file_key: str = Field(description="Pass this to POST /api/audio/analyze after the PUT.")
    upload_url: str = Field(description="PUT the file's bytes here (once, before expires_at).")
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str] = Field(description="Headers to send with the PUT.")
    expires_at: datetime
    max_bytes: int = Field(description="The PUT may carry at most this many bytes.")


# A song's name: printable, no "/" (it is a path segment of GET /api/songs/{song}), not blank.
SONG_PATTERN = r"^[^/\x00-\x1f\x7f]*[^/\s\x00-\x1f\x7f][^/\x00-\x1f\x7f]*$"


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # No control characters: a key is printable (PostgreSQL text cannot hold a NUL byte).
    file_key: str = Field(min_length=1, max_length=1000, pattern=r"^[^\x00-\x1f\x7f]+$")
    mode: Mode = Mode.GENRE
    genre: str | None = Field(default=None, max_length=100)
    destination: str | None = Field(default=None, max_length=50)
    stage: Stage = Field(
        default=Stage.MASTER,
        description="What the file is: mix (before mastering) or master (finished); sets the "
        "loudness, true-peak and DR targets (docs/scoring.md).",
    )
    reference_job_id: uuid.UUID | None = None
    # One of the languages the suggestions are written in (a 422 names them otherwise).
    lang: Lang | None = None
    song: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=SONG_PATTERN,
        description="The song this upload is a version of (your own name for it): the "
        "versions of one song are compared in GET /api/songs/{song}.",
    )
    # strict: "true" or 1 is a 422, not quietly a yes.
    codec_check: bool = Field(
        default=False,
        strict=True,
        description="Also encode the track with each platform's delivery codec (Ogg Vorbis, "
        "AAC, Opus, MP3), decode it and measure the peaks, loudness and bands that come out "
        "(result keys codec_check and codec_check_skipped; stage codec_check). It costs several "
        "CPU seconds per minute of audio.",
    )


class JobError(BaseModel):
    code: str
    message: str


class JobOut(BaseModel):
    id: uuid.UUID
    status: JobStatus
    progress: int = Field(description="Percent, 0-100; never decreases.")
    stage: str | None = Field(
        description="queued, downloading, decoding, measuring, codec_check (when asked for), done."
    )
    mode: Mode
    genre: str | None
    destination: str | None
    analysis_stage: Stage = Field(
        description="The stage the file was compared as: mix or master (the request's stage)."
    )
    reference_job_id: uuid.UUID | None
    lang: str | None
    song: str | None = Field(description="The song this job is a version of, if any.")
    codec_check: bool = Field(description="Whether the job runs the codec check.")
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


def job_out(job: Job | NewJob, result: AnalysisResult | None = None) -> JobOut:
    """The API's view of a job row, with ``result`` (:func:`soundy.jobs.results.result_of`)."""
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
        song=job.song,
        codec_check=job.codec_check,
        file_key=job.file_key,
        filename=job.file_key.rsplit("/", 1)[-1],
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        attempts=job.attempts,
        error=error,
        result=result,
    )


class ShareOut(BaseModel):
    """A read-only link to a job's report (``POST /api/jobs/{id}/share``) or an album's
    (``POST /api/albums/{id}/share``)."""

    job_id: uuid.UUID | None = Field(description="The job it opens; null for an album's link.")
    album_id: uuid.UUID | None = Field(
        default=None, description="The album it opens; null for a job's link."
    )
    token: str = Field(description="The unguessable part of the link (32 URL-safe characters).")
    url: str = Field(
        description="The page anyone can open without a token: {base}/r/{token}, or "
        "{base}/r/albums/{token} for an album ({base}: SOUNDY_PUBLIC_URL, else the API's address)."
    )
    api_url: str = Field(
        description="The report as JSON without a token: /api/shared/{token}, or "
        "/api/shared/albums/{token}."
    )
    created_at: datetime


class ShareState(BaseModel):
    """``GET /api/jobs/{id}/share`` (or ``/api/albums/{id}/share``): the live link, or null when
    there is none."""

    link: ShareOut | None


class SharedJob(BaseModel):
    """The parts of a job a share link shows: its report, not its owner, key or attempts."""

    id: uuid.UUID
    status: JobStatus
    mode: Mode
    genre: str | None
    destination: str | None
    analysis_stage: Stage
    lang: str | None
    filename: str
    created_at: datetime
    finished_at: datetime | None
    result: AnalysisResult | None


class SharedReport(BaseModel):
    """``GET /api/shared/{token}``: the job and, in reference mode, the reference's result."""

    job: SharedJob
    reference: AnalysisResult | None = Field(
        description="The reference track's result when the job was compared with one."
    )


class AlbumCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_ids: list[uuid.UUID] = Field(
        min_length=2,
        max_length=1000,
        description="Your jobs, in track order (2 to SOUNDY_ALBUM_MAX_TRACKS, each once); they "
        "may still be running.",
    )
    name: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
    lang: Lang | None = None


class AlbumTrackOut(BaseModel):
    position: int = Field(description="1-based place in the album.")
    job_id: uuid.UUID
    status: JobStatus | None = Field(description="The job's status; null for a deleted job.")
    filename: str | None
    error: JobError | None
    report_index: int | None = Field(
        description="Its index in report.tracks (failed and deleted jobs have none)."
    )


class AlbumOut(BaseModel):
    id: uuid.UUID
    name: str | None
    lang: str | None
    created_at: datetime
    status: Literal["pending", "completed"] = Field(
        description="pending while any track's job is pending or processing."
    )
    tracks: list[AlbumTrackOut]
    report: AlbumReport | None = Field(
        description="The album report (docs/result.md, 'Albums') once no track is running."
    )


class SharedAlbumTrack(BaseModel):
    """A track of a shared album: as in ``AlbumTrackOut``, without its job's id."""

    position: int = Field(description="1-based place in the album.")
    status: JobStatus | None = Field(description="The job's status; null for a deleted job.")
    filename: str | None
    error: JobError | None
    report_index: int | None = Field(
        description="Its index in report.tracks (failed and deleted jobs have none)."
    )


class SharedAlbum(BaseModel):
    """``GET /api/shared/albums/{token}``: the album report, not its owner or its jobs' ids."""

    name: str | None
    lang: str | None
    created_at: datetime
    status: Literal["pending", "completed"]
    tracks: list[SharedAlbumTrack]
    report: AlbumReport | None


class AlbumSummary(BaseModel):
    id: uuid.UUID
    name: str | None
    created_at: datetime
    tracks: int = Field(description="How many jobs the album names.")


class AlbumList(BaseModel):
    albums: list[AlbumSummary] = Field(description="Newest first; GET /api/albums/{id} for one.")


#: The most versions one song history shows (the newest); older ones are counted, not compared.
SONG_MAX_VERSIONS = 50


class SongSummary(BaseModel):
    song: str
    versions: int
    latest_at: datetime


class SongList(BaseModel):
    songs: list[SongSummary]


class SongVersion(BaseModel):
    job: JobOut = Field(description="The version's job, with its result once completed.")
    history: VersionEntry


class SongHistory(BaseModel):
    song: str
    versions: list[SongVersion] = Field(description="Oldest first.")
    older_versions: int = Field(description=f"Versions before the {SONG_MAX_VERSIONS} shown.")


# The operator dashboard's API (/api/admin, soundy.api.routes.admin).


class QueueCounts(BaseModel):
    """Jobs per BullMQ state in queue ``audio-analysis``; all None when Redis is unreachable."""

    waiting: int | None = None
    active: int | None = None
    delayed: int | None = None
    completed: int | None = None
    failed: int | None = None
    error: str | None = Field(default=None, description="Why the counts are missing.")


class WorkerInfo(BaseModel):
    name: str = Field(description="The worker's name: host:pid.")
    addr: str | None = Field(default=None, description="Its Redis connection's address.")
    age_s: int | None = Field(default=None, description="Seconds since it connected.")
    idle_s: int | None = Field(default=None, description="Seconds since its last command.")
    connections: int = Field(description="Its open Redis connections.")


class Workers(BaseModel):
    workers: list[WorkerInfo]
    error: str | None = None


class Throughput(BaseModel):
    """From Postgres (the source of truth), by ``finished_at``."""

    completed_last_minute: int
    completed_last_hour: int
    failed_last_minute: int
    failed_last_hour: int
    median_duration_s_last_hour: float | None = Field(
        description="Median started_at -> finished_at of the jobs completed in the last hour (s)."
    )
    jobs_by_status: dict[str, int] = Field(description="All jobs in the database, per status.")


class Failure(BaseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    filename: str
    mode: str
    genre: str | None
    destination: str | None
    attempts: int
    error_code: str | None
    error_message: str | None
    created_at: datetime
    finished_at: datetime | None


class Failures(BaseModel):
    failures: list[Failure]


class Overview(BaseModel):
    generated_at: datetime
    queue: QueueCounts
    workers: Workers
    throughput: Throughput
    failures: list[Failure]


class Retried(BaseModel):
    job: JobOut
    retry_of: uuid.UUID


#: A plan's name: lower-case letters, digits, ``_`` and ``-``, starting with a letter.
PLAN_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"


class PlanOut(BaseModel):
    name: str
    # None = unlimited.
    analyses_per_month: int | None


class Plans(BaseModel):
    """Every plan, and the plan of clients that have none (anonymous ones)."""

    plans: list[PlanOut]
    default_plan: str


class PlanLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Analyses per calendar month (UTC); null = unlimited.
    analyses_per_month: int | None = Field(ge=0, le=1_000_000_000, strict=True)


class ClientPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # null = the default plan.
    plan: str | None = Field(pattern=PLAN_NAME_PATTERN)


class ClientPlanOut(BaseModel):
    client_id: uuid.UUID
    plan: str | None
