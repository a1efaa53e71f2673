"""The advice a producer reads on real finished music is right and consistent.

Each rule is shown twice: on Debian's real rock master as the package ships it (Ogg Vorbis,
tests/real_music.py; skipped when the package is missing), and on a synthetic signal that
isolates the mechanism.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from real_music import track_file
from soundy.analysis import measure_file
from soundy.compare import compare
from soundy.result import Measurements

RATE_HZ = 44100


@pytest.fixture(scope="module")
def rock() -> Measurements:
    """Frets on Fire's "Metal madness" (song.ogg): a loud, dense rock master."""
    return measure_file(str(track_file("rock")), max_duration_s=3600.0)


def _keys(out: Any) -> dict[str, dict[str, Any]]:
    return {s["metric"]: s for s in out["suggestions"]}


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    """Stereo pink-ish noise (-3 dB/octave above 100 Hz), unit RMS per channel."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE_HZ)
    spectrum = np.fft.rfft(rng.standard_normal((2, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / RATE_HZ)
    spectrum *= 1.0 / np.sqrt(np.maximum(f, 100.0))
    out = np.fft.irfft(spectrum, n, axis=1).T
    return out / out.std(axis=0)


def _measure(path: Path, frames: np.ndarray) -> Measurements:
    """The measurements of ``frames`` written as a float WAV."""
    sf.write(path, frames, RATE_HZ, subtype="FLOAT")
    return measure_file(str(path), max_duration_s=3600.0)


# 1. Loudness range: rock masters are not held to a pre-master mix's 10 LU.


def test_a_real_rock_master_is_in_the_rock_loudness_range(rock: Measurements) -> None:
    lra = rock["loudness"]["range_lu"]
    assert lra is not None and 3.0 <= lra <= 4.0  # a dense master, as rock masters are
    for lang in ("en", "pt-BR"):
        out = compare(rock, genre="rock_indie", stage="master", lang=lang)
        assert "loudness.range_lu" not in _keys(out)


def test_loudness_range_judged_against_the_genre_of_finished_masters(tmp_path: Path) -> None:
    # Verse and chorus 5 dB apart (LRA about 5 LU): a rock master; the same noise at one level
    # (LRA about 0) sounds flat for any genre.
    noise = _noise(64.0)
    sections = np.repeat(np.tile([10 ** (-5 / 20), 1.0], 4), 8 * RATE_HZ)[:, None]
    varied = _measure(tmp_path / "v.wav", 0.2 * noise * sections)
    flat = _measure(tmp_path / "f.wav", 0.2 * noise)
    assert (
        varied["loudness"]["range_lu"] is not None and 4.0 <= varied["loudness"]["range_lu"] <= 6.0
    )
    assert "loudness.range_lu" not in _keys(compare(varied, genre="rock_indie", stage="master"))
    lra = _keys(compare(flat, genre="rock_indie", stage="master"))["loudness.range_lu"]
    assert lra["status"] == "low" and lra["target"] == 6.0
