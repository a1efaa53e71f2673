"""The analysis process pool: children pin BLAS/OpenMP to one thread; a child that died while
idle is replaced without blaming the next job. (Crashes and timeouts during a job are tested
end to end in test_pipeline_worker.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from soundy.pipeline._pool import AnalysisPool
from soundy.report import AnalysisOptions


def _probe() -> tuple[dict[str, str | None], int]:
    """Runs in a child: its thread variables, and its thread count after BLAS work."""
    import numpy as np
    import psutil

    a = np.random.default_rng(0).random((400, 400))
    for _ in range(3):
        a = a @ a / 400.0
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return {name: os.environ.get(name) for name in names}, psutil.Process().num_threads()


def _suicide() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def _in_slot(pool: AnalysisPool, fn, *args):
    slot = pool._slots[0]
    return await asyncio.get_running_loop().run_in_executor(slot.executor, fn, *args)


async def test_children_run_blas_on_one_thread():
    pool = AnalysisPool(1)
    await pool.start(warm=False)
    try:
        variables, threads = await _in_slot(pool, _probe)
    finally:
        await pool.close()
    assert variables == {
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    assert threads == 1


async def test_an_analysis_process_that_died_while_idle_does_not_fail_the_next_job(
    tmp_path: Path,
):
    import numpy as np
    import soundfile as sf

    wav = tmp_path / "tone.wav"
    t = np.arange(48000) / 48000
    sf.write(wav, np.stack([0.1 * np.sin(2 * np.pi * 1000 * t)] * 2, axis=1), 48000)
    pool = AnalysisPool(1)
    await pool.start(warm=False)
    try:
        with pytest.raises(Exception):  # noqa: B017 - the child dies: BrokenProcessPool
            await _in_slot(pool, _suicide)
        result = await pool.run("job-1", wav, AnalysisOptions(), timeout_s=60)
        assert result["file"]["channels"] == 2
        assert result["loudness"]["integrated_lufs"] == pytest.approx(-19.993, abs=0.1)
    finally:
        await pool.close(kill=True)
