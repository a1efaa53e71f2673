"""PeakMeter: the bounded shortcut equals brute-force oversampling; peaks facts; PSR."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import signals
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

from soundy.analysis.loudness import LoudnessMeter
from soundy.analysis.peaks import (
    INTERPOLATION_RADIUS,
    PeakMeter,
    TruePeakMax,
    interpolation_phases,
    oversampling_factor,
    psr_max_db,
)
from soundy.errors import InvalidAudio


def brute_force_hops(x: np.ndarray, fs: int) -> np.ndarray:
    """Every interpolated value of every interval, reduced per 100 ms hop: (hops, channels).

    Zeros before the start and after the end; interval n lies between x[n] and x[n + 1].
    """
    factor = oversampling_factor(fs)
    radius = INTERPOLATION_RADIUS
    hop = (fs + 5) // 10
    n = x.shape[0]
    hops = -(-n // hop)
    out = np.zeros((hops, x.shape[1]))
    for c in range(x.shape[1]):
        values = np.abs(x[:, c])
        if factor > 1:
            padded = np.concatenate([np.zeros(radius - 1), x[:, c], np.zeros(radius)])
            windows = sliding_window_view(padded, 2 * radius)[:n]  # window n: x[n-R+1..n+R]
            values = np.maximum(values, np.abs(windows @ interpolation_phases(factor)).max(1))
        padded_values = np.zeros(hops * hop)
        padded_values[:n] = values
        out[:, c] = padded_values.reshape(hops, hop).max(axis=1)
    return out


def feed(meter: PeakMeter, x: np.ndarray, rng: np.random.Generator | None = None) -> None:
    if rng is None:
        meter.add_frames(x)
        return
    i = 0
    while i < x.shape[0]:
        k = int(rng.choice([0, 1, 3, 64, 500, 4410, 4800, 20000, 100000]))
        meter.add_frames(x[i : i + k])
        i += k


def awkward_signals(fs: int, rng: np.random.Generator) -> list[np.ndarray]:
    n = int(rng.integers(1, 6 * fs))
    white = rng.standard_normal((n, 2)) * 0.3
    b, a = signal.butter(4, 0.1)
    bass = signal.lfilter(b, a, rng.standard_normal((n, 2)), axis=0)
    bass /= np.abs(bass).max()
    master = np.clip(white * 4, -0.99, 0.99)  # brick-wall "loud master": many near-full samples
    sparse = np.zeros((n, 2))
    sparse[rng.integers(0, n, 5), rng.integers(0, 2, 5)] = rng.uniform(-1, 1, 5)
    square = np.sign(np.sin(2 * np.pi * 3000 * np.arange(n) / fs))[:, None] * [0.5, -0.25]
    return [white, bass, master, sparse, square]


def window_maxima(hop_values: np.ndarray, width: int = 30) -> np.ndarray:
    """Maximum of every run of ``width`` consecutive hops (all of them if fewer)."""
    if hop_values.size <= width:
        return hop_values.max(keepdims=True)
    return sliding_window_view(hop_values, width).max(axis=1)


@pytest.mark.parametrize(("fs", "channels"), [(44100, 2), (48000, 1), (96000, 3), (192000, 2)])
def test_the_maximum_alone_is_the_peak_meters_maximum_and_brute_force(
    fs: int, channels: int
) -> None:
    """TruePeakMax (the limited output's meter) reports what PeakMeter would, bit for bit,
    whatever the split: blocks of 0, 1 and 3 frames as well as long ones."""
    rng = np.random.default_rng(fs + channels)
    for x in awkward_signals(fs, rng):
        x = np.concatenate([x] * 2, axis=1)[:, :channels]
        maximum, meter = TruePeakMax(fs, channels), PeakMeter(fs, channels)
        feed(meter, x)
        i = 0
        while i < x.shape[0]:
            k = int(rng.choice([0, 1, 3, 23, 24, 500, 20000, 100000]))
            maximum.add_frames(x[i : i + k])
            i += k
        peaks = [v for v in meter.true_peak_dbtp() if v is not None]
        assert maximum.true_peak_dbtp() == max(peaks, default=None)
        exact = float(brute_force_hops(x, fs).max())
        assert maximum.true_peak_dbtp() == pytest.approx(20 * math.log10(exact), abs=1e-10)


def test_the_maximum_alone_of_silence_a_single_sample_and_nan() -> None:
    assert TruePeakMax(48000, 2).true_peak_dbtp() is None
    silent = TruePeakMax(48000, 2)
    silent.add_frames(np.zeros((1000, 2)))
    assert silent.true_peak_dbtp() is None
    single = TruePeakMax(48000, 1)
    single.add_frames(np.array([0.5]))
    assert single.true_peak_dbtp() == pytest.approx(20 * math.log10(0.5))  # no overshoot
    bad = TruePeakMax(48000, 2)
    x = np.zeros((5000, 2))
    x[2500, 1] = np.nan
    with pytest.raises(InvalidAudio):
        bad.add_frames(x)


@pytest.mark.parametrize("fs", [22050, 44100, 48000, 96000])
def test_shortcut_equals_brute_force(fs: int) -> None:
    rng = np.random.default_rng(fs)
    for x in awkward_signals(fs, rng):
        meter = PeakMeter(fs, 2)
        feed(meter, x, rng)
        expected = brute_force_hops(x, fs)  # (hops, channels)
        expected_db = [20 * math.log10(v) if v > 0 else None for v in expected.max(axis=0)]
        assert meter.true_peak_dbtp() == pytest.approx(expected_db, abs=1e-10)
        sample = [20 * math.log10(v) if v > 0 else None for v in np.abs(x).max(axis=0)]
        assert meter.sample_peak_dbfs() == pytest.approx(sample, abs=1e-12)
        # Per hop: every 3 s window maximum is exact; single hops lie between the hop's
        # sample peak and its true peak.
        hops = meter.hop_true_peaks()
        exact_hops = expected.max(axis=1)
        np.testing.assert_allclose(window_maxima(hops), window_maxima(exact_hops), rtol=1e-12)
        assert np.all(hops <= exact_hops * (1 + 1e-12))
        hop = (fs + 5) // 10
        padded = np.zeros((hops.size * hop, 2))
        padded[: x.shape[0]] = np.abs(x)
        assert np.all(hops >= padded.reshape(hops.size, hop, 2).max(axis=(1, 2)))


def test_float32_blocks_give_the_float64_result() -> None:
    """Float32 blocks are kept as float32 (cheaper bound passes) and still settle exactly."""
    fs = 44100
    rng = np.random.default_rng(9)
    for x in awkward_signals(fs, rng):
        x32 = x.astype(np.float32)
        meter = PeakMeter(fs, 2)
        feed(meter, x32, rng)
        expected = brute_force_hops(x32.astype(np.float64), fs).max(axis=0)
        expected_db = [20 * math.log10(v) if v > 0 else None for v in expected]
        assert meter.true_peak_dbtp() == pytest.approx(expected_db, abs=1e-10)
    mixed = PeakMeter(fs, 2)  # a float64 block after float32 ones
    x = rng.standard_normal((3 * fs, 2)) * 0.3
    mixed.add_frames(x[:fs].astype(np.float32))
    mixed.add_frames(x[fs:])
    expected = brute_force_hops(np.vstack([x[:fs].astype(np.float32), x[fs:]]), fs)
    assert mixed.true_peak_dbtp() == pytest.approx(
        [20 * math.log10(v) for v in expected.max(axis=0)], abs=1e-10
    )


def test_true_peak_never_below_sample_peak() -> None:
    rng = np.random.default_rng(5)
    for x in awkward_signals(44100, rng):
        meter = PeakMeter(44100, 2)
        meter.add_frames(x)
        for tp, sp in zip(meter.true_peak_dbtp(), meter.sample_peak_dbfs(), strict=True):
            assert (tp is None and sp is None) or (tp is not None and sp is not None and tp >= sp)


@pytest.mark.parametrize("fs", [44100, 48000])
def test_quarter_rate_sine_between_samples(fs: int) -> None:
    """Crests half-way between samples: sample peak 3.01 dB under the true peak."""
    x = signals.fade(signals.sine(fs, 0.5, frequency_hz=fs / 4, phase_rad=math.pi / 4), fs)
    meter = PeakMeter(fs, 2)
    meter.add_frames(x)
    assert meter.true_peak_dbtp() == pytest.approx([0.0, 0.0], abs=0.01)
    assert meter.sample_peak_dbfs() == pytest.approx([-3.0103, -3.0103], abs=1e-3)


def test_oversampling_factor_by_rate() -> None:
    assert [oversampling_factor(fs) for fs in (44100, 88200, 96000, 176400, 192000)] == [
        4,
        4,
        2,
        2,
        1,
    ]
    x = signals.sine(192000, 0.2, frequency_hz=48000, phase_rad=math.pi / 4)
    meter = PeakMeter(192000, 2)
    meter.add_frames(x)
    assert meter.true_peak_dbtp() == meter.sample_peak_dbfs()


def test_silence_empty_and_single_samples() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        meter = PeakMeter(48000, 2)
        assert meter.true_peak_dbtp() == [None, None]
        assert meter.sample_peak_dbfs() == [None, None]
        meter.add_frames(np.zeros((0, 2)))
        meter.add_frames(np.zeros((48000, 2)))
        assert meter.true_peak_dbtp() == [None, None]
        assert np.all(meter.true_peak_series_dbtp() == -np.inf)
        meter.add_frames(np.array([[0.5, 0.0]], dtype=np.float32))
        tp = meter.true_peak_dbtp()
        assert tp[1] is None and tp[0] is not None and tp[0] >= 20 * math.log10(0.5)
        assert meter.sample_peak_dbfs()[0] == pytest.approx(20 * math.log10(0.5))


def test_mono_accepts_1d_frames() -> None:
    meter = PeakMeter(44100, 1)
    meter.add_frames(np.array([0.0, 0.25, -0.5]))
    assert meter.sample_peak_dbfs() == [pytest.approx(20 * math.log10(0.5))]


def test_series_per_hop_and_no_nan() -> None:
    fs = 48000
    x = np.concatenate([signals.silence(fs, 1.0), signals.sine(fs, 1.05, peak_dbfs=-6.0)])
    meter = PeakMeter(fs, 2, series_hop_s=0.5)
    meter.add_frames(x)
    series = meter.true_peak_series_dbtp()
    assert meter.hop_s == pytest.approx(0.5)
    assert series.size == 5  # 2.05 s in 0.5 s steps, the last partial
    assert not np.any(np.isnan(series))
    assert series[0] == -np.inf
    assert series[1] < -40.0  # only the interpolator's pre-ringing of the sine's first samples
    assert series[2:] == pytest.approx([-6.0] * 3, abs=0.01)


def test_chunked_equals_whole() -> None:
    fs = 44100
    x = signals.pink_noise(fs, 5.3, rms_dbfs=-10.0, seed=3)
    whole = PeakMeter(fs, 2)
    whole.add_frames(x)
    chunked = PeakMeter(fs, 2)
    feed(chunked, x, np.random.default_rng(2))
    assert chunked.true_peak_dbtp() == whole.true_peak_dbtp()
    np.testing.assert_array_equal(chunked.hop_true_peaks(), whole.hop_true_peaks())
    # Reading a result mid-stream does not disturb what follows.
    midway = PeakMeter(fs, 2)
    midway.add_frames(x[:100000])
    midway.true_peak_dbtp()
    midway.add_frames(x[100000:])
    assert midway.true_peak_dbtp() == whole.true_peak_dbtp()


def test_nan_is_invalid_audio() -> None:
    x = np.zeros((20000, 2))
    x[7, 0] = np.inf
    with pytest.raises(InvalidAudio):
        PeakMeter(48000, 2).add_frames(x)


def meters(x: np.ndarray, fs: int) -> tuple[LoudnessMeter, PeakMeter]:
    loudness, peaks = LoudnessMeter(fs, x.shape[1]), PeakMeter(fs, x.shape[1])
    loudness.add_frames(x)
    peaks.add_frames(x)
    return loudness, peaks


def test_psr_of_a_steady_sine_is_its_calibration_offset() -> None:
    """Stereo 1 kHz sine: true peak X dBTP, short-term X + 0.6977 - 0.691 LUFS."""
    psr = psr_max_db(*meters(signals.sine(48000, 6.0, peak_dbfs=-10.0), 48000))
    assert psr == pytest.approx(0.691 - 0.6977, abs=0.01)


def test_psr_finds_the_window_with_a_transient() -> None:
    fs = 48000
    x = signals.sine(fs, 10.0, peak_dbfs=-30.0)
    x[5 * fs : 5 * fs + 3] += 0.9  # a 3-sample click at -0.9 dBFS
    loudness, peaks = meters(x, fs)
    psr = psr_max_db(loudness, peaks)
    tp = max(v for v in peaks.true_peak_dbtp() if v is not None)
    st_max = loudness.short_term_max_lufs()
    assert psr is not None and st_max is not None
    assert psr == pytest.approx(tp - st_max, abs=0.5)
    assert psr > 25.0


def test_psr_none_for_short_or_silent_audio() -> None:
    assert psr_max_db(*meters(signals.sine(48000, 2.5), 48000)) is None
    assert psr_max_db(*meters(signals.silence(48000, 5.0), 48000)) is None


@pytest.mark.parametrize("fs", [44100, 48000])
def test_psr_equals_brute_force(fs: int) -> None:
    """Windows of 3 s: brute-force true peak of each minus its short-term loudness, gated."""
    rng = np.random.default_rng(fs + 1)
    x = signals.pink_noise(fs, 9.0, rms_dbfs=-18.0, seed=fs)
    x *= np.repeat(10 ** (rng.uniform(-30, 0, 9) / 20), fs)[:, None]
    x[rng.integers(0, x.shape[0], 20), 0] = rng.uniform(-1, 1, 20)  # clicks
    loudness, peaks = meters(x, fs)
    hop_tp = brute_force_hops(x, fs).max(axis=1)
    energies = loudness.short_term_hop_energies()
    n = energies.size
    window_tp = sliding_window_view(hop_tp, 30).max(axis=1)[:n]
    lufs = -0.691 + 10 * np.log10(energies)
    keep = lufs >= -70.0
    power_mean = -0.691 + 10 * np.log10(np.mean(energies[keep]))
    keep &= lufs >= power_mean - 20.0
    expected = float(np.max(20 * np.log10(window_tp[keep]) - lufs[keep]))
    assert psr_max_db(loudness, peaks) == pytest.approx(expected, abs=1e-9)
