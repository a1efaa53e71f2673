"""SciPy's kernels loaded without SciPy's packages give SciPy's numbers, and load fast."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.fft
from scipy import signal

from soundy.analysis._kweighting import k_weighting_ba
from soundy.analysis._scipy_ext import lfilter, rfft


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1])
def test_matches_scipy_with_and_without_state(dtype: type, axis: int) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3000, 2)).astype(dtype)
    if axis == 1:
        x = np.ascontiguousarray(x.T)
    b, a = k_weighting_ba(44100)
    np.testing.assert_array_equal(lfilter(b, a, x, axis=axis), signal.lfilter(b, a, x, axis=axis))
    zi_shape = (4, 2) if axis == 0 else (2, 4)
    zi = rng.standard_normal(zi_shape)
    ours, ours_zf = lfilter(b, a, x, axis=axis, zi=zi)
    ref, ref_zf = signal.lfilter(b, a, x, axis=axis, zi=zi)
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(ours_zf, ref_zf)
    with pytest.raises(ValueError, match="zi must have shape"):
        lfilter(b, a, x, axis=axis, zi=np.zeros((3, 3)))


def test_chunked_equals_whole() -> None:
    x = np.random.default_rng(6).standard_normal((10_000, 2))
    b, a = k_weighting_ba(48000)
    whole = lfilter(b, a, x, axis=0, zi=np.zeros((4, 2)))[0]
    zi = np.zeros((4, 2))
    parts = []
    for start in range(0, x.shape[0], 777):
        y, zi = lfilter(b, a, x[start : start + 777], axis=0, zi=zi)
        parts.append(y)
    np.testing.assert_allclose(np.concatenate(parts), whole, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rfft_matches_scipy(dtype: type) -> None:
    x = np.random.default_rng(7).standard_normal((5, 4096)).astype(dtype)
    ours, ref = rfft(x, axis=1), scipy.fft.rfft(x, axis=1)
    assert ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(rfft(x.T, axis=0), scipy.fft.rfft(x.T, axis=0))


def test_does_not_import_scipy_signal_or_fft() -> None:
    code = (
        "import sys, numpy as np; from soundy.analysis._scipy_ext import lfilter, rfft;"
        "lfilter(np.ones(2), np.ones(1), np.ones(8)); rfft(np.ones(8));"
        "print('scipy.signal' in sys.modules, 'scipy.fft' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False False"
