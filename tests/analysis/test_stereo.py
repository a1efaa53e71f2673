"""Stereo meter: facts any correct correlation / width / balance / mono-fold meter shows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal
import signals

from soundy.analysis._kweighting import k_weighting_sos
from soundy.analysis.stereo import MONO_LOSS_LIMIT_LU, WIDTH_LIMIT, StereoMeter

SR = 44100


def measure(frames: np.ndarray, block: int = 48000, **kwargs: float) -> StereoMeter:
    meter = StereoMeter(SR, frames.shape[1], **kwargs)
    for start in range(0, frames.shape[0], block):
        meter.add_frames(frames[start : start + block])
    return meter


def noise(seed: int, seconds: float = 10.0) -> np.ndarray:
    return signals.white_noise(SR, seconds, channels=1, seed=seed)[:, 0]


def test_identical_channels() -> None:
    x = noise(1)
    result = measure(np.stack([x, x], axis=1)).result()
    assert result["correlation"] == pytest.approx(1.0, abs=1e-12)
    assert result["width"] == pytest.approx(0.0, abs=1e-12)
    assert result["balance_db"] == pytest.approx(0.0, abs=1e-12)
    assert result["mono_loss_lu"] == pytest.approx(0.0, abs=1e-9)


def test_inverted_channel_cancels_on_fold() -> None:
    x = noise(2)
    meter = measure(np.stack([x, -x], axis=1))
    result = meter.result()
    assert result["correlation"] == pytest.approx(-1.0, abs=1e-12)
    assert result["width"] == WIDTH_LIMIT
    assert result["mono_loss_lu"] == MONO_LOSS_LIMIT_LU
    assert all(v == pytest.approx(-1.0) for v in meter.series()["correlation"])


def test_uncorrelated_noise() -> None:
    result = measure(np.stack([noise(3), noise(4)], axis=1)).result()
    assert result["correlation"] == pytest.approx(0.0, abs=0.01)
    assert result["width"] == pytest.approx(1.0, abs=0.02)  # as much side as mid
    # Two unrelated channels of equal level lose half their power on the fold: 3.01 LU.
    assert result["mono_loss_lu"] == pytest.approx(10 * math.log10(2), abs=0.05)
    assert result["balance_db"] == pytest.approx(0.0, abs=0.05)


def test_left_louder_by_6_db() -> None:
    x = noise(5)
    result = measure(np.stack([2 * x, x], axis=1)).result()
    assert result["balance_db"] == pytest.approx(20 * math.log10(2), abs=1e-6)
    assert result["correlation"] == pytest.approx(1.0, abs=1e-9)
    unrelated = measure(np.stack([noise(6), 0.5 * noise(7)], axis=1)).result()
    assert unrelated["balance_db"] == pytest.approx(6.02, abs=0.1)


def test_sines_60_degrees_apart() -> None:
    left = signals.sine(SR, 4.0, frequency_hz=500.0, channels=1)[:, 0]
    right = signals.sine(SR, 4.0, frequency_hz=500.0, phase_rad=math.pi / 3, channels=1)[:, 0]
    result = measure(np.stack([left, right], axis=1)).result()
    assert result["correlation"] == pytest.approx(math.cos(math.pi / 3), abs=1e-4)
    # E[S^2] / E[M^2] = (1 - cos phi) / (1 + cos phi)
    cos_phi = math.cos(math.pi / 3)
    assert result["width"] == pytest.approx((1 - cos_phi) / (1 + cos_phi), abs=1e-4)
    # Fold of two equal sines phi apart: power (1 + cos phi) / 2 of the stereo pair.
    assert result["mono_loss_lu"] == pytest.approx(
        -10 * math.log10((1 + math.cos(math.pi / 3)) / 2), abs=1e-3
    )


def test_k_weighted_balance_is_a_loudness_difference() -> None:
    left = signals.sine(SR, 4.0, frequency_hz=1000.0, channels=1)[:, 0]
    right = signals.sine(SR, 4.0, frequency_hz=100.0, channels=1)[:, 0]
    frames = np.stack([left, right], axis=1)
    weighted = scipy.signal.sosfilt(k_weighting_sos(SR), frames, axis=0)
    meter = StereoMeter(SR, 2)
    meter.add_frames(frames[:90000], k_weighted=weighted[:90000])
    meter.add_frames(frames[90000:], k_weighted=weighted[90000:])
    _, response = scipy.signal.sosfreqz(k_weighting_sos(SR), [1000.0, 100.0], fs=SR)
    gain_db = 20 * np.log10(np.abs(response))
    # Equal sines: the balance is the K-weighting gain difference (+0.70 - (-1.13) dB).
    assert meter.result()["balance_db"] == pytest.approx(gain_db[0] - gain_db[1], abs=0.02)
    plain = measure(frames).result()
    assert plain["balance_db"] == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(ValueError):
        meter.add_frames(frames[:10])  # weighted for some blocks only


def test_series_follows_the_image() -> None:
    x = noise(8, 4.0)
    frames = np.concatenate([np.stack([x, x], axis=1), np.stack([x, -x], axis=1)])
    series = measure(frames, block=7777).series()
    assert series["hop_s"] == pytest.approx(0.1)
    values = series["correlation"]
    assert len(values) == 80
    assert all(v == pytest.approx(1.0) for v in values[:40])
    assert all(v == pytest.approx(-1.0) for v in values[44:])  # after the 0.4 s window


def test_split_does_not_change_anything() -> None:
    frames = np.stack([noise(9, 5.0), 0.3 * noise(9, 5.0) + noise(10, 5.0)], axis=1)
    whole = measure(frames, block=frames.shape[0])
    rng = np.random.default_rng(0)
    meter = StereoMeter(SR, 2)
    start = 0
    while start < frames.shape[0]:
        size = int(rng.integers(1, 9000))
        meter.add_frames(frames[start : start + size])
        start += size
    assert meter.result() == whole.result()
    assert meter.series() == whole.series()


def test_mono_and_silence_have_no_stereo() -> None:
    mono = measure(noise(11)[:, None])
    assert set(mono.result().values()) == {None}
    assert mono.series()["correlation"] is None
    silent = measure(signals.silence(SR, 2.0))
    assert set(silent.result().values()) == {None}
    assert set(silent.series()["correlation"]) == {None}


def test_surround_uses_front_left_and_right() -> None:
    x = noise(12, 3.0)
    frames = np.stack([x, x, noise(13, 3.0), np.zeros_like(x), noise(14, 3.0), -x], axis=1)
    assert measure(frames).result()["correlation"] == pytest.approx(1.0)


def test_loudness_pass_feeds_the_same_sums() -> None:
    """The loudness meter's K-weighting pass computes the stereo sums as filtering apart does."""
    from soundy.analysis.loudness import LoudnessMeter

    left = signals.sine(SR, 4.0, frequency_hz=1000.0, channels=1)[:, 0]
    right = 0.5 * signals.sine(SR, 4.0, frequency_hz=100.0, channels=1)[:, 0] + 0.1 * noise(15, 4)
    frames = np.stack([left, right, noise(16, 4.0)], axis=1).astype(np.float32)
    apart = StereoMeter(SR, 3)
    apart.add_frames(frames, k_weighted=scipy.signal.sosfilt(k_weighting_sos(SR), frames, axis=0))
    fused = StereoMeter(SR, 3)
    loudness = LoudnessMeter(SR, 3)
    rng = np.random.default_rng(1)
    start = 0
    while start < frames.shape[0]:
        size = int(rng.integers(1, 20000))
        loudness.add_frames(frames[start : start + size], stereo=fused)
        start += size
    expected = apart.result()
    for key, value in fused.result().items():
        assert value == pytest.approx(expected[key], abs=1e-6), key
    _, response = scipy.signal.sosfreqz(k_weighting_sos(SR), [1000.0, 100.0], fs=SR)
    gain_db = 20 * np.log10(np.abs(response))
    balance_db = gain_db[0] - gain_db[1] - 20 * math.log10(0.5)
    assert fused.result()["balance_db"] == pytest.approx(balance_db, abs=0.05)
    assert fused.series()["correlation"] == pytest.approx(apart.series()["correlation"], abs=1e-6)
    with pytest.raises(ValueError):
        fused.add_frames(frames[:10])  # sums given by the loudness pass: no frames of its own
