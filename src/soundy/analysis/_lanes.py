"""Two lanes of per-block work: this thread's, and a helper thread's that may lag behind.

The meters' inner loops (numpy, scipy's FFTs, the C kernels) release the GIL, so two lanes of
about equal cost take about half the wall time on two cores. Each feed always runs in the same
lane, so every meter sees its blocks in order and one thread at a time. On a one-core machine
both lanes run in this thread.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

__all__ = ["Feed", "Lanes"]

Feed = Callable[[np.ndarray], None]


class Lanes:
    """Run ``first`` on each block in this thread and ``second`` in a helper thread.

    The helper lags at most ``lag`` blocks behind (that many blocks stay in memory);
    :meth:`finish` waits for it, re-raises its errors and stops it.
    """

    def __init__(
        self, first: Sequence[Feed], second: Sequence[Feed], *, lag: int, name: str
    ) -> None:
        self._first, self._second = list(first), list(second)
        self._lag = lag
        self._helper: ThreadPoolExecutor | None = None
        if (os.cpu_count() or 1) >= 2 and self._second:
            self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
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
        """Wait for the helper lane (re-raising its errors) and stop it."""
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            if self._helper is not None:
                self._helper.shutdown(wait=True, cancel_futures=True)
