"""Tempo and key: synthesized click tracks, drum patterns, chord progressions and scales."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import signals

from soundy.analysis.rhythm import KEY_NAMES, RhythmMeter, pearson
from soundy.analysis.spectrum import SpectrumMeter

SR = 44100


def measure(frames: np.ndarray, sample_rate_hz: float = SR, block: int = 65536) -> dict:
    meter = RhythmMeter(sample_rate_hz, frames.shape[1])
    for start in range(0, frames.shape[0], block):
        meter.add_frames(frames[start : start + block])
    return meter.result()


def hits(
    bpm: float, seconds: float, sample_rate_hz: float, sound: np.ndarray, per_beat: int = 1
) -> np.ndarray:
    """``sound`` placed ``per_beat`` times per beat at ``bpm`` (sample-exact positions)."""
    out = np.zeros(round(seconds * sample_rate_hz))
    step_s = 60.0 / bpm / per_beat
    for i in range(int(seconds / step_s)):
        start = round(i * step_s * sample_rate_hz)
        piece = sound[: out.size - start]
        out[start : start + piece.size] += piece
    return out


def click(
    sample_rate_hz: float, frequency_hz: float = 2000.0, decay_s: float = 0.003
) -> np.ndarray:
    t = np.arange(round(0.03 * sample_rate_hz)) / sample_rate_hz
    return np.sin(2 * np.pi * frequency_hz * t) * np.exp(-t / decay_s)


def stereo(x: np.ndarray) -> np.ndarray:
    return np.repeat((0.5 * x / np.max(np.abs(x)))[:, None], 2, axis=1).astype(np.float32)


@pytest.mark.parametrize("bpm", [90.0, 120.0, 128.0, 140.0])
def test_click_track_tempo(bpm: float) -> None:
    result = measure(stereo(hits(bpm, 20.0, SR, click(SR))))
    assert result["tempo_bpm"] == pytest.approx(bpm, abs=1.0)
    assert result["tempo_confidence"] > 0.2


@pytest.mark.parametrize("bpm", [100.0, 174.0])
def test_click_track_tempo_at_48_khz(bpm: float) -> None:
    result = measure(stereo(hits(bpm, 20.0, 48000, click(48000))), sample_rate_hz=48000)
    assert result["tempo_bpm"] == pytest.approx(bpm, abs=1.0)


def drum_loop(bpm: float, seconds: float, parts: dict[str, list[int]]) -> np.ndarray:
    """A drum loop: ``parts`` maps kick/snare/hat to sixteenth-note positions in a 4/4 bar."""
    t = np.arange(round(0.25 * SR)) / SR
    sounds = {
        "kick": np.sin(2 * np.pi * (50 + 100 * np.exp(-t / 0.03)) * t) * np.exp(-t / 0.12),
        "hat": np.random.default_rng(0).standard_normal(t.size) * np.exp(-t / 0.01) * 0.3,
        "snare": np.random.default_rng(1).standard_normal(t.size) * np.exp(-t / 0.05) * 0.6,
    }
    out = np.zeros(round(seconds * SR))
    sixteenth_s = 60.0 / bpm / 4
    for bar in range(int(seconds / (16 * sixteenth_s))):
        for part, positions in parts.items():
            for position in positions:
                start = round((bar * 16 + position) * sixteenth_s * SR)
                piece = sounds[part][: out.size - start]
                out[start : start + piece.size] += piece
    return stereo(out)


EIGHTHS = list(range(0, 16, 2))
SIXTEENTHS = list(range(16))


@pytest.mark.parametrize(
    ("bpm", "parts"),
    [
        # four on the floor, off-beat hats
        (124.0, {"kick": [0, 4, 8, 12], "snare": [4, 12], "hat": [2, 6, 10, 14]}),
        # trap, half-time snare on 3, sixteenth hats (not 2/3 slower)
        (140.0, {"kick": [0, 6, 11], "snare": [8], "hat": SIXTEENTHS}),
        # Brazilian funk / tamborzao-like kick, backbeat, eighth hats
        (130.0, {"kick": [0, 3, 6, 10], "snare": [4, 12], "hat": EIGHTHS}),
        # reggaeton dembow
        (95.0, {"kick": [0, 4, 8, 12], "snare": [3, 6, 11, 14], "hat": EIGHTHS}),
    ],
)
def test_drum_patterns_read_the_beat(bpm: float, parts: dict[str, list[int]]) -> None:
    result = measure(drum_loop(bpm, 20.0, parts))
    assert result["tempo_bpm"] == pytest.approx(bpm, abs=1.0)


def test_noise_has_no_tempo_and_no_key() -> None:
    for noise in (signals.white_noise(SR, 20.0), signals.pink_noise(SR, 20.0, seed=3)):
        result = measure(noise.astype(np.float32))
        # No reading, and so no confidence in one.
        assert result["tempo_bpm"] is None and result["tempo_confidence"] is None
        assert result["tempo_candidates"] == []
        assert result["key"] is None and result["key_tonic"] is None
        assert result["key_confidence"] is None and result["key_candidates"] == []


def test_steady_tone_has_no_tempo() -> None:
    result = measure(signals.sine(SR, 20.0, frequency_hz=1000.0).astype(np.float32))
    assert result["tempo_bpm"] is None


def test_a_three_second_click_track_has_a_tempo() -> None:
    # Six beats at 120 BPM: enough for a tempo (the shortest annotated clips are 2.8 s).
    result = measure(stereo(hits(120.0, 3.0, SR, click(SR))))
    assert result["tempo_bpm"] == pytest.approx(120.0, abs=1.5)


def test_half_and_double_are_candidates_with_less_confidence() -> None:
    result = measure(stereo(hits(120.0, 20.0, SR, click(SR))))
    candidates = {c["relation"]: c for c in result["tempo_candidates"]}
    assert set(candidates) == {"detected", "half", "double"}
    detected = candidates["detected"]
    assert detected["bpm"] == result["tempo_bpm"]
    assert detected["confidence"] == result["tempo_confidence"]
    assert candidates["half"]["bpm"] == pytest.approx(detected["bpm"] / 2, abs=0.01)
    assert candidates["double"]["bpm"] == pytest.approx(detected["bpm"] * 2, abs=0.01)
    for other in ("half", "double"):
        assert 0 <= candidates[other]["confidence"] < detected["confidence"]
    # The three readings share one belief; none is certain when the octave could be another.
    assert sum(c["confidence"] for c in candidates.values()) <= 1.0


def test_a_doubtful_octave_is_admitted() -> None:
    # Boom-bap at 85 BPM: syncopated kick, backbeat, hats on every sixteenth. Its onsets fit
    # 170 BPM as well as 85 (as a metal song at 180 fits 90), and the prior near 130 BPM that
    # real annotated music asks for (docs/benchmarks.md) tips it to 170. The reading must then
    # say it is unsure, and offer 85.
    loop = measure(drum_loop(85.0, 20.0, {"kick": [0, 7, 10], "snare": [4, 12], "hat": SIXTEENTHS}))
    metronome = measure(stereo(hits(120.0, 20.0, SR, click(SR))))
    bpms = [c["bpm"] for c in loop["tempo_candidates"]]
    assert any(b == pytest.approx(85.0, abs=1.0) for b in bpms)
    assert loop["tempo_bpm"] in (pytest.approx(85.0, abs=1.0), pytest.approx(170.0, abs=2.0))
    assert loop["tempo_confidence"] < 0.75 * metronome["tempo_confidence"]


def test_too_short_or_silent_has_no_tempo() -> None:
    short = measure(stereo(hits(120.0, 1.5, SR, click(SR))))
    assert short["tempo_bpm"] is None and short["tempo_confidence"] is None
    silent = measure(signals.silence(SR, 10.0))
    assert silent["tempo_candidates"] == [] and silent["key_candidates"] == []
    assert {v for v in silent.values() if not isinstance(v, list)} == {None}


def tone(midi: int, seconds: float) -> np.ndarray:
    """A plucked tone with four harmonics."""
    t = np.arange(round(seconds * SR)) / SR
    f = 440.0 * 2 ** ((midi - 69) / 12)
    partials = sum(0.6 ** (h - 1) * np.sin(2 * np.pi * f * h * t) for h in range(1, 5))
    return partials * np.minimum(1.0, t / 0.01) * np.exp(-1.5 * t)


def progression(chords: list[tuple[int, str]], repeats: int = 4) -> np.ndarray:
    """Triads (root position, root doubled an octave below), one per second."""
    pieces = []
    for root, quality in chords * repeats:
        third = 4 if quality == "maj" else 3
        pieces.append(sum(tone(root + i, 1.0) for i in (-12, 0, third, 7)))
    return stereo(np.concatenate(pieces))


def cadence(tonic: int, mode: str) -> list[tuple[int, str]]:
    """I-IV-V-I in major, i-iv-V-i (harmonic minor: major dominant) in minor."""
    q = "maj" if mode == "major" else "min"
    return [(tonic, q), (tonic + 5, q), (tonic + 7, "maj"), (tonic, q)]


@pytest.mark.parametrize(
    ("tonic", "mode", "expected"),
    [
        (60, "major", "C major"),
        (57, "minor", "A minor"),
        (66, "major", "F# major"),
        (63, "minor", "Eb minor"),
        (58, "major", "Bb major"),
        (64, "minor", "E minor"),
    ],
)
def test_chord_progression_key(tonic: int, mode: str, expected: str) -> None:
    result = measure(progression(cadence(tonic, mode)))
    assert result["key"] == expected
    assert result["key_tonic"] == expected.split()[0]
    assert result["key_mode"] == mode
    assert result["key_confidence"] > 0.7


@pytest.mark.parametrize(
    ("tonic", "mode", "relative"),
    [(60, "major", "A minor"), (57, "minor", "C major"), (66, "major", "Eb minor")],
)
def test_a_key_comes_with_its_relative_key(tonic: int, mode: str, relative: str) -> None:
    result = measure(progression(cadence(tonic, mode)))
    assert result["key_relative"] == relative
    detected, other = result["key_candidates"]
    assert detected["relation"] == "detected" and detected["key"] == result["key"]
    assert detected["correlation"] == result["key_confidence"]
    assert other["relation"] == "relative" and other["key"] == relative
    # Same pitch classes, but the cadence stresses its own tonic.
    assert other["correlation"] < detected["correlation"]


def test_pop_progression_in_c_major() -> None:
    # I - vi - IV - V
    result = measure(progression([(60, "maj"), (57, "min"), (65, "maj"), (67, "maj")]))
    assert result["key"] == "C major"


@pytest.mark.parametrize(("tonic", "minor"), [(62, False), (57, True)])
def test_scales(tonic: int, minor: bool) -> None:
    steps = [0, 2, 3, 5, 7, 8, 11, 12] if minor else [0, 2, 4, 5, 7, 9, 11, 12]
    notes = [tonic + s for s in steps] + [tonic]
    result = measure(stereo(np.concatenate([tone(n, 0.5) for n in notes] * 3)))
    assert result["key"] == f"{KEY_NAMES[tonic % 12]} {'minor' if minor else 'major'}"


def test_transposing_moves_the_key_by_the_same_interval() -> None:
    for shift in (1, 4, 9):
        result = measure(progression(cadence(60 + shift, "major"), repeats=2))
        assert result["key_tonic"] == KEY_NAMES[shift]


def test_spectrum_meter_can_feed_it_the_same_stft() -> None:
    track = progression(cadence(62, "minor"))
    alone = measure(track, block=10000)
    shared = RhythmMeter(SR, 2)
    spectrum = SpectrumMeter(SR, 2, rhythm=shared)
    for start in range(0, track.shape[0], 33333):
        spectrum.add_frames(track[start : start + 33333])
    assert shared.result() == alone
    with pytest.raises(RuntimeError):
        shared.add_frames(track[:100])


def test_split_does_not_change_anything() -> None:
    hiss = signals.pink_noise(SR, 12.0, channels=1)[:, 0] * 0.01
    track = stereo(hits(128.0, 12.0, SR, click(SR)) + hiss)
    whole = measure(track, block=track.shape[0])
    rng = np.random.default_rng(2)
    meter = RhythmMeter(SR, 2)
    start = 0
    while start < track.shape[0]:
        size = int(rng.integers(1, 50000))
        meter.add_frames(track[start : start + size])
        start += size
    assert meter.result() == whole


def test_feature_meters_memory_does_not_grow_with_duration() -> None:
    """Ten minutes cost the feature meters ~0.5 MB more than one minute."""
    import tracemalloc

    from soundy.analysis.dynamics import DynamicsMeter
    from soundy.analysis.stereo import StereoMeter

    block = signals.pink_noise(SR, 2.0, seed=4).astype(np.float32)
    rhythm = RhythmMeter(SR, 2)
    meters = [StereoMeter(SR, 2), DynamicsMeter(SR, 2), SpectrumMeter(SR, 2, rhythm=rhythm)]
    tracemalloc.start()
    try:
        for i in range(300):
            for meter in meters:
                meter.add_frames(block)
            if i == 29:
                after_one_minute, _ = tracemalloc.get_traced_memory()
        after_ten_minutes, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Kept: 4 B per 0.1 s (correlation series), 4 x 4 B per 23 ms (the onset of four accent
    # groups), 64 B per 3 s (DR blocks), plus array headers: ~0.5 MB for 9 minutes, ~3.5 MB for
    # an hour. A whole-file buffer would be 190 MB for 9 minutes.
    grown = after_ten_minutes - after_one_minute
    assert grown < 600_000
    assert rhythm.result()["tempo_confidence"] is not None


# Real music with authored tempo maps: the Frets on Fire songs and Planet Blupi pieces of
# Debian's packages (bench/annotated_music.py says what each annotation is).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from annotated_music import find_pieces  # noqa: E402

#: Planet Blupi pieces run 10-28 minutes: a 30 s excerpt from 60 s of each, as in the bench.
EXCERPT_S = (60.0, 30.0)


@pytest.fixture(scope="module")
def real_music() -> list[tuple[str, float, dict]]:
    pieces = [p for p in find_pieces() if p.source.startswith("debian:")]
    if not pieces:
        pytest.skip(
            "no annotated real music here: scripts/ensure-real-music installs Debian's "
            "fretsonfire-songs-sectoid, fretsonfire-songs-muldjord and planetblupi-music-*"
        )
    out = []
    for piece in pieces:
        blupi = piece.source == "debian:planetblupi-music"
        frames, rate = piece.mix(*EXCERPT_S) if blupi else piece.mix()
        out.append((piece.name, piece.tempo_bpm, measure(frames, sample_rate_hz=rate)))
    return out


def _near(bpm: float | None, target: float) -> bool:
    return bpm is not None and abs(bpm / target - 1) <= 0.04


def test_real_music_tempo_against_its_tempo_map(real_music: list[tuple[str, float, dict]]) -> None:
    exact = [name for name, bpm, r in real_music if _near(r["tempo_bpm"], bpm)]
    octave = [
        name
        for name, bpm, r in real_music
        if _near(r["tempo_bpm"], bpm / 2) or _near(r["tempo_bpm"], bpm * 2)
    ]
    # Issue 9's targets: at least 90 % exact within 4 %, every one within an octave.
    assert len(exact) >= 0.9 * len(real_music), (exact, octave)
    assert len(exact) + len(octave) == len(real_music), (exact, octave)
    for name, bpm, r in real_music:
        # An octave slip is never the last word: the annotated tempo is among the candidates.
        assert any(_near(c["bpm"], bpm) for c in r["tempo_candidates"]), name


def test_real_music_has_a_key_and_its_relative(real_music: list[tuple[str, float, dict]]) -> None:
    for name, _, r in real_music:
        assert r["key"] is not None, name
        assert r["key_confidence"] is not None and r["key_confidence"] > 0.25, name
        assert r["key_relative"] == r["key_candidates"][1]["key"], name


def test_the_key_correlation_is_numpys_corrcoef_to_the_bit() -> None:
    # The key's confidence and the choice between keys come from it: the short form must not
    # move a single bit from np.corrcoef (chroma-like vectors, and extremes of scale).
    rng = np.random.default_rng(3)
    for scale in (1e-12, 1.0, 37.0, 1e9):
        for _ in range(300):
            x = rng.random(12) * scale
            y = rng.random(12) * rng.choice([1.0, 6.0])
            assert pearson(x, y) == float(np.corrcoef(x, y)[0, 1])
    assert pearson(np.arange(12.0), np.arange(12.0)) == float(
        np.corrcoef(np.arange(12.0), np.arange(12.0))[0, 1]
    )
