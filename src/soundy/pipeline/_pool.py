"""The analysis process pool: CPU work runs in child processes so the worker's event loop keeps
renewing BullMQ locks and answering Redis while a track is measured.

One *slot* per concurrent job, each a ``ProcessPoolExecutor`` with one ``spawn``-started child
(no fork: the parent holds sockets and threads). One executor per slot means a crash, a timeout
or a kill touches only that slot's job: the slot's executor is thrown away and a new one made,
while the other slots go on. Children:

* pin BLAS/OpenMP threads to 1 (``OMP_NUM_THREADS`` etc. set before numpy is imported), so N
  slots use N cores rather than N x cores threads;
* run at a lower CPU priority (``nice``, ``SOUNDY_ANALYSIS_NICE``) when the pool is given one:
  on a machine that also runs the API, requests are answered first and the analyses take the
  CPU that is left; on an otherwise idle machine they run as fast as before;
* run under an address-space limit (``RLIMIT_AS``, ``SOUNDY_ANALYSIS_MEMORY_LIMIT_BYTES``) when
  the pool is given one: an analysis that needs more gets ``MemoryError``, reported as
  :class:`AnalysisCrashed` with the limit in its message, instead of taking the machine's memory;
* ignore SIGINT and SIGTERM (the worker decides when they stop; Ctrl-C in a terminal reaches
  the whole process group) and die with their parent (Linux ``PR_SET_PDEATHSIG``), so a
  SIGKILLed worker leaves no analysis running;
* send progress ``(stage, fraction)`` through their slot's pipe, which a thread in the parent
  reads and hands, on the event loop, to the ``on_progress`` of the call the slot is running.
  Every call ends with an end marker, and :meth:`AnalysisPool.run` returns only after its
  ``on_progress`` has seen all of the call's progress. A slot whose end marker did not arrive is
  replaced, so a late message can never reach the next call.

What a child runs is :func:`measure` unless the pool is given another ``analyze`` function (a
module-level one, so that it pickles): the tests pass one that first waits, to act while a job
runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soundy.errors import AnalysisCrashed, AnalysisTimeout
from soundy.report import AnalysisOptions, ProgressCallback
from soundy.result import Measurements

__all__ = ["Analysis", "AnalysisPool", "measure"]

log = logging.getLogger("soundy.pipeline.pool")

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
# Progress "stage" that marks the end of one call's messages.
_END = "__end__"
# How long run() waits for the end marker once the child returned (s). The child writes it
# before its result, so it normally arrives at once; a slot that misses it is replaced.
_END_WAIT_S = 5.0
# prctl(2) option: signal to receive when the parent dies.
_PR_SET_PDEATHSIG = 1
# mallopt(3) options and the analysis process's values (bytes). glibc's defaults hand a freed
# large block back to the kernel (munmap, heap trimming), so each analysis faulted its ~20 MB
# of buffers in afresh (a 10 s stereo clip: about 5,000 page faults, 30 % of its CPU time).
# Fixed values keep up to _KEEP_FREED_BYTES of freed memory for the next analysis; a block
# over _MMAP_THRESHOLD_BYTES (long files' series) is still mapped and unmapped on its own.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_FREED_BYTES = 64 << 20
_MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's largest (HEAP_MAX_SIZE / 2 on 64-bit)


# ---------------------------------------------------------------------------------------------
# In the child process.
_child_progress: Any = None


_child_memory_limit_bytes: int | None = None


def _init_child(progress_pipe: Any, memory_limit_bytes: int | None = None, nice: int = 0) -> None:
    """Runs first in each child, before anything imports numpy."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = "1"
    if nice > 0:
        os.nice(nice)
    global _child_memory_limit_bytes
    if memory_limit_bytes is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            memory_limit_bytes = min(memory_limit_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, hard))
        _child_memory_limit_bytes = memory_limit_bytes
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        with contextlib.suppress(AttributeError):  # not glibc: its own defaults
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
            libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_FREED_BYTES)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)
    global _child_progress
    _child_progress = progress_pipe


# The warm-up's analysis: this many seconds of stereo 44.1 kHz 16-bit noise (the commonest
# input). It grows the process's heap to an analysis' working size (then kept: see
# _KEEP_FREED_BYTES) and makes the once-per-process set-ups, which the first job of a fresh
# process paid: about 6,000 page faults, twice a warm analysis' CPU for a 10 s clip.
_WARM_UP_CLIP_S = 10
_WARM_UP_RATE_HZ = 44100


def _warm_up() -> int:
    """Import the analysis stack and run one analysis now, so the first job does not pay."""
    # The analysis stack, numpy and scipy: in the child, after _init_child pinned the threads.
    import soundy.analysis.measure  # noqa: F401

    with contextlib.suppress(Exception):
        # Importing is this function's work: in the child, after _init_child pinned the threads.
        import numpy  # noqa: F401
        import scipy.signal  # noqa: F401
    with contextlib.suppress(Exception):  # best effort: a job analyses the same way anyway
        _warm_up_analysis()
    return os.getpid()


def _warm_up_analysis() -> None:
    # numpy and soundfile (the decoders' own library): in the child, after _init_child pinned
    # the threads.
    import numpy as np
    import soundfile

    noise = np.random.default_rng(0).standard_normal((_WARM_UP_CLIP_S * _WARM_UP_RATE_HZ, 2))
    with tempfile.TemporaryDirectory(prefix="soundy-warm-up-") as tmp:
        path = Path(tmp) / "warm-up.wav"
        soundfile.write(path, np.clip(noise * 0.1, -1.0, 1.0), _WARM_UP_RATE_HZ, "PCM_16")
        measure(path, AnalysisOptions(), lambda stage, fraction: None)


def measure(path: Path, options: AnalysisOptions, progress: ProgressCallback) -> Measurements:
    """Runs in the child: ``soundy.analysis.measure_file`` within the options' limits.

    Only the measurements: a job's comparison is computed from them when it is read
    (:mod:`soundy.jobs.results`), so it follows the targets of the day.
    """
    # Here, not at the top: numpy must load after _init_child pinned the BLAS threads.
    from soundy.analysis import measure_file

    return measure_file(
        path,
        max_duration_s=options.max_duration_s,
        max_samples=options.max_samples,
        max_channels=options.max_channels,
        max_sample_rate_hz=options.max_sample_rate_hz,
        display_name=options.display_name,
        progress=progress,
        codec_check=options.codec_check,
    )


# What a child runs for one file: analyze(path, options, progress) -> the measurements.
Analysis = Callable[[Path, AnalysisOptions, ProgressCallback], Measurements]


def _analyze(analyze: Analysis, path: str, options: AnalysisOptions) -> Measurements:
    """Runs in the child: ``analyze`` with its progress sent to the parent, then the end."""

    def progress(stage: str, fraction: float) -> None:
        with contextlib.suppress(Exception):
            _child_progress.send((stage, float(fraction)))

    try:
        return analyze(Path(path), options, progress)
    except MemoryError as exc:
        raise AnalysisCrashed(
            "the analysis needed more memory than one analysis may use "
            f"({_child_memory_limit_bytes or 0:,} bytes, SOUNDY_ANALYSIS_MEMORY_LIMIT_BYTES)"
        ) from exc
    finally:
        # Written after every progress message of this call (the pipe keeps order), so the
        # parent knows when it has seen them all.
        progress(_END, 1.0)


# ---------------------------------------------------------------------------------------------
# In the parent.
@dataclass
class _Slot:
    index: int
    executor: ProcessPoolExecutor
    progress_pipe: Any  # the reading end; the slot's child holds the writing end
    stop_reader: threading.Event = field(default_factory=threading.Event)
    reader: threading.Thread | None = None
    # The running call's progress callback, and the event its end marker sets (event loop).
    on_progress: ProgressCallback | None = None
    ended: asyncio.Event | None = None

    def pids(self) -> list[int]:
        processes = getattr(self.executor, "_processes", None) or {}
        return [pid for pid in processes if pid]

    def deliver(self, stage: str, fraction: float) -> None:
        """One message from the child, on the event loop: to the running call, or its end."""
        if stage == _END:
            if self.ended is not None:
                self.ended.set()
        elif self.on_progress is not None:
            self.on_progress(stage, fraction)


class AnalysisPool:
    """``slots`` analysis processes; :meth:`run` analyses one file in a free one with
    ``analyze`` (default :func:`measure`), each process limited to ``memory_limit_bytes`` of
    address space (None: no limit) and running ``nice`` steps below its parent's priority
    (0: the same)."""

    def __init__(
        self,
        slots: int,
        *,
        analyze: Analysis = measure,
        memory_limit_bytes: int | None = None,
        nice: int = 0,
    ) -> None:
        if slots < 1:
            raise ValueError("an analysis pool needs at least one slot")
        self._analyze = analyze
        self._memory_limit_bytes = memory_limit_bytes
        self._nice = nice
        self._context = multiprocessing.get_context("spawn")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: list[_Slot] = []
        self._free: asyncio.Queue[int] | None = None
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
            initargs=(writer_end, self._memory_limit_bytes, self._nice),
        )
        slot = _Slot(index, executor, reader_end)
        slot.reader = threading.Thread(
            target=self._read_progress,
            args=(slot,),
            name=f"soundy-progress-{index}",
            daemon=True,
        )
        slot.reader.start()
        return slot

    def _read_progress(self, slot: _Slot) -> None:
        """The slot's reader thread: hands each message of its pipe to the event loop."""
        while not slot.stop_reader.is_set():
            try:
                if not slot.progress_pipe.poll(0.25):
                    continue
                stage, fraction = slot.progress_pipe.recv()
            except (EOFError, OSError, ValueError, TypeError):
                return
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(slot.deliver, stage, fraction)

    def _retire(self, slot: _Slot, *, kill: bool) -> None:
        """Throw a slot's executor away (killing its child when ``kill``)."""
        if kill:
            for pid in slot.pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        slot.executor.shutdown(wait=False, cancel_futures=True)
        slot.stop_reader.set()
        slot.on_progress = slot.ended = None

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
            if slot.reader is not None:
                await loop.run_in_executor(None, slot.reader.join, 1.0)
            with contextlib.suppress(Exception):
                slot.progress_pipe.close()

    def pids(self) -> list[int]:
        """Process ids of the live children (for logs and tests)."""
        return [pid for slot in self._slots for pid in slot.pids()]

    # -- work ------------------------------------------------------------------------------
    async def run(
        self,
        path: Path,
        options: AnalysisOptions,
        *,
        on_progress: ProgressCallback | None = None,
        timeout_s: float,
    ) -> Measurements:
        """Measure ``path`` in a free slot; returns ``measure_file``'s measurements.

        ``on_progress(stage, fraction 0..1)`` is called on the event loop for each progress
        message of this call; all of them have been delivered when ``run`` returns or raises.
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
        try:
            try:
                future = self._submit(slot, path, options)
            except BrokenProcessPool:
                # The idle child died (e.g. killed by an operator): not this job's fault.
                log.warning("analysis process of slot %d was gone; starting a new one", index)
                self._replace(index, kill=True)
                slot = self._slots[index]
                future = self._submit(slot, path, options)
            # No await since the submit: the loop has delivered none of the call's messages yet.
            ended = slot.ended = asyncio.Event()
            slot.on_progress = on_progress
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
                        # travel on another pipe than the result) reach on_progress first.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(ended.wait(), timeout=_END_WAIT_S)
                        if not ended.is_set():
                            # A late message must not reach the next call: new pipe, new child.
                            log.warning("slot %d: the end of the progress was lost", index)
                            replace = True
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
            slot.on_progress = slot.ended = None
            if replace:
                log.warning("replacing analysis process of slot %d", index)
                self._replace(index, kill=kill)
            self._free.put_nowait(index)

    def _submit(self, slot: _Slot, path: Path, options: AnalysisOptions) -> asyncio.Future[Any]:
        assert self._loop is not None
        return self._loop.run_in_executor(
            slot.executor, _analyze, self._analyze, str(path), options
        )
