"""SciPy's compiled FFT without SciPy's package imports: ``rfft``.

``import scipy.fft`` costs ~0.15 s (it pulls in scipy.special and the array-API machinery;
``scipy.signal`` would be ~0.6 s), against a whole analysis of a 4-minute track of about a third
of a second. The kernel itself is a plain extension module, ``scipy.fft._pocketfft.pypocketfft``:
``r2c`` is what ``scipy.fft.rfft`` calls (float32 stays float32). It is loaded straight from its
extension file and registered under its own module name, so a later ``import scipy.fft`` reuses
it. When that is not possible (another SciPy layout) ``scipy.fft.rfft`` itself is used: same
numbers, slower start. ``tests/analysis/test_scipy_ext.py`` checks it against ``scipy.fft``.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["rfft"]

_r2c: Callable[..., Any] | None = None


def _load_extension(module_name: str) -> Any:
    """Load the extension module ``scipy.x.y`` from its file, without its packages; or None."""
    module = sys.modules.get(module_name)
    if module is not None:
        return module
    try:
        # Where SciPy is, without running its __init__ (~10 ms of imports).
        spec = importlib.util.find_spec("scipy")
        if spec is None or not spec.submodule_search_locations:
            return None
        parts = module_name.split(".")
        folder = Path(spec.submodule_search_locations[0]).joinpath(*parts[1:-1])
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


def rfft(x: np.ndarray, axis: int = -1, out: np.ndarray | None = None) -> np.ndarray:
    """``scipy.fft.rfft(x, axis=axis)`` for real float input (float32 in, complex64 out).

    ``out``: an array of the result's shape and complex type to write into (reused buffers
    spare a fresh allocation, and its page faults, per call); the result is then ``out``,
    except on the slow path (``scipy.fft.rfft``), which returns a new array.
    """
    global _r2c
    if _r2c is None:
        _r2c = getattr(_load_extension("scipy.fft._pocketfft.pypocketfft"), "r2c", None)
        if _r2c is None:
            import scipy.fft  # the slow path only: ~0.15 s of start-up (module docstring)

            _r2c = scipy.fft.rfft
            return scipy.fft.rfft(x, axis=axis)  # type: ignore[no-any-return]
    if _r2c.__name__ == "rfft":
        return _r2c(x, axis=axis)  # type: ignore[no-any-return]
    data = np.asarray(x)
    if data.dtype.kind != "f" or data.dtype.itemsize > 8:
        data = data.astype(np.float64)
    # r2c(a, axes, forward, inorm (0 = no scaling, as rfft's default "backward"), out, nthreads)
    return _r2c(data, (axis,), True, 0, out, 1)  # type: ignore[no-any-return]
