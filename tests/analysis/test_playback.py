"""Platform playback: the gain rules, and Spotify's Loud-mode limiter on real music."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from tests.real_music import decoded, write_16bit

from soundy.analysis import measure_file
from soundy.analysis.decode import open_audio
from soundy.analysis.loudness import LoudnessMeter
from soundy.analysis.peaks import PeakMeter
from soundy.analysis.playback import (
    LIMITER_ACTIVE_DB,
    PLATFORMS,
    Limiter,
    limit,
    playback_gain_db,
    simulate_playback,
)


def _reference_limiter(
    frames: np.ndarray, rate: int, gain_db: float
) -> tuple[np.ndarray, list[float]]:
    """The limiter's definition, one frame at a time in plain Python (no numpy tricks):
    need -> release one-pole forward -> look-ahead attack one-pole backward."""
    gain = 10.0 ** (gain_db / 20.0)
    release = math.exp(-1.0 / (0.100 * rate))
    attack = math.exp(-1.0 / (0.005 * rate))
    rows = [[float(v) * gain for v in row] for row in frames]
    rel: list[float] = []
    state = 0.0
    for row in rows:
        peak = max(abs(v) for v in row)
        need = max(0.0, 20.0 * math.log10(peak) + 1.0) if peak > 0.0 else 0.0
        state = max(need, state * release)
        rel.append(state)
    red = [0.0] * len(rel)
    ahead = 0.0
    for n in range(len(rel) - 1, -1, -1):
        ahead = max(rel[n], ahead * attack)
        red[n] = ahead
    out = np.array(
        [[v * 10.0 ** (-r / 20.0) for v in row] for row, r in zip(rows, red, strict=True)]
    )
    return out, red


def _vectorised_limiter(frames: np.ndarray, rate: int, gain_db: float) -> np.ndarray:
    """The same limiter computed another way, on the whole array at once: both recursions as
    running maxima of ``log(value) + n log(coefficient)`` (``np.maximum.accumulate``, no
    per-frame Python; the engine's implementation before the C kernel)."""
    gained = frames * 10.0 ** (gain_db / 20.0)
    peak = np.abs(gained).max(axis=1)
    need = np.zeros(peak.size)
    over = peak > 10 ** (-1 / 20)
    need[over] = 20.0 * np.log10(peak[over]) + 1.0
    n = np.arange(peak.size, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_release = -1.0 / (0.100 * rate)
        running = np.maximum.accumulate(np.log(need) - n * log_release)
        rel = np.exp(running + n * log_release)
        log_attack = -1.0 / (0.005 * rate)
        ahead = np.maximum.accumulate((np.log(rel) + n * log_attack)[::-1])[::-1]
    red = np.maximum(rel, np.exp(ahead - n * log_attack))
    out: np.ndarray = gained * 10.0 ** (-red / 20.0)[:, None]
    return out


@pytest.fixture(scope="module")
def quiet_clip() -> tuple[np.ndarray, int]:
    """3 s of the orchestral track: wide dynamics, the kind Loud mode lifts into its limiter."""
    frames, rate = decoded("orchestral")
    loudest = int(np.argmax(np.abs(frames).max(axis=1)))
    start = max(0, loudest - rate)
    return frames[start : start + 3 * rate] * 10 ** (-6 / 20), rate


def test_the_limiter_matches_a_per_sample_reference_on_real_music(
    quiet_clip: tuple[np.ndarray, int],
) -> None:
    frames, rate = quiet_clip
    gain_db = 9.0  # what Loud mode gives a -20 LUFS track
    expected, reduction = _reference_limiter(frames, rate, gain_db)
    # In uneven blocks, as the file's decoder hands them over.
    limiter = Limiter(rate, gain_db)
    parts = [limiter.process(frames[a:b]) for a, b in ((0, 1000), (1000, 1001), (1001, 50000))]
    parts += [limiter.process(frames[50000:]), limiter.flush()]
    got = np.concatenate(parts)
    assert got.shape == expected.shape
    # The very recurrences of the reference, in the same order: only 10 ** (-red / 20) taken as
    # one exp separates them (a few units in the last place).
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)
    # The limiter held every sample at -1 dBFS, and the reference did lift them above it.
    assert np.abs(got).max() <= 10 ** (-1 / 20) + 1e-12
    assert np.abs(frames).max() * 10 ** (gain_db / 20) > 10 ** (-1 / 20) * 1.5
    stats = limiter.stats()
    active = [r for r in reduction if r >= LIMITER_ACTIVE_DB]
    assert stats["active_fraction"] == pytest.approx(len(active) / len(reduction), abs=1e-6)
    assert 0.0 < stats["active_fraction"] < 1.0
    assert stats["max_reduction_db"] == pytest.approx(max(active), abs=0.005)
    assert stats["median_reduction_db"] == pytest.approx(float(np.median(active)), abs=0.011)
    # The one-call form agrees.
    whole, whole_stats = limit(frames, rate, gain_db)
    np.testing.assert_allclose(whole, expected, rtol=0, atol=1e-15)
    assert whole_stats == stats


@pytest.mark.parametrize("name", ["orchestral", "rock"])
def test_the_limiter_matches_the_vectorised_one_on_whole_tracks(name: str) -> None:
    """Minutes of real music, lifted 3 to 15 dB into the limiter, in uneven blocks."""
    frames, rate = decoded(name)
    cuts = [0, 1, 4410, 4411, 600_000, 1_800_001, frames.shape[0]]
    for gain_db in (3.0, 15.0):
        limiter = Limiter(rate, gain_db)
        parts = [limiter.process(frames[a:b]) for a, b in itertools.pairwise(cuts)]
        got = np.concatenate([*parts, limiter.flush()])
        expected = _vectorised_limiter(frames, rate, gain_db)
        # The vectorised form rounds exp(log(x) + n c - m c) over millions of frames.
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-11)
        assert np.abs(got).max() <= 10 ** (-1 / 20) + 1e-12
        assert limiter.stats()["active_fraction"] > 0.1


def test_the_second_pass_reports_what_the_full_meters_measure_of_the_limited_track(
    tmp_path: Path,
) -> None:
    """measure_file's Loud entry (its second pass: the limiter, then integrated loudness and
    the true peak alone, in two lanes) against the whole limited array through the first
    pass's full meters."""
    path = write_16bit(tmp_path / "orchestral.wav", "orchestral", -3.0, start_s=20, seconds=40)
    result = measure_file(path, max_duration_s=600)
    loud = next(e for e in result["playback"] or [] if e["mode"] == "loud")
    with open_audio(path) as source:
        frames = np.concatenate(list(source.blocks()))
        rate = source.info.sample_rate
    # The entry's gain is rounded; the pass used the exact one.
    gain_db = -11.0 - result["loudness"]["integrated_lufs"]
    limited, stats = limit(frames, rate, gain_db)
    loudness = LoudnessMeter(rate, 2)
    peaks = PeakMeter(rate, 2)
    loudness.add_frames(limited)
    peaks.add_frames(limited)
    integrated = loudness.integrated_lufs()
    assert integrated is not None
    assert loud["loudness_after_lufs"] == round(integrated, 2)
    true_peak = max(p for p in peaks.true_peak_dbtp() if p is not None)
    assert loud["true_peak_after_dbtp"] == round(true_peak, 2)
    assert loud["limiter"] == stats
    assert stats["active_fraction"] > 0.01  # the limiter did act on this excerpt


def test_a_gain_that_keeps_every_sample_under_the_threshold_leaves_the_audio_alone(
    quiet_clip: tuple[np.ndarray, int],
) -> None:
    frames, rate = quiet_clip
    out, stats = limit(frames, rate, -3.0)
    np.testing.assert_allclose(out, frames * 10 ** (-3 / 20), rtol=1e-12, atol=0)
    assert stats == {"active_fraction": 0.0, "max_reduction_db": 0.0, "median_reduction_db": 0.0}


def _entries(integrated: float, true_peak: float) -> dict[tuple[str, str], dict[str, object]]:
    def no_audio() -> list[np.ndarray]:
        raise AssertionError("no limiter should need the audio here")

    out = simulate_playback(
        integrated, true_peak, true_peak - 0.5, sample_rate_hz=48000,
        channel_weights=(1.0, 1.0), blocks=no_audio,
    )  # fmt: skip
    assert out is not None
    return {(e["platform"], e["mode"]): dict(e) for e in out}


def test_spotify_documented_example_and_the_platforms_that_only_turn_down() -> None:
    # Spotify's own example: -20 LUFS with true peak -5 dB is lifted only to -16 LUFS.
    spotify_normal = next(p for p in PLATFORMS if (p.platform, p.mode) == ("Spotify", "normal"))
    assert playback_gain_db(spotify_normal, -20.0, -5.0) == 4.0
    # (-20 LUFS with its true peak at -12 dBTP: Loud mode's +9 dB stays under the limiter.)
    quiet = _entries(-20.0, -12.0)
    assert quiet["Spotify", "normal"]["gain_db"] == 6.0
    assert quiet["Spotify", "normal"]["loudness_after_lufs"] == -14.0
    assert quiet["Spotify", "normal"]["true_peak_after_dbtp"] == -6.0
    assert quiet["Spotify", "loud"]["gain_db"] == 9.0
    for key in (("YouTube", "default"), ("YouTube Music", "default"), ("Tidal", "default")):
        assert quiet[key]["gain_db"] == 0.0
    # SoundCloud does not normalise: a hot master stays hot there, and nowhere else.
    hot = _entries(-6.5, 0.3)
    assert hot["SoundCloud", "default"]["gain_db"] == 0.0
    assert hot["SoundCloud", "default"]["target_lufs"] is None
    assert hot["YouTube Music", "default"]["gain_db"] == -0.5
    assert hot["Spotify", "loud"]["gain_db"] == -4.5
    assert hot["Spotify", "loud"]["limiter"] == {
        "active_fraction": 0.0, "max_reduction_db": 0.0, "median_reduction_db": 0.0,
    }  # fmt: skip
    assert hot["Spotify", "quiet"]["loudness_after_lufs"] == -19.0
    assert hot["Apple Music", "sound_check"]["true_peak_after_dbtp"] == -9.2
    assert {e["evidence"] for e in hot.values()} <= {"documented", "measured", "folklore"}
    assert all(e["source"] for e in hot.values())
    assert len(hot) == len(PLATFORMS)
    assert (
        simulate_playback(
            None, None, None, sample_rate_hz=48000, channel_weights=(1.0,), blocks=list
        )
        is None
    )


def test_loud_masters_are_turned_down_everywhere_that_normalises_to_each_target() -> None:
    entries = _entries(-5.0, -0.2)
    for rule in PLATFORMS:
        e = entries[rule.platform, rule.mode]
        if rule.target_lufs is None:
            assert e["gain_db"] == 0.0
            continue
        assert e["gain_db"] == rule.target_lufs + 5.0
        assert e["loudness_after_lufs"] == rule.target_lufs
        assert e["true_peak_after_dbtp"] == pytest.approx(-0.2 + rule.target_lufs + 5.0)
    assert entries["Apple Music", "sound_check"]["target_lufs"] == -16.0
    assert entries["Deezer", "default"]["target_lufs"] == -15.0


def test_quiet_masters_stay_quiet_where_only_turned_down_and_gain_stops_at_the_ceiling() -> None:
    entries = _entries(-22.0, -14.0)
    for name in ("YouTube", "YouTube Music", "Tidal", "Amazon Music", "Deezer", "SoundCloud"):
        assert entries[name, "default"]["gain_db"] == 0.0, name
    assert entries["Spotify", "normal"]["gain_db"] == 8.0  # up to -14, peak -6 stays under -1
    assert entries["Apple Music", "sound_check"]["gain_db"] == 6.0
    # Already above the -1 dBTP ceiling: no lift, no cut.
    for rule in PLATFORMS:
        if rule.rule == "up_to_true_peak":
            assert playback_gain_db(rule, -22.0, -0.5) == 0.0
