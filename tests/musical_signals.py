"""Synthetic music with a known tempo and key, for the tests of the CLI and the page that show
them (the mechanism; real annotated music is in tests/analysis/test_rhythm.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_clicks_over_a_minor_triad(path: Path, *, rate: int = 44100) -> Path:
    """12 s of clicks at 120 BPM over an A minor triad (A3 C4 E4), stereo 16-bit at -6 dBFS:
    a tempo with its half/double readings, and a key (A minor) with its relative (C major)."""
    t = np.arange(rate * 12) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63))
    clicks = np.zeros_like(t)
    for start in range(0, t.size, rate // 2):
        tick = t[: min(1300, t.size - start)]
        clicks[start : start + tick.size] += np.sin(2 * np.pi * 2000 * tick) * np.exp(-tick / 0.003)
    x = 0.1 * chord + 0.5 * clicks
    sf.write(path, np.stack([x, x], axis=1) / np.max(np.abs(x)) * 0.5, rate, subtype="PCM_16")
    return path
