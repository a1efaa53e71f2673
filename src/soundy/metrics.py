"""Prometheus metrics shared by the API and the workers (``GET /metrics`` renders them).

=====================================  =========  ==============================================
name                                   type       meaning
=====================================  =========  ==============================================
soundy_jobs_created_total              counter    jobs accepted by ``POST /api/audio/analyze``
soundy_jobs_completed_total            counter    jobs a worker completed (its ``complete`` won)
soundy_jobs_failed_total{code}         counter    jobs that failed, by error code
soundy_job_duration_seconds            histogram  started_at -> finished_at of finished jobs, s
soundy_queue_jobs{state}               gauge      BullMQ jobs per state (read at scrape time)
soundy_jobs{status}                    gauge      job rows per status in PostgreSQL (scrape time)
soundy_http_request_duration_seconds   histogram  API latency to the response start, by method,
                                                  route template and status code, s
soundy_stored_files_deleted_total      counter    stored uploads the reconciler deleted, by
         {reason}                                 reason: ``abandoned`` (no job used it) or
                                                  ``retention`` (SOUNDY_AUDIO_RETENTION_S)
=====================================  =========  ==============================================

API and workers are separate processes. When ``PROMETHEUS_MULTIPROC_DIR`` names a directory
(``soundy serve`` sets it for all its children and empties it at start), every process writes
its samples there and :func:`render` aggregates them, so the counters the workers increment
appear on the API's ``/metrics``. Without it, each process reports only its own samples: a
``soundy worker`` started with ``SOUNDY_WORKER_METRICS_PORT`` serves its own ``/metrics``
(:func:`serve_worker_metrics`; completions, failures, durations and the process's CPU and
memory), one scrape target per worker.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

from soundy.errors import SoundyError

__all__ = [
    "CONTENT_TYPE_LATEST",
    "HTTP_REQUEST_DURATION",
    "JOBS_BY_STATUS",
    "JOBS_COMPLETED",
    "JOBS_CREATED",
    "JOBS_FAILED",
    "JOB_DURATION",
    "QUEUE_JOBS",
    "STORED_FILES_DELETED",
    "render",
    "serve_worker_metrics",
]

# Buckets in seconds: analysis of one track takes seconds to minutes.
_JOB_DURATION_BUCKETS_S = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200)
# Buckets in seconds for HTTP latency.
_HTTP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

JOBS_CREATED = Counter("soundy_jobs_created", "Jobs accepted by POST /api/audio/analyze.")
JOBS_COMPLETED = Counter("soundy_jobs_completed", "Jobs completed by a worker.")
JOBS_FAILED = Counter("soundy_jobs_failed", "Jobs that failed, by error code.", ["code"])
JOB_DURATION = Histogram(
    "soundy_job_duration_seconds",
    "Seconds from a job's first start to its end (completed or failed).",
    buckets=_JOB_DURATION_BUCKETS_S,
)
QUEUE_JOBS = Gauge(
    "soundy_queue_jobs",
    "BullMQ jobs per state in the audio-analysis queue (read at scrape time).",
    ["state"],
    multiprocess_mode="mostrecent",
)
JOBS_BY_STATUS = Gauge(
    "soundy_jobs",
    "Job rows per status in PostgreSQL (read at scrape time).",
    ["status"],
    multiprocess_mode="mostrecent",
)
STORED_FILES_DELETED = Counter(
    "soundy_stored_files_deleted",
    "Stored uploads the reconciler deleted, by reason (abandoned, retention).",
    ["reason"],
)
HTTP_REQUEST_DURATION = Histogram(
    "soundy_http_request_duration_seconds",
    "API latency until the response starts, by method, route template and status code.",
    ["method", "route", "status"],
    buckets=_HTTP_BUCKETS_S,
)


def _registry() -> CollectorRegistry:
    """This process's registry, or one adding up every process's samples (multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


def render() -> bytes:
    """The exposition text of every metric (all processes' in multiprocess mode)."""
    return generate_latest(_registry())


def serve_worker_metrics(host: str, port: int) -> None:
    """Serve ``GET /metrics`` of this process on ``host:port`` from a daemon thread.

    Raises :class:`soundy.errors.SoundyError` when the address cannot be bound (in use, not
    this machine's): a worker asked for metrics must not run without them.
    """
    try:
        start_http_server(port, addr=host, registry=_registry())
    except OSError as exc:
        raise SoundyError(
            f"cannot serve worker metrics on {host}:{port} ({exc.strerror or exc}); "
            "set SOUNDY_WORKER_METRICS_PORT to a free port"
        ) from exc
