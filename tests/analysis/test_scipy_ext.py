"""SciPy's FFT loaded without SciPy's packages gives SciPy's numbers, and loads fast."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy
import scipy.fft

from soundy.analysis._scipy_ext import rfft


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rfft_matches_scipy(dtype: type) -> None:
    x = np.random.default_rng(7).standard_normal((5, 4096)).astype(dtype)
    ours, ref = rfft(x, axis=1), scipy.fft.rfft(x, axis=1)
    assert ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(rfft(x.T, axis=0), scipy.fft.rfft(x.T, axis=0))


def test_does_not_import_scipy_fft() -> None:
    code = (
        "import sys, numpy as np; from soundy.analysis._scipy_ext import rfft; rfft(np.ones(8));"
        "print('scipy.signal' in sys.modules, 'scipy.fft' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"


def test_the_private_fast_path_is_taken_on_the_scipy_we_install() -> None:
    """``_scipy_ext`` reaches into SciPy's private ``scipy.fft._pocketfft.pypocketfft`` (its
    ``r2c`` signature included). If a SciPy release moves or changes it, the analysis still gives
    the same numbers through ``scipy.fft.rfft`` but starts ~0.15 s slower: this test fails loudly
    so the change is seen, not absorbed."""
    code = (
        "import numpy as np; from soundy.analysis import _scipy_ext as e;"
        "x = np.ones((2, 8), dtype=np.float32); out = np.empty((2, 5), dtype=np.complex64);"
        "r = e.rfft(x, axis=1, out=out); print(e._r2c.__name__, r is out)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["r2c", "True"], (
        "SciPy's private pocketfft r2c is gone or changed: update soundy/analysis/_scipy_ext.py "
        f"for scipy {scipy.__version__} ({done.stdout.strip()})"
    )
