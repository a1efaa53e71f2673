"""Spectrum meter: band levels relative to the track's total, 1/3 octaves, centroid, tilt.

Expected values come from the signals' definitions: white noise has equal power per Hz, so a
band holds (width / 19 980 Hz) of the 20 Hz-20 kHz power; pink noise has equal power per
octave, so a band holds log(high / low) / log(1000) of it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import signals

from soundy.analysis.spectrum import SpectrumMeter
from soundy.result import BANDS

SR = 44100


def measure(frames: np.ndarray, sample_rate_hz: float = SR, block: int = 65536) -> dict:
    meter = SpectrumMeter(sample_rate_hz, frames.shape[1])
    for start in range(0, frames.shape[0], block):
        meter.add_frames(frames[start : start + block])
    return meter.result()


def levels(result: dict) -> dict[str, float | None]:
    return {band["key"]: band["level_db"] for band in result["bands"]}


def test_1khz_sine_sits_in_mid_at_0_db() -> None:
    result = measure(signals.sine(SR, 5.0, frequency_hz=1000.0, peak_dbfs=-6.0))
    bands = levels(result)
    assert max(bands, key=lambda k: bands[k] or -999) == "mid"
    assert bands["mid"] == pytest.approx(0.0, abs=0.01)
    assert all(v is not None and v < -50 for k, v in bands.items() if k != "mid")
    assert result["centroid_hz"] == pytest.approx(1000.0, abs=5.0)
    assert result["rolloff_hz"] == pytest.approx(1000.0, abs=15.0)
    assert result["flatness"] < 0.01


@pytest.mark.parametrize("gain_db", [-12.0, 6.0])
def test_other_gain_reads_the_same_levels(gain_db: float) -> None:
    tone = signals.sine(SR, 8.0, frequency_hz=220.0, peak_dbfs=-20.0)
    track = signals.pink_noise(SR, 8.0, rms_dbfs=-18.0) + tone
    base = measure(track.astype(np.float32))
    other = measure((track * 10 ** (gain_db / 20)).astype(np.float32))
    for a, b in zip(base["bands"], other["bands"], strict=True):
        assert b["level_db"] == pytest.approx(a["level_db"], abs=1e-6)
    for a, b in zip(base["third_octave"], other["third_octave"], strict=True):
        assert b["level_db"] == pytest.approx(a["level_db"], abs=1e-5)
    for key in ("centroid_hz", "rolloff_hz", "flatness", "tilt_db_per_octave"):
        assert other[key] == pytest.approx(base[key], rel=1e-6)


def test_white_noise_bands_follow_their_width() -> None:
    result = measure(signals.white_noise(SR, 20.0, channels=1))
    for key, low, high in BANDS:
        expected = 10 * math.log10((high - low) / 19980.0)
        # The sub band holds ~4 FFT bins: Hann leakage across 20/60 Hz moves ~0.2 dB.
        tolerance = 0.4 if key == "sub" else 0.15
        assert levels(result)[key] == pytest.approx(expected, abs=tolerance), key
    assert result["tilt_db_per_octave"] == pytest.approx(10 * math.log10(2), abs=0.1)
    assert result["centroid_hz"] == pytest.approx((20 + 20000) / 2, rel=0.01)
    assert result["rolloff_hz"] == pytest.approx(20 + 0.85 * 19980, rel=0.01)
    assert result["flatness"] > 0.9
    # The seven bands tile 20 Hz-20 kHz: their powers add up to the total.
    assert sum(10 ** (b["level_db"] / 10) for b in result["bands"]) == pytest.approx(1.0, abs=1e-9)


def test_pink_noise_has_equal_power_per_octave() -> None:
    result = measure(signals.pink_noise(SR, 20.0, channels=2))
    for key, low, high in BANDS:
        expected = 10 * math.log10(math.log(high / low) / math.log(1000.0))
        tolerance = 0.4 if key == "sub" else 0.15
        assert levels(result)[key] == pytest.approx(expected, abs=tolerance), key
    assert result["tilt_db_per_octave"] == pytest.approx(0.0, abs=0.15)
    # Equal power per 1/3 octave: 10 log10(1/30) of the 20 Hz-20 kHz total per band.
    mids = [b["level_db"] for b in result["third_octave"] if 100 <= b["center_hz"] <= 10000]
    assert np.allclose(mids, 10 * math.log10(1 / 30), atol=0.3)


def test_brighter_track_has_higher_centroid_and_tilt() -> None:
    pink = measure(signals.pink_noise(SR, 6.0))
    white = measure(signals.white_noise(SR, 6.0))
    assert white["centroid_hz"] > pink["centroid_hz"]
    assert white["tilt_db_per_octave"] > pink["tilt_db_per_octave"] + 2.5


def test_split_does_not_change_anything() -> None:
    track = signals.pink_noise(SR, 7.3).astype(np.float32)
    whole = measure(track, block=track.shape[0])
    rng = np.random.default_rng(3)
    meter = SpectrumMeter(SR, 2)
    start = 0
    while start < track.shape[0]:
        size = int(rng.integers(1, 30000))
        meter.add_frames(track[start : start + size])
        start += size
    assert meter.result() == whole


def test_silence_has_no_levels() -> None:
    result = measure(signals.silence(SR, 3.0))
    assert all(b["level_db"] is None for b in result["bands"])
    assert all(b["level_db"] is None for b in result["third_octave"])
    for key in ("centroid_hz", "rolloff_hz", "flatness", "tilt_db_per_octave"):
        assert result[key] is None


def test_bands_above_nyquist_are_none() -> None:
    result = measure(signals.white_noise(16000, 5.0), sample_rate_hz=16000)
    bands = levels(result)
    assert bands["air"] is None  # 10-20 kHz, Nyquist 8 kHz
    assert bands["presence"] is not None  # 5-10 kHz: measured up to Nyquist
    assert all(b["level_db"] is None for b in result["third_octave"] if b["center_hz"] >= 10000)


def test_short_file_still_measures() -> None:
    result = measure(signals.sine(SR, 0.05, frequency_hz=3000.0))
    assert max(result["bands"], key=lambda b: b["level_db"])["key"] == "high_mid"


@pytest.mark.parametrize("sample_rate_hz", [48000, 96000])
def test_other_rates(sample_rate_hz: int) -> None:
    result = measure(signals.sine(sample_rate_hz, 3.0, frequency_hz=100.0), sample_rate_hz)
    assert levels(result)["bass"] == pytest.approx(0.0, abs=0.05)
    assert result["centroid_hz"] == pytest.approx(100.0, abs=3.0)


def test_polarity_inverted_channel_does_not_cancel() -> None:
    x = signals.pink_noise(SR, 5.0, channels=1)
    same = measure(np.concatenate([x, x], axis=1))
    inverted = measure(np.concatenate([x, -x], axis=1))
    assert levels(inverted) == pytest.approx(levels(same), abs=1e-9)


def test_channels_add_as_powers() -> None:
    # Equal 100 Hz and 3 kHz tones, the 3 kHz one in opposite polarity on the two channels:
    # the speakers radiate equal power in both bands (a mono mix would lose the 3 kHz tone).
    low = signals.sine(SR, 3.0, frequency_hz=100.0, channels=1)
    high = signals.sine(SR, 3.0, frequency_hz=3000.0, channels=1)
    bands = levels(measure(np.concatenate([low + high, low - high], axis=1)))
    assert bands["bass"] == pytest.approx(-3.01, abs=0.02)
    assert bands["high_mid"] == pytest.approx(-3.01, abs=0.02)
