"""Real recordings from Debian's music packages, for the tests that need real music.

``scripts/ensure-real-music`` installs the packages (``.ci/run`` calls it before the tests);
where one is missing, the tests that need its track are skipped with a message naming it.
"""

from __future__ import annotations

import functools
import glob
from pathlib import Path

import numpy as np
import pytest

# name: (Debian package, where the package puts the track). Both are Ogg Vorbis full mixes.
TRACKS: dict[str, tuple[str, str]] = {
    # Rock with distorted guitars: dense, bright, loud (fretsonfire's "song.ogg" is the mix).
    "rock": (
        "fretsonfire-songs-sectoid",
        "/usr/share/games/fretsonfire/data/songs/sectoid/Metal madness/song.ogg",
    ),
    # A slower rock song, darker and less dense (its mids under the genre's).
    "ballad": (
        "fretsonfire-songs-sectoid",
        "/usr/share/games/fretsonfire/data/songs/sectoid/Feelings/song.ogg",
    ),
    # Orchestral: wide dynamics, few peaks near the top.
    "orchestral": (
        "wesnoth-music",
        "/usr/share/games/wesnoth/*/data/core/music/battle-epic.ogg",
    ),
}


@functools.cache
def decoded(name: str) -> tuple[np.ndarray, int]:
    """(frames (n, channels) float64 peak-normalised to 1.0, sample rate in Hz) of a track,
    decoded by the project's decoder; skips the test when its package is not installed."""
    from soundy.analysis.decode import open_audio

    package, pattern = TRACKS[name]
    found = sorted(glob.glob(pattern))
    if not found:
        pytest.skip(f"{pattern} not found: install Debian's {package} (scripts/ensure-real-music)")
    with open_audio(found[0]) as source:
        frames = np.concatenate(list(source.blocks())).astype(np.float64)
        rate = source.info.sample_rate
    return frames / np.abs(frames).max(), rate


def raised(name: str, gain_db: float) -> tuple[np.ndarray, int]:
    """The peak-normalised track raised ``gain_db`` (before any clipping), and its rate."""
    frames, rate = decoded(name)
    return frames * 10.0 ** (gain_db / 20.0), rate


def write_16bit(
    path: Path, name: str, gain_db: float, *, start_s: float = 0.0, seconds: float | None = None
) -> Path:
    """Write the track peak-normalised to full scale, raised ``gain_db`` and hard-clipped, as a
    16-bit WAV (as a DAW's export without a limiter would); returns ``path``. ``start_s`` and
    ``seconds`` cut an excerpt (the whole track by default)."""
    import soundfile as sf

    frames, rate = raised(name, gain_db)
    first = int(start_s * rate)
    frames = frames[first : None if seconds is None else first + int(seconds * rate)]
    codes = np.clip(np.round(frames * 32768.0), -32768, 32767).astype(np.int16)
    sf.write(path, codes, rate, subtype="PCM_16")
    return path


def track_file(name: str) -> Path:
    """The installed file of a track (the Ogg Vorbis as Debian ships it); skips the test when
    its package is not installed."""
    package, pattern = TRACKS[name]
    found = sorted(glob.glob(pattern))
    if not found:
        pytest.skip(f"{pattern} not found: install Debian's {package} (scripts/ensure-real-music)")
    return Path(found[0])
