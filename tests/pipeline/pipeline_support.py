"""Helpers for the multi-process pipeline tests (imported by tests/pipeline modules)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import soundfile as sf

from soundy.pipeline._pool import measure
from soundy.report import AnalysisOptions, ProgressCallback
from soundy.result import Measurements

# `soundy worker` with SlowAnalysis (run as a script: see its docstring).
SLOW_WORKER = Path(__file__).resolve().parent / "slow_worker.py"

# Settings that make failure recovery fast enough for tests (seconds instead of tens).
FAST_RECOVERY_ENV = {
    "SOUNDY_WORKER_LOCK_DURATION_S": "2",
    "SOUNDY_WORKER_STALLED_INTERVAL_S": "0.5",
    "SOUNDY_RECONCILE_INTERVAL_S": "1",
    "SOUNDY_RECONCILE_MIN_AGE_S": "0.5",
    "SOUNDY_JOB_BACKOFF_S": "0.2",
    "SOUNDY_WORKER_SHUTDOWN_GRACE_S": "5",
}


def sine_wav(
    *,
    peak: float = 0.1,
    freq_hz: float = 1000.0,
    duration_s: float = 2.0,
    sample_rate_hz: int = 48000,
) -> bytes:
    """A stereo sine, same in both channels, as 16-bit WAV bytes."""
    t = np.arange(int(duration_s * sample_rate_hz)) / sample_rate_hz
    x = peak * np.sin(2 * np.pi * freq_hz * t)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([x, x], axis=1), sample_rate_hz, format="WAV", subtype="PCM_24")
    return buffer.getvalue()


@dataclass(frozen=True)
class SlowAnalysis:
    """The real analysis (``soundy.pipeline._pool.measure``) after ``delay_s`` seconds of
    "decoding" progress at 0 %, in the analysis process: a job that stays running long enough
    for a test to kill its worker or its process, or to pass the time limit. A long file would
    not do: the engine measures 60 minutes of audio in about 4 s (docs/benchmarks.md)."""

    delay_s: float

    def __call__(
        self, path: Path, options: AnalysisOptions, progress: ProgressCallback
    ) -> Measurements:
        deadline = time.monotonic() + self.delay_s
        while (left := deadline - time.monotonic()) > 0:
            progress("decoding", 0.0)
            time.sleep(min(0.2, left))
        return measure(path, options, progress)


def free_port() -> int:
    """A TCP port nothing listens on now (the OS's pick), for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proc:
    """A `soundy` subprocess in its own session, its output in a log file. ``program`` is what
    runs with ``args`` (default: the `soundy` command)."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        log_path: Path,
        *,
        program: list[str] | None = None,
    ) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            [*(program or [sys.executable, "-m", "soundy.cli.main"]), *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"process exited ({self.popen.returncode}):\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not logged within {timeout_s} s:\n{self.log()}")

    def descendants(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.pid).children(recursive=True)
        return []

    def kill_all(self) -> None:
        """SIGKILL the process, its group and every descendant (test teardown)."""
        victims = self.descendants()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        for proc in victims:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        self._log.close()


async def submit(
    api: Any,
    token: str,
    data: bytes,
    upload: Callable[..., Any],
    filename: str = "track.wav",
    **body: Any,
) -> str:
    """The README's upload + analyze calls; returns the job id."""
    file_key = await upload(api, token, data, filename=filename)
    response = await api.post(
        "/api/audio/analyze",
        json={"file_key": file_key, "mode": "genre", **body},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["job"]["id"])


async def wait_job(
    api: Any,
    token: str,
    job_id: str,
    *,
    until: Callable[[dict[str, Any]], bool] | None = None,
    timeout_s: float = 30.0,
) -> dict[str, Any]:
    """Poll ``GET /api/jobs/{id}`` until ``until(job)`` (default: finished)."""
    import asyncio

    until = until or (lambda job: job["status"] in ("completed", "failed"))
    deadline = time.monotonic() + timeout_s
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await api.get(
            f"/api/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        job = response.json()
        if until(job):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not get there within {timeout_s} s: {job}")
