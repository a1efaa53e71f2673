"""LoudnessMeter and channel weights: BS.1770 facts, a literal transcription, edge cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import signals
from scipy import signal

from soundy.analysis._kweighting import gating_grid, k_weighting_ba, k_weighting_sos
from soundy.analysis.channels import (
    LAYOUT_WEIGHTS,
    channel_weights,
    channel_weights_from_mask,
)
from soundy.analysis.loudness import LoudnessMeter
from soundy.errors import InvalidAudio

# ITU-R BS.1770-4 Annex 1, Tables 1 and 2 (48 kHz), as printed: b0 b1 b2 a1 a2.
BS1770_STAGE1 = (1.53512485958697, -2.69169618940638, 1.19839281085285,
                 -1.69065929318241, 0.73248077421585)  # fmt: skip
BS1770_STAGE2 = (1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621)


def results(meter: LoudnessMeter) -> dict[str, object]:
    return {
        "integrated": meter.integrated_lufs(),
        "range": meter.range_lu(),
        "momentary_max": meter.momentary_max_lufs(),
        "short_term_max": meter.short_term_max_lufs(),
        "momentary": meter.momentary_series_lufs(),
        "short_term": meter.short_term_series_lufs(),
        "channels": meter.channel_integrated_lufs(),
    }


# ---------------------------------------------------------------- the filter


def test_k_weighting_matches_bs1770_tables_at_48k() -> None:
    sos = k_weighting_sos(48000)
    stage1 = (sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5])
    stage2 = (sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5])
    assert stage1 == pytest.approx(BS1770_STAGE1, abs=1e-14)
    assert stage2 == pytest.approx(BS1770_STAGE2, abs=1e-14)


@pytest.mark.parametrize("fs", [8000, 32000, 44100, 48000, 96000, 192000])
def test_combined_filter_equals_two_biquads(fs: int) -> None:
    x = signals.white_noise(fs, 1.0, channels=1)[:, 0]
    b, a = k_weighting_ba(fs)
    combined = signal.lfilter(b, a, x)
    cascaded = signal.sosfilt(k_weighting_sos(fs), x)
    assert np.max(np.abs(combined - cascaded)) <= 1e-7 * np.max(np.abs(cascaded))
    energy_db = 10 * math.log10(np.mean(combined**2) / np.mean(cascaded**2))
    assert abs(energy_db) <= 1e-8


@pytest.mark.parametrize("fs", [8000, 11025, 22050, 44100, 48000, 96000, 192000])
def test_grid_is_100ms_hop_split_into_at_most_10ms(fs: int) -> None:
    hop, fine = gating_grid(fs)
    assert hop % fine == 0
    assert fine <= fs / 100
    assert abs(hop / fs - 0.1) <= 0.0006  # exact except where the hop is prime (11025 Hz)


# ---------------------------------------------------------------- facts


@pytest.mark.parametrize("peak_dbfs", [-40.0, -23.0, -12.0, -3.0, 0.0])
def test_stereo_1k_sine_reads_peak_plus_k_gain_minus_0691(peak_dbfs: float) -> None:
    meter = LoudnessMeter(48000, 2)
    meter.add_frames(signals.sine(48000, 5.0, peak_dbfs=peak_dbfs))
    expected = peak_dbfs + 0.6977 - 0.691  # G_K(1 kHz) = +0.6977 dB at 48 kHz
    assert meter.integrated_lufs() == pytest.approx(expected, abs=0.01)
    assert meter.momentary_max_lufs() == pytest.approx(expected, abs=0.01)
    assert meter.short_term_max_lufs() == pytest.approx(expected, abs=0.01)
    assert meter.range_lu() == pytest.approx(0.0, abs=0.01)


def test_mono_is_one_channel_and_dual_mono_counts_twice() -> None:
    tone = signals.sine(48000, 5.0, peak_dbfs=-20.0, channels=1)
    mono = LoudnessMeter(48000, 1)
    mono.add_frames(tone)
    mono_1d = LoudnessMeter(48000, 1)
    mono_1d.add_frames(tone[:, 0])
    dual = LoudnessMeter(48000, 1, channel_weights=channel_weights(1, "dual_mono"))
    dual.add_frames(tone)
    stereo_expected = -20.0 + 0.6977 - 0.691
    assert mono.integrated_lufs() == pytest.approx(stereo_expected - 10 * math.log10(2), abs=0.01)
    assert mono_1d.integrated_lufs() == mono.integrated_lufs()
    assert dual.integrated_lufs() == pytest.approx(stereo_expected, abs=0.01)


def test_lfe_is_ignored_in_5_1() -> None:
    fs = 48000
    base = signals.pink_noise(fs, 6.0, channels=6, seed=4)
    loud_lfe = base.copy()
    loud_lfe[:, 3] = signals.sine(fs, 6.0, frequency_hz=50.0, peak_dbfs=0.0, channels=1)[:, 0]
    silent_lfe = base.copy()
    silent_lfe[:, 3] = 0.0
    values = []
    for frames in (loud_lfe, silent_lfe):
        meter = LoudnessMeter(fs, 6)  # 6 channels default to 5.1: L R C LFE Ls Rs
        meter.add_frames(frames)
        values.append(meter.integrated_lufs())
    assert values[0] == values[1]


def test_surround_weight_is_plus_1_5_db() -> None:
    fs = 48000
    tone = signals.sine(fs, 5.0, peak_dbfs=-20.0, channels=1)[:, 0]
    frames = np.zeros((tone.size, 5))
    front = LoudnessMeter(fs, 5)
    frames[:, 0] = tone
    front.add_frames(frames)
    frames[:, 0] = 0.0
    frames[:, 3] = tone  # Ls
    surround = LoudnessMeter(fs, 5)
    surround.add_frames(frames)
    front_lufs, surround_lufs = front.integrated_lufs(), surround.integrated_lufs()
    assert front_lufs is not None and surround_lufs is not None
    assert surround_lufs - front_lufs == pytest.approx(10 * math.log10(1.41), abs=1e-9)


def test_channel_weights_for_layouts_and_masks() -> None:
    assert channel_weights(2) == (1.0, 1.0)
    assert channel_weights(6) == (1.0, 1.0, 1.0, 0.0, 1.41, 1.41)
    assert channel_weights(8, "7.1") == (1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.41, 1.41)
    assert channel_weights(3) == (1.0, 1.0, 1.0)
    assert channel_weights(12) == (1.0,) * 12
    # WAVE masks: 5.1 with "back" (0x3F) or side (0x60F) surrounds, 7.1 (0x63F), stereo.
    assert channel_weights_from_mask(0x3F, 6) == (1.0, 1.0, 1.0, 0.0, 1.41, 1.41)
    assert channel_weights_from_mask(0x60F, 6) == (1.0, 1.0, 1.0, 0.0, 1.41, 1.41)
    assert channel_weights_from_mask(0x63F, 8) == LAYOUT_WEIGHTS["7.1"]
    assert channel_weights_from_mask(0x3, 2) == (1.0, 1.0)
    assert channel_weights_from_mask(0x3, 6) == channel_weights(6)  # mismatch: by count
    with pytest.raises(ValueError, match="layout"):
        channel_weights(2, "5.1")
    with pytest.raises(ValueError, match="unknown"):
        channel_weights(2, "atmos")


# ---------------------------------------------------------------- edge cases


def test_silence_gives_none_everywhere_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        meter = LoudnessMeter(44100, 2)
        meter.add_frames(signals.silence(44100, 5.0))
        assert meter.integrated_lufs() is None
        assert meter.range_lu() is None
        assert meter.momentary_max_lufs() is None
        assert meter.short_term_max_lufs() is None
        assert meter.channel_integrated_lufs() == [None, None]
        series = meter.momentary_series_lufs()
        assert series.size == 50 and np.all(series == -np.inf)


def test_nothing_added_and_tiny_inputs() -> None:
    meter = LoudnessMeter(48000, 2)
    assert meter.integrated_lufs() is None and meter.momentary_max_lufs() is None
    assert meter.momentary_series_lufs().size == 0
    meter.add_frames(np.zeros((0, 2)))
    meter.add_frames(np.full((1, 2), 0.5))
    assert meter.duration_s == pytest.approx(1 / 48000)
    assert meter.integrated_lufs() is None  # shorter than one 400 ms block
    assert meter.momentary_max_lufs() is None  # not even one 10 ms step yet
    meter.add_frames(np.full((480, 2), 0.5, dtype=np.float32))
    assert meter.momentary_max_lufs() is not None


def test_never_nan_on_awkward_inputs() -> None:
    rng = np.random.default_rng(7)
    for n in (0, 1, 479, 480, 19199, 19200, 19201, 144000):
        meter = LoudnessMeter(48000, 2)
        x = rng.standard_normal((n, 2)) * 10.0 ** rng.uniform(-6, 0)
        x[: n // 2] = 0.0
        meter.add_frames(x)
        for key, value in results(meter).items():
            if isinstance(value, np.ndarray):
                assert not np.any(np.isnan(value)), key
            elif isinstance(value, list):
                assert all(v is None or math.isfinite(v) for v in value), key
            else:
                assert value is None or math.isfinite(value), key  # type: ignore[arg-type]


def test_nan_input_is_invalid_audio() -> None:
    meter = LoudnessMeter(48000, 2)
    x = np.zeros((10000, 2))
    x[5000, 1] = np.nan
    with pytest.raises(InvalidAudio):
        meter.add_frames(x)


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        LoudnessMeter(48000, 2).add_frames(np.zeros((100, 3)))


@pytest.mark.parametrize("fs", [44100, 48000, 22050])
def test_chunked_equals_whole(fs: int) -> None:
    x = signals.pink_noise(fs, 9.3, seed=11) * np.linspace(0.01, 1.0, round(9.3 * fs))[:, None]
    whole = LoudnessMeter(fs, 2)
    whole.add_frames(x)
    chunked = LoudnessMeter(fs, 2)
    rng = np.random.default_rng(fs)
    i = 0
    while i < x.shape[0]:
        k = int(rng.choice([0, 1, 2, 7, 441, 480, 4410, 30011]))
        chunked.add_frames(x[i : i + k])
        i += k
    a, b = results(whole), results(chunked)
    for key in ("integrated", "range", "momentary_max", "short_term_max"):
        assert a[key] == pytest.approx(b[key], abs=1e-9), key
    for key in ("momentary", "short_term"):
        np.testing.assert_allclose(a[key], b[key], atol=1e-9)  # type: ignore[arg-type]
    assert a["channels"] == pytest.approx(b["channels"], abs=1e-9)


def test_reset_forgets_everything() -> None:
    meter = LoudnessMeter(48000, 2)
    meter.add_frames(signals.sine(48000, 3.0, peak_dbfs=-10.0))
    meter.reset()
    meter.add_frames(signals.sine(48000, 3.0, peak_dbfs=-30.0))
    assert meter.integrated_lufs() == pytest.approx(-30.0 + 0.6977 - 0.691, abs=0.01)


def test_series_hop_and_length() -> None:
    meter = LoudnessMeter(44100, 2, series_hop_s=0.5)
    meter.add_frames(signals.pink_noise(44100, 10.2))
    assert meter.hop_s == pytest.approx(0.5)
    assert meter.momentary_series_lufs().size == 20
    assert meter.short_term_series_lufs().size == 20
    assert meter.fine_grid_s == pytest.approx(0.01)


# ------------------------------------------------- literal BS.1770 transcription


def literal_k_filter(fs: float) -> list[tuple[list[float], list[float]]]:
    """BS.1770-4 Annex 1 filters, re-derived for fs from the analogue prototypes (libebur128's
    derivation, docs/measurements.md), written independently of soundy.analysis._kweighting."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / fs)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k**2
    shelf = (
        [(vh + vb * k / q + k**2) / a0, 2 * (k**2 - vh) / a0, (vh - vb * k / q + k**2) / a0],
        [1.0, 2 * (k**2 - 1) / a0, (1 - k / q + k**2) / a0],
    )
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / fs)
    den = 1 + k / q + k**2
    highpass = ([1.0, -2.0, 1.0], [1.0, 2 * (k**2 - 1) / den, (1 - k / q + k**2) / den])
    return [shelf, highpass]


def literal_meter(x: np.ndarray, fs: int, weights: list[float]) -> dict[str, float | None]:
    """BS.1770-4 Annex 1 eqs. (1)-(7) and Tech 3342, in loops, for integer-hop rates."""
    y = x.copy()
    for b, a in literal_k_filter(fs):
        y = signal.lfilter(b, a, y, axis=0)
    n = y.shape[0]

    def loudness_of(start: int, length: int) -> float:
        z = [float(np.mean(y[start : start + length, i] ** 2)) for i in range(y.shape[1])]
        total = sum(g * zi for g, zi in zip(weights, z, strict=True))
        return -0.691 + 10 * math.log10(total) if total > 0 else -math.inf

    block, step = round(0.4 * fs), round(0.1 * fs)
    blocks = [loudness_of(j * step, block) for j in range((n - block) // step + 1)]
    above = [lj for lj in blocks if lj > -70.0]
    integrated = None
    if above:
        mean_energy = sum(10 ** ((lj + 0.691) / 10) for lj in above) / len(above)
        gamma_r = -0.691 + 10 * math.log10(mean_energy) - 10.0
        gated = [lj for lj in above if lj > gamma_r]
        mean_energy = sum(10 ** ((lj + 0.691) / 10) for lj in gated) / len(gated)
        integrated = -0.691 + 10 * math.log10(mean_energy)

    fine = fs // 100
    momentary = [loudness_of(e - block, block) for e in range(block, n + 1, fine)]
    short_len = round(3.0 * fs)
    short_fine = [loudness_of(e - short_len, short_len) for e in range(short_len, n + 1, fine)]
    short = sorted(loudness_of(e - short_len, short_len) for e in range(short_len, n + 1, step))
    short = [s for s in short if s >= -70.0]
    lra = None
    if short:
        mean_energy = sum(10 ** ((s + 0.691) / 10) for s in short) / len(short)
        gate = -0.691 + 10 * math.log10(mean_energy) - 20.0
        kept = [s for s in short if s >= gate]
        count = len(kept)
        lra = kept[math.floor((count - 1) * 0.95 + 0.5)] - kept[math.floor((count - 1) * 0.1 + 0.5)]
    return {
        "integrated": integrated,
        "momentary_max": max(momentary),
        "short_term_max": max(short_fine),
        "range": lra,
    }


@pytest.mark.parametrize("fs", [44100, 48000])
@pytest.mark.parametrize("seed", [1, 2])
def test_matches_literal_transcription(fs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    duration_s = 7.0 + rng.uniform(0, 1)
    x = signals.white_noise(fs, duration_s, channels=3, seed=seed)
    envelope = np.repeat(10 ** (rng.uniform(-80, 0, 80) / 20), x.shape[0] // 80 + 1)
    x *= envelope[: x.shape[0], None]
    x[: fs // 2] = 0.0
    weights = [1.0, 1.0, 1.41]
    meter = LoudnessMeter(fs, 3, channel_weights=weights)
    meter.add_frames(x)
    expected = literal_meter(x, fs, weights)
    assert meter.integrated_lufs() == pytest.approx(expected["integrated"], abs=1e-9)
    assert meter.momentary_max_lufs() == pytest.approx(expected["momentary_max"], abs=1e-9)
    assert meter.short_term_max_lufs() == pytest.approx(expected["short_term_max"], abs=1e-9)
    assert meter.range_lu() == pytest.approx(expected["range"], abs=1e-9)


def test_integer_frames_are_refused() -> None:
    with pytest.raises(ValueError, match="floating point"):
        LoudnessMeter(48000, 2).add_frames(np.zeros((10, 2), dtype=np.int16))
