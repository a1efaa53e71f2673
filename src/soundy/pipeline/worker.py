"""``soundy worker``: takes analysis jobs from the BullMQ queue and runs them.

Each delivery of a queue job runs in its own asyncio task (up to ``concurrency`` at once), and
:meth:`SoundyWorker._process` reads top to bottom, like rq's ``Worker.perform_job``:

1. ``_start``: ``jobs.start_attempt`` (``pending | processing -> processing``, attempts + 1).
   False means the job already finished (a duplicate delivery): nothing is done. A queue job
   whose ``jobId`` names no job row (not a UUID, or no such row) is failed in BullMQ at once
   with the reason.
2. ``_attempt``: download the upload from storage into a temporary folder (stage
   ``downloading``), then ``soundy.analysis.measure_file`` in the process pool (stages
   ``decoding``, ``measuring``), progress written to PostgreSQL (throttled) and published live
   to Redis.
3. One outcome, each a method that does its row transition, metric, log line and live event:

   * ``_completed``: ``jobs.complete(measurements)``. The comparison (targets, score,
     suggestions) is not stored: :mod:`soundy.jobs.results` computes it when the job is read.
   * ``_permanent_failure``: an ``InputError`` (not audio, unsupported, too long, empty), a
     missing upload, the analysis process crashing or running past ``SOUNDY_JOB_TIMEOUT_S``.
     ``jobs.fail`` with a code and a readable message at once, and BullMQ is told not to retry
     (``UnrecoverableError``).
   * ``_transient_failure``: anything else (storage, network, database). Raised again, so
     BullMQ retries with exponential backoff; after the last attempt the job fails with the
     reason.
   * interrupted by shutdown: handed back to the queue (below).

A worker killed mid-job: its BullMQ lock lapses, the stalled-job check of another worker puts
the job back in the queue, and that worker runs it (``start_attempt`` counts the attempt).

SIGTERM / SIGINT: take no new jobs, give running ones ``SOUNDY_WORKER_SHUTDOWN_GRACE_S`` to
finish, then hand the rest back (their locks lapse; another worker takes them) and exit. The
loop logs why it exits. The reconciler (:mod:`soundy.pipeline.reconciler`) runs alongside.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import math
import os
import signal
import socket
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from bullmq import UnrecoverableError
from bullmq import Worker as BullWorker

from soundy import jobs, metrics
from soundy.db.session import create_engine, sessionmaker
from soundy.errors import (
    NotFound,
    PermanentError,
    SoundyError,
    UploadMissing,
)
from soundy.pipeline import events, queue
from soundy.pipeline._pool import Analysis, AnalysisPool, measure
from soundy.pipeline.logs import job_id_var
from soundy.pipeline.reconciler import run_reconciler
from soundy.report import AnalysisOptions
from soundy.storage import open_storage

if TYPE_CHECKING:
    import redis.asyncio as aioredis
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from soundy.config import Settings
    from soundy.db.models import Job
    from soundy.result import Measurements
    from soundy.storage import Storage

__all__ = [
    "STAGE_RANGES",
    "STAGE_RANGES_CODEC_CHECK",
    "SoundyWorker",
    "overall_percent",
    "run_worker",
]

log = logging.getLogger("soundy.worker")

# Percent of the whole job each stage spans: (start, end).
STAGE_RANGES: dict[str, tuple[float, float]] = {
    "downloading": (0.0, 5.0),
    "decoding": (5.0, 25.0),
    "measuring": (25.0, 99.0),
}
# Live events are published at most this often per job (seconds), besides stage changes.
_PUBLISH_INTERVAL_S = 0.1


# With the codec check, which takes many times the measurement's time (docs/benchmarks.md).
STAGE_RANGES_CODEC_CHECK: dict[str, tuple[float, float]] = {
    "downloading": (0.0, 5.0),
    "decoding": (5.0, 10.0),
    "measuring": (10.0, 40.0),
    "codec_check": (40.0, 99.0),
}


def overall_percent(
    stage: str, fraction: float, ranges: dict[str, tuple[float, float]] | None = None
) -> int:
    """Map a stage's own progress (0..1) to the job's progress (0-100)."""
    start, end = (STAGE_RANGES if ranges is None else ranges).get(stage, (0.0, 99.0))
    fraction = min(1.0, max(0.0, fraction if fraction == fraction else 0.0))
    return int(start + (end - start) * fraction)


@dataclass
class _Progress:
    """One job's progress, throttled: live events at most every ``_PUBLISH_INTERVAL_S`` but at
    least one per stage; PostgreSQL writes at most every ``db_interval_s`` (a stage change
    within the interval is written when it is due). The last value is always published (on
    :meth:`close` at the latest).

    ``stored`` is what the row already holds (``start_attempt`` set stage "downloading"), and
    the interval counts from then: a job that ends within ``db_interval_s`` (most do) writes no
    progress at all, its row going from "downloading" to its outcome. Its live events still
    show every stage. :meth:`close` neither waits out the throttle nor writes the row: the
    outcome's own transition (complete, fail) follows at once and supersedes it, and every
    millisecond here is added to each job's time to ``completed``. With ``publish=False`` it
    does not publish the last events either: the worker sends them (:meth:`unsent`) with the
    outcome's event, one round trip to Redis instead of two."""

    job_id: str
    write_db: Callable[[int, str], Awaitable[object]]
    # Publishes a batch of live events, in order (one round trip).
    send: Callable[[list[dict[str, Any]]], Awaitable[None]]
    db_interval_s: float
    percent: int = 0
    stage: str = "downloading"
    stored: tuple[str, int] | None = None
    _sent: tuple[str, int] | None = None
    _stage_starts: list[tuple[str, int]] = field(default_factory=list)
    _stored_at: float = field(default_factory=time.monotonic)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: asyncio.Event = field(default_factory=asyncio.Event)
    _publish_last: bool = True
    _task: asyncio.Task[None] | None = None

    def update(self, stage: str, percent: int) -> None:
        if percent < self.percent:
            return
        if stage != self.stage:
            # Every stage gets at least one live event, however quickly it passes.
            self._stage_starts.append((stage, percent))
        self.stage, self.percent = stage, percent
        self._wake.set()

    def start(self) -> None:
        """Start the task, which publishes the current value at once (the job's first live
        event) while the job goes on: no Redis round trip before its download."""
        self._task = asyncio.create_task(self._run(), name=f"progress-{self.job_id}")
        self._wake.set()

    async def _run(self) -> None:
        while not self._closed.is_set():
            await self._wake.wait()
            self._wake.clear()
            await self.flush(store=not self._closed.is_set())
            # The throttle, cut short by close().
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout=_PUBLISH_INTERVAL_S)
        if self._publish_last:
            await self.flush(store=False)

    def unsent(self) -> list[dict[str, Any]]:
        """The live events not published yet, in order (each stage's start, then the current
        value), now counted as published: the caller publishes them."""
        pending, self._stage_starts = [*self._stage_starts, (self.stage, self.percent)], []
        batch = []
        for stage, percent in pending:
            if (stage, percent) != self._sent:
                self._sent = (stage, percent)
                batch.append({"status": "processing", "progress": percent, "stage": stage})
        return batch

    async def flush(self, *, store: bool = True) -> None:
        """Publish the current value where it has not gone yet; write it to the row when due
        (and ``store``)."""
        current = (self.stage, self.percent)
        try:
            batch = self.unsent()
            if batch:
                await self.send(batch)
            if current == self.stored or not store:
                return
            now = time.monotonic()
            if self.stored is None or now - self._stored_at >= self.db_interval_s:
                self.stored, self._stored_at = current, now
                await self.write_db(current[1], current[0])
            else:
                # No later update may come: write this one when it is due.
                asyncio.get_running_loop().call_later(
                    self.db_interval_s - (now - self._stored_at), self._wake.set
                )
        except Exception:  # progress is best effort; the job goes on
            log.warning("progress update failed", exc_info=True)

    async def close(self, *, publish: bool = True) -> None:
        """Publish the last value (unless not ``publish``: :meth:`unsent` has it), then stop.
        Never cancels a database write half-way (an interrupted asyncpg command can hold its
        connection for a long time)."""
        self._publish_last = publish
        self._closed.set()
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=10.0)
            if not done:
                self._task.cancel()


class SoundyWorker:
    """One BullMQ worker with its process pool, database engine, storage and Redis client.

    ``analyze`` is what the pool's processes run for each file (:func:`measure`; tests pass one
    that first waits, to act while a job runs).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int | None = None,
        analyze: Analysis = measure,
    ) -> None:
        if not settings.database_url or not settings.redis_url:
            raise SoundyError(
                "soundy worker needs SOUNDY_DATABASE_URL and SOUNDY_REDIS_URL "
                "(or run `soundy serve`, which starts embedded ones)"
            )
        self.settings = settings
        self.concurrency = concurrency or settings.worker_concurrency
        self.analyze = analyze
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = asyncio.Event()
        self.stop_reason = ""
        self.pool: AnalysisPool | None = None
        self.engine: AsyncEngine | None = None
        self.job_engine: AsyncEngine | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.storage: Storage | None = None
        self.redis: aioredis.Redis | None = None
        self.bull: BullWorker | None = None
        self.handing_back = False
        # True when the worker stopped on its own (not asked to): its exit code is then 1.
        self.failed = False

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        assert s.database_url is not None and s.redis_url is not None
        # The reconciler's (its pass is one transaction holding an advisory lock).
        self.engine = create_engine(s.database_url, pool_size=1)
        # The jobs': every row change of a job is one conditional UPDATE (soundy.jobs.store),
        # atomic by itself, so in autocommit it costs one round trip instead of BEGIN, UPDATE
        # and COMMIT, and the ping of an idle connection one instead of three.
        self.job_engine = create_engine(
            s.database_url, pool_size=self.concurrency + s.worker_prefetch, autocommit=True
        )
        self.sessions = sessionmaker(self.job_engine)
        self.storage = open_storage(s)
        self.redis = queue.redis_client(s, timeout_s=max(5.0, s.redis_timeout_s))
        self.pool = AnalysisPool(
            self.concurrency,
            analyze=self.analyze,
            memory_limit_bytes=self.settings.analysis_memory_limit_bytes,
            nice=self.settings.analysis_nice,
        )
        await self.pool.start()
        lock_ms = round(s.worker_lock_duration_s * 1000)
        self.bull = BullWorker(
            queue.QUEUE_NAME,
            self._process,
            {
                "connection": s.redis_url,
                "prefix": s.queue_prefix,
                # More jobs at once than analysis processes: a job's own I/O (row
                # transitions, download, queue calls) overlaps the others' analyses; it waits
                # for a free process in AnalysisPool.run.
                "concurrency": self.concurrency + s.worker_prefetch,
                "autorun": False,
                "name": self.name,
                "lockDuration": lock_ms,
                "lockRenewTime": max(100, lock_ms // 2),
                "stalledInterval": round(s.worker_stalled_interval_s * 1000),
                # A job may be recovered from a dead worker twice before BullMQ gives up on it.
                "maxStalledCount": 2,
                # How long an idle worker blocks on the queue's marker per call (s). With
                # BullMQ's default of 5, bullmq 3.4.4 (Python) picked up a job queued after
                # ~10 s of idleness only 3-4 s late; with 1 it takes it at once
                # (tests/pipeline: test_an_idle_worker_takes_a_new_job_at_once). Cost: one
                # BZPOPMIN per idle second.
                "drainDelay": 1,
                # After a Redis outage, look for jobs again within 2 s (BullMQ's default: 15 s).
                "runRetryDelay": 2000,
                "removeOnComplete": {"count": s.queue_keep_completed},
                "removeOnFail": {"count": s.queue_keep_failed},
            },
        )
        self.bull.on("error", self._on_bull_error)
        self.bull.on("stalled", lambda job_id, *_: log.warning("job %s stalled; requeued", job_id))
        log.info(
            "worker %s started: queue %r, prefix %r, concurrency %d (+ %d prefetched), "
            "analysis pids %s",
            self.name,
            queue.QUEUE_NAME,
            s.queue_prefix,
            self.concurrency,
            s.worker_prefetch,
            self.pool.pids(),
        )

    def _on_bull_error(self, error: object, *_: object) -> None:
        log.warning("queue error: %s", error)

    def request_stop(self, reason: str) -> None:
        """Stop taking jobs (first call); a second call stops at once."""
        if self._stop.is_set():
            log.warning("%s again: stopping now, running jobs are handed back", reason)
            self.handing_back = True
            if self.bull is not None:
                self.bull.forceClosing = True
                self.bull.cancelProcessing()
            return
        self.stop_reason = reason
        self._stop.set()

    def dump_tasks(self) -> None:
        """Log every asyncio task with its stack (SIGUSR1; for diagnosing a stuck worker)."""
        for task in asyncio.all_tasks():
            out = io.StringIO()
            task.print_stack(file=out)
            log.warning("task %s:\n%s", task.get_name(), out.getvalue())

    async def run(self, *, install_signals: bool = True) -> str:
        """Run until stopped; returns why it stopped."""
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop, sig.name)
            loop.add_signal_handler(signal.SIGUSR1, self.dump_tasks)
        await self.start()
        assert self.bull is not None and self.sessions is not None
        await self._wait_for_redis()
        run_task = asyncio.create_task(self.bull.run(), name="bullmq-worker")
        reconciler = asyncio.create_task(
            run_reconciler(self.settings, self.engine), name="reconciler"
        )
        stop_task = asyncio.create_task(self._stop.wait())
        done, _ = await asyncio.wait({run_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if run_task in done and not self._stop.is_set():
            exc = run_task.exception()
            self.stop_reason = f"the queue loop ended ({exc!r})" if exc else "the queue loop ended"
            self.failed = True
        stop_task.cancel()
        log.info("worker %s stopping: %s", self.name, self.stop_reason)
        reconciler.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reconciler
        await self._close_bull(run_task)
        await self.close()
        log.info("worker %s stopped: %s", self.name, self.stop_reason)
        return self.stop_reason

    async def _wait_for_redis(self) -> None:
        """Start taking jobs only once Redis answers (a worker may start before Redis)."""
        assert self.redis is not None
        last_warning_s = -math.inf
        while not self._stop.is_set():
            try:
                await self.redis.ping()
                return
            except Exception as exc:
                if time.monotonic() - last_warning_s >= 10:
                    last_warning_s = time.monotonic()
                    log.warning("waiting for Redis: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=1.0)

    async def _close_bull(self, run_task: asyncio.Task[Any]) -> None:
        assert self.bull is not None
        running = len(self.bull.jobs)
        if running:
            log.info(
                "waiting up to %gs for %d running job(s)",
                self.settings.worker_shutdown_grace_s,
                running,
            )
        close_task = asyncio.create_task(self.bull.close())
        done, _ = await asyncio.wait({close_task}, timeout=self.settings.worker_shutdown_grace_s)
        if not done:
            log.warning(
                "grace period over: handing %d running job(s) back to the queue",
                len(self.bull.jobs),
            )
            self.handing_back = True
            self.bull.forceClosing = True
            self.bull.cancelProcessing()
            await asyncio.wait({close_task}, timeout=10)
        if not close_task.done():
            close_task.cancel()
        for task in (run_task, close_task):
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close(kill=self.handing_back)
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
        if self.storage is not None:
            with contextlib.suppress(Exception):
                await self.storage.aclose()
        await queue.close_queues()
        for engine in (self.engine, self.job_engine):
            if engine is not None:
                await engine.dispose()

    # -- progress --------------------------------------------------------------------------
    async def _publish(self, job_id: str, *event: dict[str, Any]) -> None:
        assert self.redis is not None
        try:
            await events.publish(self.redis, job_id, *event, prefix=self.settings.queue_prefix)
        except Exception as exc:  # live events are best effort
            log.debug("publish failed: %s", exc)

    async def _db(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """``fn(connection, *args, **kwargs)`` on a connection of the jobs' engine (autocommit):
        a transition of :mod:`soundy.jobs.store`. A connection, not a session: the session's
        begin, commit and close cost 0.4 ms of CPU per job more (docs/benchmarks.md)."""
        assert self.job_engine is not None
        async with self.job_engine.connect() as connection:
            return await fn(connection, *args, **kwargs)

    # -- one job ---------------------------------------------------------------------------
    async def _process(self, bull_job: Any, token: str) -> dict[str, Any]:
        """BullMQ's processor: one delivery of a queue job, from its start to its outcome."""
        job = _Delivery.of(bull_job)
        context = job_id_var.set(job.job_id or None)
        try:
            row = await self._start(job)
            if row is None:
                return {"skipped": "finished"}
            progress = self._progress(job)
            try:
                measurements = await self._attempt(job, row, progress)
            except PermanentError as exc:
                await self._permanent_failure(job, exc, progress.unsent())
                raise UnrecoverableError(f"{exc.code}: {exc.message}") from exc
            except asyncio.CancelledError:
                log.warning("interrupted by shutdown; handed back to the queue")
                raise
            except Exception as exc:
                await self._transient_failure(job, exc, progress.unsent())
                raise
            await self._completed(job, measurements, progress.unsent())
            return {"completed": True}
        finally:
            job_id_var.reset(context)

    async def _start(self, job: _Delivery) -> Job | None:
        """``start_attempt``: the job's row when this attempt begins, None for a job that
        already finished (a duplicate delivery: nothing is done). A queue job whose ``jobId``
        names no job row fails in BullMQ at once with the reason (``UnrecoverableError``)."""
        reason = _unusable_job_id(job.job_id)
        if reason is None:
            row = await self._db(jobs.start_attempt, job.job_id)
            if row is not None:
                log.info(
                    "attempt %d/%d started (queue job %s)",
                    job.attempt,
                    job.max_attempts,
                    job.queue_job_id,
                )
                return row  # type: ignore[no-any-return]
            assert self.sessions is not None
            async with self.sessions() as session:
                finished = await jobs.get_job(session, job.job_id)
            if finished is not None:
                log.info("job already finished: duplicate delivery skipped")
                return None
            reason = (
                f"no job {job.job_id} in the database: the producer must insert the job row "
                "(status pending) before it adds the job to the queue"
            )
        # Any producer may add to the queue (a Node one too): a job that names no job row fails
        # at once with the reason, instead of being retried or completed as a no-op.
        log.warning("queue job %s rejected: %s", job.queue_job_id, reason)
        raise UnrecoverableError(reason)

    def _progress(self, job: _Delivery) -> _Progress:
        """The attempt's progress: written to the row (throttled), published live."""
        return _Progress(
            job.job_id,
            write_db=lambda percent, stage: self._db(
                jobs.set_progress, job.job_id, progress=percent, stage=stage
            ),
            send=lambda batch: self._publish(job.job_id, *batch),
            db_interval_s=self.settings.progress_interval_s,
            stored=(jobs.STAGE_DOWNLOADING, 0),
        )

    async def _attempt(self, job: _Delivery, row: Job, progress: _Progress) -> Measurements:
        """Download the upload (stage ``downloading``) and measure it in the pool (``decoding``,
        ``measuring``), ``progress`` stored and published as it comes. ``row`` is the job as
        ``start_attempt`` left it. The last progress events are left to the outcome
        (``progress.unsent()``), which publishes them with its own."""
        assert self.storage is not None and self.pool is not None
        # The row's file key, never the queue data's: any producer may add to the queue.
        file_key = str(row.file_key or "")
        options = AnalysisOptions(
            max_duration_s=self.settings.max_duration_s,
            max_samples=self.settings.max_samples_per_job,
            max_channels=self.settings.max_channels,
            max_sample_rate_hz=self.settings.max_sample_rate_hz,
            display_name=PurePosixPath(file_key).name,
            codec_check=bool(row.codec_check),
        )
        ranges = STAGE_RANGES_CODEC_CHECK if options.codec_check else STAGE_RANGES
        progress.start()
        try:
            with tempfile.TemporaryDirectory(prefix="soundy-job-") as tmp:
                path = Path(tmp) / (PurePosixPath(file_key).name or "upload")
                try:
                    await self.storage.download(file_key, path)
                except NotFound as exc:
                    raise UploadMissing("the uploaded file is no longer in storage") from exc
                progress.update("downloading", overall_percent("downloading", 1.0))
                return await self.pool.run(
                    path,
                    options,
                    on_progress=lambda stage, fraction: progress.update(
                        stage, overall_percent(stage, fraction, ranges)
                    ),
                    timeout_s=self.settings.job_timeout_s,
                )
        finally:
            await progress.close(publish=False)

    # -- the outcomes ----------------------------------------------------------------------
    async def _completed(
        self, job: _Delivery, measurements: Measurements, progress: list[dict[str, Any]]
    ) -> None:
        """``complete``: the measurements are stored (the comparison is derived on read). Its
        live event goes after the attempt's last ``progress`` events, in one round trip."""
        row = await self._db(jobs.complete, job.job_id, result=measurements)
        if row is None:
            log.info("finished elsewhere meanwhile; this result was not stored")
            return
        log.info("completed in %.2f s", time.monotonic() - job.started_s)
        await self._publish(
            job.job_id, *progress, {"status": "completed", "progress": 100, "stage": None}
        )
        _count_end(row, failed_code=None)

    async def _permanent_failure(
        self, job: _Delivery, error: PermanentError, progress: list[dict[str, Any]]
    ) -> None:
        """Retrying cannot help: the job fails now (the caller tells BullMQ not to retry)."""
        log.warning("failed (%s): %s", error.code, error.message)
        await self._failed(job, error.code, error.message, progress)

    async def _transient_failure(
        self, job: _Delivery, exc: Exception, progress: list[dict[str, Any]]
    ) -> None:
        """A fault that may pass: BullMQ retries with backoff (the stage ``retrying`` is
        published meanwhile, after the attempt's last ``progress`` events); after the last
        attempt the job fails with the reason."""
        code, message, details = _transient_reason(exc, job.attempt)
        unexpected = not isinstance(exc, SoundyError)  # a traceback helps only for those
        if job.attempt < job.max_attempts:
            log.warning(
                "attempt %d/%d failed, will retry: %s",
                job.attempt,
                job.max_attempts,
                details,
                exc_info=unexpected,
            )
            await self._publish(
                job.job_id,
                *progress,
                {"status": "processing", "stage": "retrying", "error": None},
            )
            return
        log.error(
            "attempt %d/%d failed, giving up: %s",
            job.attempt,
            job.max_attempts,
            details,
            exc_info=unexpected,
        )
        await self._failed(job, code, message, progress)

    async def _failed(
        self, job: _Delivery, code: str, message: str, progress: list[dict[str, Any]]
    ) -> None:
        """``fail`` with a code and a readable message, its live event (after the attempt's
        last ``progress`` events, in one round trip) and its metric."""
        try:
            row = await self._db(jobs.fail, job.job_id, code=code, message=message)
        except Exception:
            log.exception("could not record the failure; the job will be retried")
            raise
        if row is None:
            log.info("finished elsewhere meanwhile; this failure was not stored")
            return
        await self._publish(
            job.job_id,
            *progress,
            {"status": "failed", "stage": None, "error": {"code": code, "message": message}},
        )
        _count_end(row, failed_code=code)


def _count_end(row: Job, *, failed_code: str | None) -> None:
    """Count the job's end in :mod:`soundy.metrics` (shared with the API via multiprocess
    mode): completed, or failed with ``failed_code``; and its duration as stored, from the
    first start to the end (the row the final transition returned)."""
    try:
        if failed_code is None:
            metrics.JOBS_COMPLETED.inc()
        else:
            metrics.JOBS_FAILED.labels(code=failed_code).inc()
        if row.started_at is not None and row.finished_at is not None:
            duration_s = (row.finished_at - row.started_at).total_seconds()
            metrics.JOB_DURATION.observe(max(0.0, float(duration_s)))
    except Exception:  # metrics never fail a job
        log.debug("metrics update failed", exc_info=True)


@dataclass(frozen=True, kw_only=True)
class _Delivery:
    """One delivery of a queue job to this worker: the job, and which attempt this is."""

    job_id: str
    queue_job_id: str
    data: dict[str, Any]
    attempt: int
    max_attempts: int
    started_s: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, bull_job: Any) -> _Delivery:
        data = bull_job.data if isinstance(bull_job.data, dict) else {}
        return cls(
            job_id=str(data.get("jobId") or ""),
            queue_job_id=str(bull_job.id),
            data=data,
            attempt=int(bull_job.attemptsMade or 0) + 1,
            max_attempts=int((bull_job.opts or {}).get("attempts") or 1),
        )


def _unusable_job_id(job_id: str) -> str | None:
    """Why a queue job's ``jobId`` cannot name a job row (None when it can: a UUID)."""
    if not job_id:
        return 'the queue job\'s data carries no "jobId"'
    try:
        uuid.UUID(job_id)
    except ValueError:
        return f"jobId {job_id!r} is not a job id (a UUID)"
    return None


def _transient_reason(exc: Exception, attempt: int) -> tuple[str, str, str]:
    """(code, message for the job row, details for the log) of a fault that may pass."""
    if isinstance(exc, SoundyError):
        return exc.code, exc.message, exc.message
    # The user sees a plain sentence; the log gets the details.
    message = (
        f"a temporary fault ({type(exc).__name__}) stopped the analysis {attempt} time(s); "
        "please try again later"
    )
    return "temporarily_unavailable", message, f"{type(exc).__name__}: {exc}"


async def run_worker(
    settings: Settings, *, concurrency: int | None = None, analyze: Analysis = measure
) -> int:
    """Run one worker until SIGTERM/SIGINT; returns the exit code (0 when asked to stop)."""
    worker = SoundyWorker(settings, concurrency=concurrency, analyze=analyze)
    # In multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by `soundy serve` for its children)
    # the API's /metrics adds up this process's samples: no port of its own, and the workers of
    # one `serve` do not all try to bind the same one.
    if settings.worker_metrics_port is not None and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics.serve_worker_metrics(settings.worker_metrics_host, settings.worker_metrics_port)
        log.info(
            "metrics: http://%s:%d/metrics",
            settings.worker_metrics_host,
            settings.worker_metrics_port,
        )
    await worker.run()
    return 1 if worker.failed else 0
