"""The analysis process pool: children pin BLAS/OpenMP to one thread; each call's progress goes
to that call's callback, all of it before the call returns; a child that died while idle is
replaced without blaming the next job. (Crashes and timeouts during a job are tested end to end
in test_pipeline_worker.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from soundy.errors import InputError
from soundy.pipeline._pool import AnalysisPool, measure
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


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


async def test_children_run_at_the_nice_level_they_are_given():
    # The API on the same machine gets the CPU first; the parent (which renews the queue's
    # locks) keeps its own priority.
    parent = _priority()
    pool = AnalysisPool(1, nice=5)
    await pool.start(warm=False)
    try:
        child = await _in_slot(pool, _priority)
    finally:
        await pool.close()
    assert child == min(parent + 5, 19)
    assert _priority() == parent


def _tone(path: Path, duration_s: float) -> Path:
    import numpy as np
    import soundfile as sf

    t = np.arange(int(duration_s * 48000)) / 48000
    sf.write(path, np.stack([0.1 * np.sin(2 * np.pi * 1000 * t)] * 2, axis=1), 48000)
    return path


async def _measure_with_progress(pool: AnalysisPool, path: Path):
    """(measurements or the error raised, the progress this call's callback had seen when
    ``run`` came back)."""
    seen: list[tuple[str, float]] = []
    try:
        result = await pool.run(
            path, AnalysisOptions(), on_progress=lambda *m: seen.append(m), timeout_s=60
        )
    except InputError as exc:
        return exc, list(seen)
    return result, list(seen)


def _one_call(seen: list[tuple[str, float]]) -> bool:
    """The whole progress of exactly one measure_file call: starts once, ends once, in order."""
    return (
        seen[0] == ("decoding", 0.0)
        and seen[-1] == ("measuring", 1.0)
        and seen.count(("decoding", 0.0)) == 1
        and seen.count(("measuring", 1.0)) == 1
        and [f for _, f in seen] == sorted(f for _, f in seen)
    )


async def test_each_call_gets_all_of_its_own_progress_before_it_returns(tmp_path: Path):
    long_wav = _tone(tmp_path / "long.wav", 40.0)
    short_wav = _tone(tmp_path / "short.wav", 3.0)
    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"not audio at all" * 64)
    pool = AnalysisPool(2)
    await pool.start()
    try:
        # Two calls at once, one per slot: neither sees the other's messages.
        (long_result, long_seen), (short_result, short_seen) = await asyncio.gather(
            _measure_with_progress(pool, long_wav), _measure_with_progress(pool, short_wav)
        )
        assert long_result["file"]["duration_s"] == pytest.approx(40.0)
        assert short_result["file"]["duration_s"] == pytest.approx(3.0)
        assert _one_call(long_seen) and _one_call(short_seen)
        # Slots are reused: the next calls start clean, and a call that raises has also had
        # all of its progress (decoding began, then the file was refused).
        for _ in range(2):
            error, seen = await _measure_with_progress(pool, not_audio)
            assert isinstance(error, InputError)
            assert seen == [("decoding", 0.0)]
            result, seen = await _measure_with_progress(pool, short_wav)
            assert result == short_result and _one_call(seen)
    finally:
        await pool.close(kill=True)


_FLOOD = 20_000


def _measure_then_flood(path: Path, options: AnalysisOptions, progress) -> dict:
    """Runs in a child: the real measurement, then far more progress than the pipe buffers, so
    the result reaches the parent while the last messages are still on their way."""
    result = measure(path, options, progress)
    for i in range(_FLOOD):
        progress("flood", float(i))
    return result


async def test_run_returns_only_after_the_last_progress_message(tmp_path: Path):
    wav = _tone(tmp_path / "tone.wav", 3.0)
    pool = AnalysisPool(1, analyze=_measure_then_flood)
    await pool.start()
    try:
        for _ in range(2):
            result, seen = await _measure_with_progress(pool, wav)
            assert result["file"]["duration_s"] == pytest.approx(3.0)
            assert seen[-_FLOOD:] == [("flood", float(i)) for i in range(_FLOOD)]
            assert _one_call(seen[:-_FLOOD])
    finally:
        await pool.close(kill=True)


def _measure_counting_faults(path: Path, options: AnalysisOptions, progress) -> dict:
    """Runs in a child: the real measurement, and the page faults it took."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    measure(path, options, progress)
    return {"faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}


async def test_an_analysis_process_keeps_its_freed_memory_for_the_next_analysis(tmp_path: Path):
    # With glibc's defaults each analysis of a 10 s stereo clip took about 5,000 page faults
    # (its buffers handed back to the kernel, then faulted in again): 30 % of its CPU time.
    # And the warm-up's analysis already grew the heap: the first job faulted ~6,000 pages.
    wav = _tone(tmp_path / "tone.wav", 10.0)
    pool = AnalysisPool(1, analyze=_measure_counting_faults)
    await pool.start()
    try:
        faults = [
            (await pool.run(wav, AnalysisOptions(), timeout_s=60))["faults"] for _ in range(4)
        ]
    finally:
        await pool.close(kill=True)
    assert faults[0] < 2000 and max(faults[1:]) < 500, faults


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
        result = await pool.run(wav, AnalysisOptions(), timeout_s=60)
        assert result["file"]["channels"] == 2
        assert result["loudness"]["integrated_lufs"] == pytest.approx(-19.993, abs=0.1)
    finally:
        await pool.close(kill=True)
