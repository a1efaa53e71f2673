"""The C kernels (soundy.analysis._kernels) against plain numpy/scipy on the same input.

The meters' own tests (test_loudness, test_tech334x, test_peaks, test_against_libebur128) are
the measurement contract; these check the kernels' arithmetic and their guards directly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from soundy.analysis._kernels import (
    exp_nonpositive,
    interpolated_peaks,
    kweight_energies,
    limiter_apply,
    limiter_release,
    segment_scan,
    true_peak_max,
)
from soundy.analysis._kweighting import k_weighting_ba
from soundy.analysis.peaks import interpolation_phases


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_kweighting_is_scipy_lfilter_and_sums_are_block_sums(dtype: type, channels: int) -> None:
    rng = np.random.default_rng(channels)
    x = (0.5 * rng.standard_normal((10_007, channels))).astype(dtype)
    b, a = k_weighting_ba(44100)
    ref_y, ref_zf = signal.lfilter(b, a, x.astype(np.float64), axis=0, zi=np.zeros((4, channels)))
    fine = 441
    zi = np.zeros((channels, 4))
    partial = np.zeros(channels)
    partial_frames = 0
    ys, rows = [], []
    for lo, hi in [(0, 100), (100, 100), (100, 5000), (5000, 10_007)]:  # includes an empty call
        y = np.empty((hi - lo, channels))
        out = np.empty(((partial_frames + hi - lo) // fine, channels))
        count, partial_frames = kweight_energies(
            x[lo:hi], b, a, zi, partial, partial_frames, fine, out, y
        )
        assert count == out.shape[0]
        ys.append(y)
        rows.append(out)
    # Bit for bit: same recurrence, same operation order as scipy's direct form II transposed.
    np.testing.assert_array_equal(np.concatenate(ys), ref_y)
    np.testing.assert_array_equal(zi, ref_zf.T)
    whole = 10_007 // fine
    expected = np.square(ref_y[: whole * fine]).reshape(whole, fine, channels).sum(axis=1)
    np.testing.assert_allclose(np.concatenate(rows), expected, rtol=1e-12)
    assert partial_frames == 10_007 % fine
    np.testing.assert_allclose(partial, np.square(ref_y[whole * fine :]).sum(axis=0), rtol=1e-12)


def test_kweighting_refuses_what_would_overrun() -> None:
    b, a = k_weighting_ba(48000)
    x = np.zeros((1000, 2))
    with pytest.raises(ValueError, match="too few rows"):
        kweight_energies(x, b, a, np.zeros((2, 4)), np.zeros(2), 0, 100, np.empty((9, 2)), None)
    with pytest.raises(ValueError):
        kweight_energies(x, b, a, np.zeros((1, 4)), np.zeros(2), 0, 100, np.empty((10, 2)), None)
    with pytest.raises(TypeError):
        kweight_energies(x.astype(np.int16), b, a, np.zeros((2, 4)), np.zeros(2), 0, 100,
                         np.empty((10, 2)), None)  # fmt: skip


def brute_force_segment_peak(
    x: np.ndarray, start: int, seg: int, taps: np.ndarray, limit: int
) -> float:
    """Largest |y| of the branches ``taps`` over intervals start .. start + seg - 1 (< limit)."""
    radius = taps.shape[0] // 2
    best = 0.0
    for i in range(min(seg, limit - start)):
        window = x[start + i - radius + 1 : start + i + radius + 1].astype(np.float64)
        best = max(best, float(np.abs(window @ taps).max()))
    return best


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolated_peaks_equal_the_direct_sums(dtype: type) -> None:
    rng = np.random.default_rng(7)
    store = rng.uniform(-1, 1, (2, 3000)).astype(dtype)
    samples = store[:, 10:2900]  # rows strided (a view), as the peak meter passes them
    taps = np.ascontiguousarray(interpolation_phases(4))
    chan = np.array([0, 1, 1, 0], dtype=np.int64)
    starts = np.array([11, 500, 2000, 2800], dtype=np.int64)
    out = np.empty(4)
    limit = 2830
    interpolated_peaks(samples, chan, starts, 63, taps, limit, out)
    for q in range(4):
        expected = brute_force_segment_peak(samples[chan[q]], starts[q], 63, taps, limit)
        assert out[q] == pytest.approx(expected, rel=1e-13, abs=0.0)


def test_interpolated_peaks_refuses_segments_outside_the_samples() -> None:
    taps = np.ascontiguousarray(interpolation_phases(4))
    samples = np.zeros((1, 200))
    for start in (5, 150):  # needs 11 samples before and 12 after the segment
        with pytest.raises(IndexError):
            interpolated_peaks(
                samples, np.zeros(1, np.int64), np.array([start]), 63, taps, 10**9, np.empty(1)
            )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_segment_scan_maxima_and_non_finite_samples(dtype: type) -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (2, 64 * 10 + 2)).astype(dtype)
    peak, d2 = np.empty((2, 10)), np.empty((2, 10))
    assert segment_scan(x, 10, 64, peak, d2)
    body = x[:, :640].astype(np.float64)
    np.testing.assert_array_equal(peak, np.abs(body).reshape(2, 10, 64).max(axis=2))
    x64 = x.astype(np.float64)
    second = np.abs(x64[:, :-2] - 2.0 * x64[:, 1:-1] + x64[:, 2:])
    np.testing.assert_allclose(d2, second.reshape(2, 10, 64).max(axis=2), rtol=1e-15)
    for bad in (np.nan, np.inf, -np.inf):
        y = x.copy()
        y[1, 77] = bad
        assert not segment_scan(y, 10, 64, peak, None)


def test_power_spectrum_is_numpys_float32_re2_plus_im2() -> None:
    from soundy.analysis._kernels import power_spectrum

    rng = np.random.default_rng(5)
    first = (rng.standard_normal((7, 33)) + 1j * rng.standard_normal((7, 33))).astype(np.complex64)
    second = (rng.standard_normal((7, 33)) + 1j * rng.standard_normal((7, 33))).astype(np.complex64)
    power = np.empty((7, 33), dtype=np.float32)
    power_spectrum(first, power, False)
    expected = first.real * first.real
    expected += first.imag * first.imag
    np.testing.assert_array_equal(power, expected)
    power_spectrum(second, power, True)
    expected += second.real * second.real
    expected += second.imag * second.imag
    np.testing.assert_array_equal(power, expected)
    with pytest.raises(TypeError):
        power_spectrum(first.astype(np.complex128), power, False)
    with pytest.raises(ValueError):
        power_spectrum(first, power[:3], False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stereo_sums_are_per_hop_sums_in_any_split(dtype: type) -> None:
    from soundy.analysis._kernels import kweight_energies_stereo, stereo_sums

    rng = np.random.default_rng(6)
    x = (0.5 * rng.standard_normal((10_007, 3))).astype(dtype)
    b, a = k_weighting_ba(44100)
    y = signal.lfilter(b, a, x.astype(np.float64), axis=0)
    hop = 441
    n = (x.shape[0] // hop) * hop
    left, right = x[:n, 0].astype(np.float64), x[:n, 1].astype(np.float64)
    w_left, w_right = y[:n, 0], y[:n, 1]
    columns = [left, right, left * left, right * right, left * right]
    columns += [w_left * w_left, w_right * w_right, w_left * w_right]
    expected = np.stack([c.reshape(-1, hop).sum(axis=1) for c in columns], axis=1)

    results = []
    for fused in (False, True):
        partial, partial_frames = np.zeros(8), 0
        zi, fine_partial, fine_frames = np.zeros((3, 4)), np.zeros(3), 0
        rows = []
        for lo, hi in [(0, 100), (100, 100), (100, 5000), (5000, 10_007)]:
            out = np.empty(((partial_frames + hi - lo) // hop, 8))
            if fused:
                fines = np.empty(((fine_frames + hi - lo) // 441, 3))
                _, fine_frames, done, partial_frames = kweight_energies_stereo(
                    x[lo:hi], b, a, zi, fine_partial, fine_frames, 441, fines,
                    hop, partial, partial_frames, out,
                )  # fmt: skip
            else:
                done, partial_frames = stereo_sums(
                    x[lo:hi], y[lo:hi], hop, partial, partial_frames, out
                )
            assert done == out.shape[0]
            rows.append(out)
        assert partial_frames == x.shape[0] - n
        got = np.concatenate(rows)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        results.append(got)
    # The fused pass filters exactly as scipy does, so both give the very same sums.
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("width", [2, 3, 4])
def test_pcm_to_float_is_the_integer_scaled_to_full_scale(width: int) -> None:
    """Every byte pattern at the extremes and at random: the signed little-endian integer,
    rounded to float32 (only 32-bit values round), times 2^-(8 width - 1): libsndfile's
    float conversion, which the WAV reader's direct path must match to the bit."""
    from soundy.analysis._kernels import pcm_to_float

    bits = 8 * width
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    rng = np.random.default_rng(11)
    values = np.concatenate(
        [[low, low + 1, -1, 0, 1, high - 1, high], rng.integers(low, high + 1, 10_000)]
    ).astype(np.int64)
    raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in values)
    out = np.empty(values.size, dtype=np.float32)
    pcm_to_float(raw, width, out)
    expected = values.astype(np.float32) * np.float32(2.0 ** -(bits - 1))
    np.testing.assert_array_equal(out, expected)
    assert out[0] == -1.0 and out[3] == 0.0
    assert out[6] < 1.0 or width == 4  # 2^31 - 1 rounds up to 2^31 in float32: exactly 1.0

    with pytest.raises(ValueError):
        pcm_to_float(raw[: width * 5], width, out)  # fewer samples than out holds
    with pytest.raises(ValueError):
        pcm_to_float(raw, 5, out)
    with pytest.raises(TypeError):
        pcm_to_float(raw, width, out.astype(np.float64))


@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize("factor", [1, 3, 4])
def test_mix_decimate_is_means_of_the_channel_mean_in_any_split(channels: int, factor: int) -> None:
    """The onset envelope's input: float32 channel mean, then float32 means of ``factor``
    frames summed in order, the same whatever the blocks (groups straddle them)."""
    from soundy.analysis._kernels import mix_decimate

    rng = np.random.default_rng(channels * 10 + factor)
    frames = rng.standard_normal((1001, channels)).astype(np.float32)
    weight = np.float32(1.0 / channels)
    mono = frames[:, 0] * weight if channels > 1 else frames[:, 0].copy()
    for c in range(1, channels):
        mono = mono + frames[:, c] * weight
    groups = mono.size // factor
    expected = mono[0 : groups * factor : factor].copy()
    for j in range(1, factor):
        expected = expected + mono[j : groups * factor : factor]
    expected = expected * np.float32(1.0 / factor)

    for cuts in ([], [1, 2, 500], [7, 8, 9, 10, 999]):
        carry, carry_frames, pieces = np.zeros(1, np.float32), 0, []
        for block in np.split(frames, cuts):
            out = np.empty((carry_frames + block.shape[0]) // factor, np.float32)
            written, carry_frames = mix_decimate(block, factor, carry, carry_frames, out)
            assert written == out.size
            pieces.append(out)
        np.testing.assert_array_equal(np.concatenate(pieces), expected)
        assert carry_frames == mono.size % factor

    with pytest.raises(ValueError):
        mix_decimate(frames, factor, np.zeros(1, np.float32), factor, np.empty(2000, np.float32))
    with pytest.raises(ValueError):
        mix_decimate(frames, factor, np.zeros(1, np.float32), 0, np.empty(1, np.float32))
    with pytest.raises(TypeError):
        mix_decimate(frames.astype(np.float64), factor, np.zeros(1, np.float32), 0, out)


def test_limiter_kernels_refuse_what_would_overrun() -> None:
    frames = np.zeros((100, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="elements"):
        limiter_release(frames, 1.0, 0.9, -1.0, 0.99, np.zeros(1), np.empty(199), np.empty(100))
    with pytest.raises(ValueError, match="elements"):
        limiter_release(frames, 1.0, 0.9, -1.0, 0.99, np.zeros(1), np.empty(200), np.empty(99))
    hist = np.zeros(10, dtype=np.int64)
    with pytest.raises(ValueError, match="ready"):
        limiter_apply(np.zeros((100, 2)), np.zeros(100), 101, 0.9, -0.1, 0.1, 100.0, hist)
    with pytest.raises(ValueError, match="shape"):
        limiter_apply(np.zeros((99, 2)), np.zeros(100), 50, 0.9, -0.1, 0.1, 100.0, hist)
    with pytest.raises(TypeError, match="int64"):
        limiter_apply(np.zeros((100, 2)), np.zeros(100), 50, 0.9, -0.1, 0.1, 100.0, np.zeros(9))


def test_limiter_apply_counts_reductions_into_rounded_bins() -> None:
    rel = np.zeros(6)
    rel[1], rel[4] = 0.5, 70.0  # 70 dB: past the last bin, which takes it
    gained = np.ones((6, 1))
    hist = np.zeros(61, dtype=np.int64)  # 0.0 .. 60.0 dB in 1 dB bins
    active, largest = limiter_apply(gained, rel, 5, 0.5, -math.log(10) / 20, 0.1, 1.0, hist)
    # Backwards from the last frame: 0, 70, 35, 17.5, then rel[1] = 0.5 < 8.75, then 4.375.
    red = np.array([4.375, 8.75, 17.5, 35.0, 70.0])
    np.testing.assert_allclose(gained[:5, 0], np.exp(red * (-math.log(10) / 20)), rtol=1e-15)
    assert gained[5, 0] == 1.0  # not ready: left alone
    assert (active, largest) == (5, 70.0)
    assert {int(b): int(hist[b]) for b in np.flatnonzero(hist)} == {4: 1, 9: 1, 18: 1, 35: 1, 60: 1}


def test_true_peak_max_needs_the_taps_context_around_its_intervals() -> None:
    taps = np.ascontiguousarray(interpolation_phases(4))
    frames = np.zeros((100, 2))
    with pytest.raises(ValueError, match="R - 1 frames before"):
        true_peak_max(frames, 10, 50, 64, taps, 1.0, 0.4, 1.0, np.zeros(1))
    with pytest.raises(ValueError, match="R - 1 frames before"):
        true_peak_max(frames, 11, 89, 64, taps, 1.0, 0.4, 1.0, np.zeros(1))
    best = np.zeros(1)
    assert true_peak_max(frames, 11, 88, 64, taps, 1.0, 0.4, 1.0, best)
    assert best[0] == 0.0


def test_the_limiters_exp_is_within_one_unit_in_the_last_place_of_libms() -> None:
    rng = np.random.default_rng(5)
    # Reductions of 0 to 60 dB as exponents (the limiter's range), the ends of the fast range,
    # and beyond it (computed by libm for all).
    y = np.concatenate([-rng.uniform(0, 6.91, 100_000), [0.0, -0.0, -1e-300, -700.0]])
    got = y.copy()
    exp_nonpositive(got)
    expected = np.array([math.exp(v) for v in y])
    np.testing.assert_array_less(np.abs(got - expected), np.spacing(expected) * 1.0001)
    assert got[-4] == 1.0 and got[-3] == 1.0
    beyond = np.array([-745.0, -800.0, 0.5])
    exp_nonpositive(beyond)
    assert beyond.tolist() == [math.exp(-745.0), 0.0, math.exp(0.5)]
