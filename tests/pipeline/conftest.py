"""Fixtures for the multi-process pipeline tests: `soundy worker` subprocesses that are always
killed at the end. Helpers (WAV files, job submission and polling) are in pipeline_support.py."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from pipeline_support import FAST_RECOVERY_ENV, SLOW_WORKER, Proc  # noqa: E402


@pytest.fixture
def database_url(own_database_url: str) -> str:
    """One database per pipeline test: its workers' reconciler queues every pending job of
    the database, and must not take (or fail) jobs that other tests left pending."""
    return own_database_url


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """``spawn(args, env)`` -> a running `soundy` subprocess, killed at teardown."""
    procs: list[Proc] = []

    def _spawn(
        args: list[str],
        env: dict[str, str],
        name: str | None = None,
        program: list[str] | None = None,
    ) -> Proc:
        log_path = tmp_path / f"{name or args[0]}-{len(procs)}.log"
        proc = Proc(args, env, log_path, program=program)
        procs.append(proc)
        return proc

    yield _spawn
    for proc in procs:
        proc.kill_all()


@pytest.fixture
def worker_env(soundy_env: dict[str, str]) -> dict[str, str]:
    """Environment for `soundy worker` subprocesses with fast recovery timings."""
    return {**soundy_env, **FAST_RECOVERY_ENV}


@pytest.fixture
def start_worker(spawn: Callable[..., Proc], worker_env: dict[str, str]) -> Callable[..., Proc]:
    """``start_worker(concurrency=1, analysis_delay_s=None, **env)`` -> a `soundy worker` that
    is ready for jobs; with ``analysis_delay_s``, one whose every analysis first waits that many
    seconds (slow_worker.py)."""

    def _start(concurrency: int = 1, analysis_delay_s: float | None = None, **env: str) -> Proc:
        if analysis_delay_s is None:
            args, program = ["worker", "--concurrency", str(concurrency)], None
        else:
            args = [str(analysis_delay_s), str(concurrency)]
            program = [sys.executable, str(SLOW_WORKER)]
        proc = spawn(args, {**worker_env, **env}, name="worker", program=program)
        proc.wait_for_log("started: queue", timeout_s=60)
        return proc

    return _start
