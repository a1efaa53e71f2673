"""Two lanes of per-block work: this thread's, and a helper thread's that may lag behind.

The meters' inner loops (numpy, scipy's FFTs, the C kernels) release the GIL, so two lanes of
about equal cost take about half the wall time on two cores. Each feed always runs in the same
lane, so every meter sees its blocks in order and one thread at a time. On a one-core machine
both lanes run in this thread.

The helper thread is started once per calling thread and process and kept (idle between
analyses): starting and joining a thread for every ``Lanes`` cost ~0.2 ms CPU, twice per
analysis (the meters, Spotify Loud's second pass), what a 1 s clip notices.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np

__all__ = ["Feed", "Lanes"]

Feed = Callable[[np.ndarray], None]

_helpers = threading.local()


def _helper() -> ThreadPoolExecutor:
    """This thread's helper (one worker thread, FIFO), made on first use in this process."""
    pid = os.getpid()
    helper: ThreadPoolExecutor | None = getattr(_helpers, "executor", None)
    if helper is None or getattr(_helpers, "pid", None) != pid:  # none yet, or forked since
        helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soundy-lane")
        _helpers.executor, _helpers.pid = helper, pid
    return helper


class Lanes:
    """Run ``first`` on each block in this thread and ``second`` in a helper thread.

    The helper lags at most ``lag`` blocks behind (that many blocks stay in memory);
    :meth:`finish` waits for it and re-raises its errors (after an error, what is still queued
    is dropped). The helper thread is this calling thread's (:func:`_helper`), kept for the
    next ``Lanes``.
    """

    def __init__(self, first: Sequence[Feed], second: Sequence[Feed], *, lag: int) -> None:
        self._first, self._second = list(first), list(second)
        self._lag = lag
        self._helper: ThreadPoolExecutor | None = None
        if (os.cpu_count() or 1) >= 2 and self._second:
            self._helper = _helper()
        else:
            self._first += self._second
            self._second = []
        self._pending: deque[Future[None]] = deque()

    @staticmethod
    def _run(feeds: list[Feed], block: np.ndarray) -> None:
        for feed in feeds:
            feed(block)

    def add(self, block: np.ndarray) -> None:
        """Feed ``block`` to both lanes (the helper's share is queued, this thread's run)."""
        if self._helper is not None:
            self._pending.append(self._helper.submit(self._run, self._second, block))
        self._run(self._first, block)
        while len(self._pending) > self._lag:
            self._pending.popleft().result()

    def finish(self) -> None:
        """Wait for the helper lane (re-raising its errors); after an error, drop its queue."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            # Only after an error: what is queued is dropped, what runs is waited for, so no
            # feed of this Lanes runs after finish returns.
            left = list(self._pending)
            self._pending.clear()
            for future in left:
                future.cancel()
            wait(left)
