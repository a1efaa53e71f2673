"""``lfilter`` without importing ``scipy.signal`` (which costs ~0.6 s: it pulls in scipy.stats,
scipy.interpolate and the array-API machinery).

The IIR filter itself is scipy's compiled ``scipy.signal._sigtools._linear_filter`` (direct
form II transposed), loaded straight from its extension file; this module only does the dtype
handling that ``scipy.signal.lfilter`` does before calling it. When that is not possible (another
SciPy layout), it falls back to ``scipy.signal.lfilter`` itself: same numbers, slower start.
``tests/analysis/test_lfilter.py`` checks it against ``scipy.signal.lfilter``.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["lfilter"]

_MODULE = "scipy.signal._sigtools"
_linear_filter: Callable[..., Any] | None = None


def _load_linear_filter() -> Callable[..., Any] | None:
    """scipy's compiled ``_linear_filter``, loaded without the ``scipy.signal`` package."""
    module = sys.modules.get(_MODULE)
    if module is None:
        try:
            import scipy

            folder = Path(scipy.__file__).parent / "signal"
            path = next(
                folder / f"_sigtools{suffix}"
                for suffix in importlib.machinery.EXTENSION_SUFFIXES
                if (folder / f"_sigtools{suffix}").exists()
            )
            loader = importlib.machinery.ExtensionFileLoader(_MODULE, str(path))
            spec = importlib.util.spec_from_file_location(_MODULE, path, loader=loader)
            if spec is None:
                return None
            module = importlib.util.module_from_spec(spec)
            loader.exec_module(module)
        except (ImportError, StopIteration, OSError):
            return None
        # Registered so that a later ``import scipy.signal`` reuses this very module.
        sys.modules[_MODULE] = module
    return getattr(module, "_linear_filter", None)


def lfilter(
    b: np.ndarray, a: np.ndarray, x: np.ndarray, axis: int = -1, zi: np.ndarray | None = None
) -> Any:
    """``scipy.signal.lfilter(b, a, x, axis, zi)`` for float input (IIR or FIR, 1-D b and a).

    Returns ``y`` (same shape as ``x``), or ``(y, zf)`` when ``zi`` is given (shape of ``x``
    with ``max(len(a), len(b)) - 1`` along ``axis``). Computed in the common float type of the
    arguments (float32 only if all are float32).
    """
    global _linear_filter
    if _linear_filter is None:
        _linear_filter = _load_linear_filter()
        if _linear_filter is None:
            from scipy.signal import lfilter as scipy_lfilter

            _linear_filter = scipy_lfilter
            return scipy_lfilter(b, a, x, axis=axis, zi=zi)
    if getattr(_linear_filter, "__name__", "") == "lfilter":
        return _linear_filter(b, a, x, axis=axis, zi=zi)
    arrays = [np.asarray(b), np.asarray(a), np.asarray(x)]
    if zi is not None:
        arrays.append(np.asarray(zi))
    dtype = np.result_type(*arrays, np.float32)
    if dtype.char not in "fdg":
        raise TypeError(f"lfilter needs real float data, got {dtype}")
    b_arr = np.array(arrays[0], dtype=dtype, ndmin=1)
    a_arr = np.array(arrays[1], dtype=dtype, ndmin=1)
    if b_arr.ndim != 1 or a_arr.ndim != 1 or a_arr[0] == 0:
        raise ValueError("b and a must be 1-D and a[0] must not be zero")
    x_arr = np.asarray(arrays[2], dtype=dtype)
    if zi is None:
        return _linear_filter(b_arr, a_arr, x_arr, axis)
    zi_arr = np.asarray(arrays[3], dtype=dtype)
    expected = list(x_arr.shape)
    expected[axis] = max(a_arr.size, b_arr.size) - 1
    if zi_arr.shape != tuple(expected):
        raise ValueError(f"zi must have shape {tuple(expected)}, got {zi_arr.shape}")
    return _linear_filter(b_arr, a_arr, x_arr, axis, zi_arr)
