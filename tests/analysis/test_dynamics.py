"""Dynamics meter: crest factor, TT Dynamic Range, clipped samples, DC offset."""

from __future__ import annotations

import math
from typing import Any

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


def clip_reference(
    frames: np.ndarray, full_scale: float, min_samples: int = 3
) -> list[tuple[int, int]]:
    """(clipped samples, clip events) per channel, sample by sample: when a channel has at
    least ``min_samples`` samples at or over ``full_scale`` or one beyond 1.0, all of them, and
    their runs of one sign; else none."""
    out = []
    for channel in frames.T.astype(np.float64).tolist():
        signs = [1 if v >= full_scale else (-1 if v <= -full_scale else 0) for v in channel]
        samples = sum(1 for s in signs if s != 0)
        runs = sum(1 for i, s in enumerate(signs) if s != 0 and (i == 0 or signs[i - 1] != s))
        clips = samples >= min_samples or any(abs(v) > 1.0 for v in channel)
        out.append((samples, runs) if clips else (0, 0))
    return out


def per_channel(result: dict) -> list[tuple[int, int]]:
    return [(c["clipped_samples"], c["clip_events"]) for c in result["channels"]]


def to_pcm(frames: np.ndarray, bits: int) -> np.ndarray:
    """Hard-clip and quantise to ``bits``-bit codes (as a WAV writer does), back as float32."""
    scale = 2 ** (bits - 1)
    codes = np.clip(np.round(frames * scale), -scale, scale - 1)
    return (codes / scale).astype(np.float32)


def full_scale(bits: int) -> float:
    return 1.0 - 1.5 * 2.0 ** -(bits - 1)


@pytest.mark.parametrize("bits", [16, 24])
def test_integer_clipping_counts_full_scale_samples(bits: int) -> None:
    hot = signals.sine(SR, 4.0, frequency_hz=97.0, peak_dbfs=1.5)  # driven 1.5 dB over
    hot[:, 1] *= 0.5  # right channel clean
    frames = to_pcm(hot, bits)
    frames[1000, 1] = 1.0 - 2.0 ** -(bits - 1)  # a single full-scale sample is a peak
    result = measure(frames, block=4099, is_float=False, bit_depth=bits)
    expected = clip_reference(frames, full_scale(bits))
    assert expected[0][0] == int(np.count_nonzero(np.abs(hot[:, 0]) >= full_scale(bits)))
    assert expected[0][1] == 2 * round(4.0 * 97)  # one flat top per half cycle
    assert expected[1] == (0, 0)
    assert per_channel(result) == expected
    assert (result["clipped_samples"], result["clip_events"]) == expected[0]


def test_runs_across_block_boundaries_and_at_the_end() -> None:
    frames = np.zeros((24, 2), dtype=np.float32)
    frames[3:6, 0] = 32767 / 32768  # one run of 3, split by the blocks below
    frames[8, 0] = -1.0
    frames[14:16, 0] = [1.0 - 2**-15, -1.0]  # opposite signs: two runs
    frames[21:, 0] = -1.0  # a run of 3 at the very end
    frames[[2, 20], 1] = [1.0 - 2**-15, -1.0]  # two samples at full scale: the peaks
    for block in (1, 2, 4, 5, 24):
        result = measure(frames, block=block, is_float=False, bit_depth=16)
        assert per_channel(result) == [(9, 5), (0, 0)], block


@pytest.mark.parametrize("seed", range(4))
def test_clipping_matches_the_sample_by_sample_rule_on_any_split(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Runs of every length and both signs, at full scale and (float) over it.
    values = rng.choice([0.0, 0.3, 1.0, -1.0, 1.01, -1.2, 1.0 - 2**-24], size=(3000, 3),
                        p=[0.4, 0.2, 0.15, 0.15, 0.03, 0.03, 0.04])  # fmt: skip
    values[:, 2] = np.where(np.abs(values[:, 2]) > 1.0, 0.5, values[:, 2])  # no overs here
    values[3:, 2] = np.where(np.abs(values[3:, 2]) >= 0.99, 0.0, values[3:, 2])  # < 3 at FS
    frames = values.astype(np.float32)
    expected = clip_reference(frames, 1.0 - 1.5 * 2.0**-23)
    assert expected[0][1] > 100 and expected[2] == (0, 0)
    for block in (1, 7, 64, 3000):
        assert per_channel(measure(frames, block=block, is_float=True)) == expected, block
    pcm = to_pcm(frames, 16)
    expected_pcm = clip_reference(pcm, full_scale(16))
    assert per_channel(measure(pcm, block=97, is_float=False, bit_depth=16)) == expected_pcm


@pytest.mark.parametrize("bits", [16, 24])
def test_a_lone_full_scale_peak_is_not_clipping(bits: int) -> None:
    """A programme peak-normalised to full scale: its highest sample is at full scale."""
    noise = signals.pink_noise(SR, 10.0, rms_dbfs=-18.0, seed=3)
    frames = to_pcm(noise / np.abs(noise).max(), bits)
    assert np.count_nonzero(np.abs(frames) >= full_scale(bits)) == 1
    result = measure(frames, is_float=False, bit_depth=bits)
    assert (result["clipped_samples"], result["clip_events"]) == (0, 0)
    frames[SR, 1] = -1.0  # a second full-scale peak, in the other channel: still none
    result = measure(frames, is_float=False, bit_depth=bits)
    assert (result["clipped_samples"], result["clip_events"]) == (0, 0)


@pytest.mark.parametrize("bits", [16, 24])
@pytest.mark.parametrize("noise", [signals.pink_noise, signals.white_noise])
def test_dense_programme_raised_4_db_and_hard_clipped_is_caught(bits: int, noise: Any) -> None:
    """Noise peak-normalised, raised 4 dB and hard-clipped: every sample that went over is
    counted (most clipped places are one or two samples long), on both channels."""
    programme = noise(SR, 10.0, rms_dbfs=-12.0, seed=4)
    hot = programme / np.abs(programme).max() * 10 ** (4.0 / 20.0)
    frames = to_pcm(hot, bits)
    result = measure(frames, is_float=False, bit_depth=bits)
    went_over = np.count_nonzero(np.abs(hot) >= full_scale(bits), axis=0)
    assert went_over.min() > 1000
    assert [c["clipped_samples"] for c in result["channels"]] == went_over.tolist()
    assert per_channel(result) == clip_reference(frames, full_scale(bits))
    assert result["clip_events"] >= 500


def test_float_clipping_counts_samples_beyond_full_scale() -> None:
    hot = signals.sine(SR, 2.0, peak_dbfs=2.0).astype(np.float32)
    result = measure(hot, is_float=True)
    assert result["clipped_samples"] == int(np.count_nonzero(np.abs(hot) > 1.0))
    assert result["clip_events"] == 2 * 2 * round(2.0 * 1000)  # each half cycle, both channels
    assert measure(signals.sine(SR, 2.0, peak_dbfs=0.0), is_float=True)["clipped_samples"] == 0


def test_float_over_full_scale_is_clipping_even_alone() -> None:
    frames = np.zeros((100, 2), dtype=np.float32)
    frames[10, 0] = 1.0001  # clips on any conversion to fixed point
    frames[50, 0] = 1.0  # at full scale: counted with the over
    frames[50, 1] = 1.0  # alone at full scale: a peak
    result = measure(frames, is_float=True)
    assert per_channel(result) == [(2, 2), (0, 0)]
    frames[70:73, 1] = -1.0  # a float file hard-clipped at full scale
    assert per_channel(measure(frames, is_float=True)) == [(2, 2), (4, 2)]


def test_integer_source_needs_bit_depth() -> None:
    with pytest.raises(ValueError, match="bit_depth"):
        DynamicsMeter(SR, 2, is_float=False)


def test_silence() -> None:
    result = measure(signals.silence(SR, 7.0))
    assert result["crest_db"] is None
    assert result["dr"] is None
    assert result["clipped_samples"] == 0 and result["clip_events"] == 0
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
