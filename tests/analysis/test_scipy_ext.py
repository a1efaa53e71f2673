"""SciPy's FFT loaded without SciPy's packages gives SciPy's numbers, and loads fast."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
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
