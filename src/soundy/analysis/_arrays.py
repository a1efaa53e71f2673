"""Small array helpers shared by the meters."""

from __future__ import annotations

import numpy as np

__all__ = ["GrowableArray"]


class GrowableArray:
    """An append-only float64 array of shape (n, *tail) with amortised O(1) appends."""

    def __init__(self, tail: tuple[int, ...] = ()) -> None:
        self._data = np.zeros((1024, *tail))
        self._n = 0

    def extend(self, rows: np.ndarray) -> None:
        """Append ``rows`` (shape (m, *tail))."""
        m = rows.shape[0]
        if self._n + m > self._data.shape[0]:
            size = max(2 * self._data.shape[0], self._n + m)
            grown = np.zeros((size, *self._data.shape[1:]))
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : self._n + m] = rows
        self._n += m

    def view(self) -> np.ndarray:
        """The rows so far (a view: copy it to keep it past the next ``extend``)."""
        return self._data[: self._n]
