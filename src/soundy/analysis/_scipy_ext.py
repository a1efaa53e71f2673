"""SciPy's compiled kernels without SciPy's package imports: ``lfilter`` and ``rfft``.

``import scipy.signal`` costs ~0.6 s (it pulls in scipy.stats, scipy.interpolate and the
array-API machinery) and ``import scipy.fft`` ~0.15 s, against a whole analysis of a 4-minute
track of about half a second. The kernels themselves are plain extension modules:

* ``lfilter``: ``scipy.signal._sigtools._linear_filter`` (direct form II transposed), with the
  dtype handling ``scipy.signal.lfilter`` does before calling it;
* ``rfft``: ``scipy.fft._pocketfft.pypocketfft.r2c`` (float32 stays float32, as
  ``scipy.fft.rfft``).

Each is loaded straight from its extension file and registered under its own module name, so a
later ``import scipy.signal`` / ``scipy.fft`` reuses it. When that is not possible (another SciPy
layout) the public SciPy function is used: same numbers, slower start.
``tests/analysis/test_scipy_ext.py`` checks both against SciPy's public functions.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["lfilter", "rfft"]

_linear_filter: Callable[..., Any] | None = None
_r2c: Callable[..., Any] | None = None


def _load_extension(module_name: str) -> Any:
    """Load the extension module ``scipy.x.y`` from its file, without its packages; or None."""
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    try:
        import scipy

        parts = module_name.split(".")
        folder = Path(scipy.__file__).parent.joinpath(*parts[1:-1])
        path = next(
            folder / f"{parts[-1]}{suffix}"
            for suffix in importlib.machinery.EXTENSION_SUFFIXES
            if (folder / f"{parts[-1]}{suffix}").exists()
        )
        loader = importlib.machinery.ExtensionFileLoader(module_name, str(path))
        spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
        if spec is None:
            return None
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
    except (ImportError, StopIteration, OSError):
        return None
    # Registered so that a later ``import scipy.signal`` / ``scipy.fft`` reuses this very module.
    sys.modules[module_name] = module
    return module


def _load_linear_filter() -> Callable[..., Any] | None:
    return getattr(_load_extension("scipy.signal._sigtools"), "_linear_filter", None)


def rfft(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``scipy.fft.rfft(x, axis=axis)`` for real float input (float32 in, complex64 out)."""
    global _r2c
    if _r2c is None:
        _r2c = getattr(_load_extension("scipy.fft._pocketfft.pypocketfft"), "r2c", None)
        if _r2c is None:
            import scipy.fft

            _r2c = scipy.fft.rfft
            return scipy.fft.rfft(x, axis=axis)  # type: ignore[no-any-return]
    if _r2c.__name__ == "rfft":
        return _r2c(x, axis=axis)  # type: ignore[no-any-return]
    data = np.asarray(x)
    if data.dtype.kind != "f" or data.dtype.itemsize > 8:
        data = data.astype(np.float64)
    # r2c(a, axes, forward, inorm (0 = no scaling, as rfft's default "backward"), out, nthreads)
    return _r2c(data, (axis,), True, 0, None, 1)  # type: ignore[no-any-return]


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
