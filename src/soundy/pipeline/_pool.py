"""The analysis process pool: CPU work runs in child processes so the worker's event loop keeps
renewing BullMQ locks and answering Redis while a track is measured.

One *slot* per concurrent job, each a ``ProcessPoolExecutor`` with one ``spawn``-started child
(no fork: the parent holds sockets and threads). One executor per slot means a crash, a timeout
or a kill touches only that slot's job: the slot's executor is thrown away and a new one made,
while the other slots go on. Children:

* pin BLAS/OpenMP threads to 1 (``OMP_NUM_THREADS`` etc. set before numpy is imported), so N
  slots use N cores rather than N x cores threads;
* ignore SIGINT and SIGTERM (the worker decides when they stop; Ctrl-C in a terminal reaches
  the whole process group) and die with their parent (Linux ``PR_SET_PDEATHSIG``), so a
  SIGKILLed worker leaves no analysis running;
* send progress ``(job_id, stage, fraction)`` through their slot's pipe, which a thread in
  the parent reads and hands to the event loop; every call ends with an end marker, and
  :meth:`AnalysisPool.run` returns only after the handler has seen all of the call's progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soundy.result import Measurements

__all__ = ["AnalysisCrashed", "AnalysisPool", "AnalysisTimeout", "ProgressHandler"]

log = logging.getLogger("soundy.pipeline.pool")

# progress handler: (job_id, stage, fraction 0..1), called on the event loop.
ProgressHandler = Callable[[str, str, float], None]

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
# Test-only hook (docs/operations.md): the child sleeps this many seconds before analysing,
# reporting "decoding" progress, so tests can kill a worker in the middle of a job.
TEST_DELAY_ENV = "SOUNDY_TEST_ANALYSIS_DELAY_S"
# Progress "stage" that marks the end of one call's messages.
_END = "__end__"
# prctl(2) option: signal to receive when the parent dies.
_PR_SET_PDEATHSIG = 1


class AnalysisCrashed(Exception):
    """The analysis process died (killed, out of memory, a crash in native code)."""


class AnalysisTimeout(Exception):
    """The analysis ran longer than ``SOUNDY_JOB_TIMEOUT_S``; its process was killed."""


# ---------------------------------------------------------------------------------------------
# In the child process.
_child_progress: Any = None


def _init_child(progress_pipe: Any) -> None:
    """Runs first in each child, before anything imports numpy."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    global _child_progress
    _child_progress = progress_pipe


def _warm_up() -> int:
    """Import the analysis stack now, so the first job does not pay for it."""
    # The analysis stack, numpy and scipy: in the child, after _init_child pinned the threads.
    import soundy.analysis.measure  # noqa: F401

    with contextlib.suppress(Exception):
        # Importing is this function's work: in the child, after _init_child pinned the threads.
        import numpy  # noqa: F401
        import scipy.signal  # noqa: F401
    return os.getpid()


def _analyze(job_id: str, path: str, options: Any) -> Measurements:
    """Runs in the child: ``soundy.analysis.measure_file`` with progress sent to the parent.

    Only the measurements: a job's comparison is computed from them when it is read
    (:mod:`soundy.jobs.results`), so it follows the targets of the day.
    """
    # Here, not at the top: numpy must load after _init_child pinned the BLAS threads.
    from soundy.analysis import measure_file

    def progress(stage: str, fraction: float) -> None:
        with contextlib.suppress(Exception):
            _child_progress.send((job_id, stage, float(fraction)))

    try:
        delay_s = float(os.environ.get(TEST_DELAY_ENV) or 0)
        if delay_s > 0:
            deadline = time.monotonic() + delay_s
            while (left := deadline - time.monotonic()) > 0:
                progress("decoding", 0.0)
                time.sleep(min(0.2, left))
        return measure_file(
            Path(path),
            max_duration_s=options.max_duration_s,
            display_name=options.display_name,
            progress=progress,
        )
    finally:
        # Written after every progress message of this job (the pipe keeps order), so the
        # parent knows when it has seen them all.
        progress(_END, 1.0)


# ---------------------------------------------------------------------------------------------
# In the parent.
@dataclass
class _Slot:
    index: int
    executor: ProcessPoolExecutor
    progress_pipe: Any  # the reading end; the slot's child holds the writing end
    reader: threading.Thread
    stop_reader: threading.Event = field(default_factory=threading.Event)

    def pids(self) -> list[int]:
        processes = getattr(self.executor, "_processes", None) or {}
        return [pid for pid in processes if pid]


class AnalysisPool:
    """``slots`` analysis processes; :meth:`run` analyses one file in a free one."""

    def __init__(self, slots: int, on_progress: ProgressHandler | None = None) -> None:
        if slots < 1:
            raise ValueError("an analysis pool needs at least one slot")
        self._context = multiprocessing.get_context("spawn")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_progress = on_progress
        self._slots: list[_Slot] = []
        self._free: asyncio.Queue[int] | None = None
        # job id -> set once all of the call's progress messages have been handed on
        self._ends: dict[str, asyncio.Event] = {}
        self._size = slots
        self.closed = False

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, *, warm: bool = True) -> None:
        """Start the children (and import the analysis stack in them when ``warm``)."""
        self._loop = asyncio.get_running_loop()
        self._free = asyncio.Queue()
        for index in range(self._size):
            self._slots.append(self._new_slot(index))
            self._free.put_nowait(index)
        if warm:
            await asyncio.gather(
                *(self._loop.run_in_executor(slot.executor, _warm_up) for slot in self._slots),
                return_exceptions=True,
            )

    def _new_slot(self, index: int) -> _Slot:
        # One pipe per slot: its child is the only writer, so no lock is needed, and a child
        # killed half-way through a write damages only its own slot's pipe (replaced with it).
        reader_end, writer_end = self._context.Pipe(duplex=False)
        executor = ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            initializer=_init_child,
            initargs=(writer_end,),
        )
        stop = threading.Event()
        reader = threading.Thread(
            target=self._read_progress,
            args=(reader_end, stop),
            name=f"soundy-progress-{index}",
            daemon=True,
        )
        slot = _Slot(index, executor, reader_end, reader, stop)
        reader.start()
        return slot

    def _read_progress(self, pipe: Any, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if not pipe.poll(0.25):
                    continue
                job_id, stage, fraction = pipe.recv()
            except (EOFError, OSError, ValueError, TypeError):
                return
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            callback = self._on_end if stage == _END else self._on_progress
            if callback is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(callback, job_id, stage, fraction)

    def _on_end(self, job_id: str, _stage: str, _fraction: float) -> None:
        event = self._ends.get(job_id)
        if event is not None:
            event.set()

    def _retire(self, slot: _Slot, *, kill: bool) -> None:
        """Throw a slot's executor away (killing its child when ``kill``)."""
        if kill:
            for pid in slot.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        slot.executor.shutdown(wait=False, cancel_futures=True)
        slot.stop_reader.set()

    def _replace(self, index: int, *, kill: bool) -> None:
        old = self._slots[index]
        self._retire(old, kill=kill)
        if not self.closed:
            self._slots[index] = self._new_slot(index)

    async def close(self, *, kill: bool = False) -> None:
        """Stop every child: after their current work, or at once with ``kill``."""
        self.closed = True
        for slot in self._slots:
            self._retire(slot, kill=kill)
        loop = asyncio.get_running_loop()
        for slot in self._slots:
            await loop.run_in_executor(None, slot.executor.shutdown, True)
            await loop.run_in_executor(None, slot.reader.join, 1.0)
            with contextlib.suppress(Exception):
                slot.progress_pipe.close()

    def pids(self) -> list[int]:
        """Process ids of the live children (for logs and tests)."""
        return [pid for slot in self._slots for pid in slot.pids()]

    # -- work ------------------------------------------------------------------------------
    async def run(self, job_id: str, path: Path, options: Any, *, timeout_s: float) -> Measurements:
        """Measure ``path`` in a free slot; returns ``measure_file``'s measurements.

        Raises the analysis' own errors (``InputError`` etc., re-raised from the child),
        :class:`AnalysisCrashed` when the child died, :class:`AnalysisTimeout` after
        ``timeout_s`` seconds. On a crash, timeout or cancellation the slot gets a new process.
        """
        if self.closed or self._free is None or self._loop is None:
            raise RuntimeError("the analysis pool is not running")
        index = await self._free.get()
        slot = self._slots[index]
        replace = False
        kill = False
        end = self._ends[job_id] = asyncio.Event()
        try:
            try:
                future = self._loop.run_in_executor(
                    slot.executor, _analyze, job_id, str(path), options
                )
            except BrokenProcessPool:
                # The idle child died (e.g. killed by an operator): not this job's fault.
                log.warning("analysis process of slot %d was gone; starting a new one", index)
                self._replace(index, kill=True)
                slot = self._slots[index]
                future = self._loop.run_in_executor(
                    slot.executor, _analyze, job_id, str(path), options
                )
            try:
                try:
                    return await asyncio.wait_for(future, timeout=timeout_s)
                finally:
                    if (
                        future.done()
                        and not future.cancelled()
                        and not isinstance(future.exception(), BrokenProcessPool)
                    ):
                        # The call ended in the child: let its last progress messages (they
                        # travel on another pipe than the result) reach the handler first.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(end.wait(), timeout=1.0)
            except TimeoutError as exc:
                replace = kill = True
                raise AnalysisTimeout(
                    f"the analysis took longer than {timeout_s:g} seconds and was stopped"
                ) from exc
            except BrokenProcessPool as exc:
                replace = True
                raise AnalysisCrashed(
                    "the analysis process stopped unexpectedly (killed, out of memory, or a crash)"
                ) from exc
            except asyncio.CancelledError:
                replace = kill = True
                raise
        finally:
            self._ends.pop(job_id, None)
            if replace:
                log.warning("replacing analysis process of slot %d", index)
                self._replace(index, kill=kill)
            self._free.put_nowait(index)
