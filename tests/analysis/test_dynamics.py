"""Dynamics meter: crest factor, TT Dynamic Range, clipped samples, DC offset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import signals

from soundy.analysis.dynamics import DynamicsMeter

SR = 44100


def measure(
    frames: np.ndarray, block: int = 50000, sample_rate_hz: float = SR, **kw: object
) -> dict:
    meter = DynamicsMeter(sample_rate_hz, frames.shape[1], **kw)  # type: ignore[arg-type]
    for start in range(0, frames.shape[0], block):
        meter.add_frames(frames[start : start + block])
    return meter.result()


def reference_dr(frames: np.ndarray, sample_rate_hz: float) -> int:
    """A literal transcription of the published TT DR procedure (whole file in memory)."""
    block = round(3 * sample_rate_hz)
    per_channel = []
    for channel in frames.T:
        pieces = [channel[i : i + block] for i in range(0, channel.size, block)]
        rms = sorted(math.sqrt(2 * float(np.mean(p.astype(np.float64) ** 2))) for p in pieces)
        peaks = sorted(float(np.max(np.abs(p))) for p in pieces)
        top = max(1, int(len(pieces) * 0.2))
        rms_top = math.sqrt(sum(r * r for r in rms[-top:]) / top)
        per_channel.append(-20 * math.log10(rms_top / peaks[-2]))
    return math.floor(sum(per_channel) / len(per_channel) + 0.5)


@pytest.mark.parametrize("sample_rate_hz", [44100, 48000])
def test_sine_crest_is_3_01_db(sample_rate_hz: int) -> None:
    tone = signals.sine(sample_rate_hz, 10.0, peak_dbfs=-3.0)
    result = measure(tone, sample_rate_hz=sample_rate_hz)
    assert result["crest_db"] == pytest.approx(10 * math.log10(2), abs=0.02)
    assert result["dr"] == 0  # block RMS x sqrt(2) equals the peak


def test_square_wave_crest_is_0_db() -> None:
    square = np.sign(signals.sine(SR, 5.0, frequency_hz=441.0, phase_rad=0.1)) * 0.5
    assert measure(square)["crest_db"] == pytest.approx(0.0, abs=1e-6)


def test_dr_uses_the_second_highest_peak() -> None:
    tone = signals.sine(SR, 30.0, peak_dbfs=-6.0206)  # peak 0.5
    one_spike = tone.copy()
    one_spike[SR * 4] = 1.0
    assert measure(one_spike)["dr"] == 0  # a lone spike is ignored
    two_spikes = one_spike.copy()
    two_spikes[SR * 17] = 1.0
    assert measure(two_spikes)["dr"] == 6  # 20 log10(1.0 / 0.5)


def test_dr_uses_the_loudest_fifth_of_blocks() -> None:
    # Ten 3 s blocks: two at peak 0.5, eight at 0.05; spikes of 1.0 in two quiet blocks.
    levels = [0.05] * 10
    levels[3] = levels[7] = 0.5
    track = np.concatenate([signals.sine(SR, 3.0, channels=1) * level for level in levels]).repeat(
        2, axis=1
    )
    track[SR * 1, :] = 1.0
    track[SR * 28, :] = 1.0
    result = measure(track)
    assert result["dr"] == 6  # rms_top = 0.5 (top 2 of 10 blocks), second peak 1.0
    assert result["dr"] == reference_dr(track, SR)


@pytest.mark.parametrize("seed", [1, 2])
def test_dr_matches_the_published_procedure_on_programme(seed: int) -> None:
    rng = np.random.default_rng(seed)
    seconds = 40.5
    envelope = np.repeat(rng.uniform(0.02, 0.4, size=81), round(SR * 0.5))[: round(SR * seconds)]
    track = signals.pink_noise(SR, seconds, seed=seed, rms_dbfs=0.0) * envelope[:, None]
    track[:, 1] *= 0.7
    track = np.clip(track, -1, 1).astype(np.float32)
    assert measure(track, block=12345)["dr"] == reference_dr(track, SR)


def test_dr_needs_more_than_one_block() -> None:
    assert measure(signals.white_noise(SR, 2.9))["dr"] is None
    assert measure(signals.white_noise(SR, 3.5))["dr"] is not None


def test_dc_offset_per_channel() -> None:
    track = signals.sine(SR, 3.0, peak_dbfs=-10.0)
    track[:, 0] += 0.01
    result = measure(track)
    left, right = result["channels"]
    assert left["dc_offset"] == pytest.approx(0.01, abs=1e-6)
    assert left["dc_offset_dbfs"] == pytest.approx(-40.0, abs=0.01)
    assert abs(right["dc_offset"]) < 1e-6


def integer_clip_reference(codes: np.ndarray, bits: int, min_run: int) -> int:
    """Samples in runs of >= min_run consecutive full-scale codes of one sign, loop by loop."""
    top = 2 ** (bits - 1) - 1
    total = 0
    for channel in codes.T:
        run, sign = 0, 0
        for value in [*channel.tolist(), 0]:
            s = 1 if value >= top else (-1 if value <= -top else 0)
            if s != 0 and s == sign:
                run += 1
            else:
                if sign != 0 and run >= min_run:
                    total += run
                run, sign = (1, s) if s != 0 else (0, 0)
    return total


@pytest.mark.parametrize("bits", [16, 24])
def test_integer_clipping_counts_full_scale_runs(bits: int) -> None:
    scale = 2 ** (bits - 1)
    hot = signals.sine(SR, 4.0, frequency_hz=97.0, peak_dbfs=1.5)  # driven 1.5 dB over
    hot[:, 1] *= 0.5  # right channel clean
    codes = np.clip(np.round(hot * scale), -scale, scale - 1).astype(np.int64)
    codes[1000, 1] = scale - 1  # a single full-scale sample is a peak, not clipping
    frames = (codes / scale).astype(np.float32)
    result = measure(frames, block=4099, is_float=False, bit_depth=bits)
    expected = integer_clip_reference(codes, bits, 3)
    assert expected > 1000
    assert result["clipped_samples"] == expected
    assert result["channels"][1]["clipped_samples"] == 0
    assert result["channels"][0]["clipped_samples"] == expected


def test_runs_across_block_boundaries_and_at_the_end() -> None:
    frames = np.zeros((20, 1), dtype=np.float32)
    frames[3:6, 0] = 32767 / 32768  # run of 3 split by the blocks below
    frames[10:12, 0] = -1.0  # run of 2: not clipping
    frames[17:, 0] = -1.0  # run of 3 at the very end
    for block in (1, 2, 4, 5, 20):
        result = measure(frames, block=block, is_float=False, bit_depth=16)
        assert result["clipped_samples"] == 6, block


def test_float_clipping_counts_samples_beyond_full_scale() -> None:
    hot = signals.sine(SR, 2.0, peak_dbfs=2.0).astype(np.float32)
    result = measure(hot, is_float=True)
    assert result["clipped_samples"] == int(np.count_nonzero(np.abs(hot) > 1.0))
    assert measure(signals.sine(SR, 2.0, peak_dbfs=0.0), is_float=True)["clipped_samples"] == 0


def test_integer_source_needs_bit_depth() -> None:
    with pytest.raises(ValueError, match="bit_depth"):
        DynamicsMeter(SR, 2, is_float=False)


def test_silence() -> None:
    result = measure(signals.silence(SR, 7.0))
    assert result["crest_db"] is None
    assert result["dr"] is None
    assert result["clipped_samples"] == 0
    assert all(c["dc_offset"] == 0.0 and c["dc_offset_dbfs"] is None for c in result["channels"])


def test_split_does_not_change_anything() -> None:
    track = (signals.pink_noise(SR, 10.3, rms_dbfs=-12.0) * 1.0).astype(np.float32)
    whole = measure(track, block=track.shape[0], is_float=False, bit_depth=16)
    rng = np.random.default_rng(5)
    meter = DynamicsMeter(SR, 2, is_float=False, bit_depth=16)
    start = 0
    while start < track.shape[0]:
        size = int(rng.integers(1, 40000))
        meter.add_frames(track[start : start + size])
        start += size
    assert meter.result() == whole
