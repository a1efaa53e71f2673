"""A synthetic "club track" and the known problems made from it (frames shape (n, 2), floats).

The track: a 120 BPM kick with a pitch drop (sub and bass), a decaying bass note, high-passed
pink noise that is partly decorrelated between left and right (a stereo pad), and off-beat hats
above 7 kHz. Its sample peak is -1.5 dBFS. Each problem changes one thing:

- ``too_quiet``: 14 dB quieter;
- ``clipping``: 12 dB hotter, hard-clipped at full scale (a 16-bit file then holds runs of
  full-scale samples and its true peak is over 0 dBTP);
- ``narrow``: both channels replaced by their mean (mono in a stereo file);
- ``low_end``: the kick and bass 4x (+12 dB) louder, peak renormalised to -1.5 dBFS;
- ``phase_inverted``: the right channel's polarity flipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

__all__ = ["PROBLEMS", "SAMPLE_RATE_HZ", "make_track", "problem", "write"]

SAMPLE_RATE_HZ = 44100
DURATION_S = 8.0
PEAK_DBFS = -1.5


def _pink(rng: np.random.Generator, n: int) -> np.ndarray:
    # Paul Kellet's economy pink filter coefficients (a -3 dB/octave approximation).
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1.0, -2.494956002, 2.017265875, -0.522189400]
    out = signal.lfilter(b, a, rng.standard_normal(n))
    return out / np.std(out)


def _parts(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(low end (n,), stereo rest (n, 2)) before level normalisation."""
    rng = np.random.default_rng(seed)
    n = round(SAMPLE_RATE_HZ * DURATION_S)
    t = np.arange(n) / SAMPLE_RATE_HZ
    beat_t = t % 0.5
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-beat_t / 0.03)) * beat_t)
    kick *= np.exp(-beat_t / 0.12)
    bass = 0.5 * np.sin(2 * np.pi * 98 * t) * np.exp(-((t + 0.25) % 0.5) / 0.2)
    high_pass = signal.butter(4, 200, "hp", fs=SAMPLE_RATE_HZ, output="sos")
    p1 = signal.sosfilt(high_pass, _pink(rng, n))
    p2 = signal.sosfilt(high_pass, _pink(rng, n))
    p1, p2 = p1 / np.std(p1), p2 / np.std(p2)
    hat_filter = signal.butter(4, 7000, "hp", fs=SAMPLE_RATE_HZ, output="sos")
    hat = signal.sosfilt(hat_filter, rng.standard_normal(n)) * np.exp(-((t + 0.125) % 0.25) / 0.02)
    left = 0.25 * p1 + 0.15 * hat
    right = 0.25 * (0.6 * p1 + 0.8 * p2) + 0.15 * hat
    return 0.8 * kick + 0.5 * bass, np.stack([left, right], axis=1)


def _peak_normalise(frames: np.ndarray, peak_dbfs: float = PEAK_DBFS) -> np.ndarray:
    return frames * (10 ** (peak_dbfs / 20) / np.max(np.abs(frames)))


def make_track(seed: int = 0, *, gain_db: float = 0.0) -> np.ndarray:
    """The healthy track (peak -1.5 dBFS + ``gain_db``)."""
    low, rest = _parts(seed)
    return _peak_normalise(low[:, None] + rest, PEAK_DBFS + gain_db)


def problem(name: str, seed: int = 0) -> np.ndarray:
    """One of ``PROBLEMS`` made from the healthy track of ``seed``."""
    track = make_track(seed)
    if name == "too_quiet":
        return track * 10 ** (-14 / 20)
    if name == "clipping":
        return np.clip(track * 10 ** (12 / 20), -1.0, 1.0)
    if name == "narrow":
        mono = track.mean(axis=1, keepdims=True)
        return np.repeat(mono, 2, axis=1)
    if name == "low_end":
        low, rest = _parts(seed)
        return _peak_normalise(4.0 * low[:, None] + rest)
    if name == "phase_inverted":
        return track * np.array([1.0, -1.0])
    if name == "silent_channel":  # a mono source routed to the left only
        return track * np.array([1.0, 0.0])
    if name == "dc_offset":  # 5 % of full scale on both channels, peaks kept under full scale
        return _peak_normalise(track + 0.05) * 0.98
    raise ValueError(name)


PROBLEMS: tuple[str, ...] = (
    "too_quiet", "clipping", "narrow", "low_end", "phase_inverted", "silent_channel", "dc_offset",
)  # fmt: skip


def write(path: Path, frames: np.ndarray) -> Path:
    """A 16-bit WAV (so clipping shows as full-scale runs, as in a real export)."""
    sf.write(path, frames, SAMPLE_RATE_HZ, subtype="PCM_16")
    return path
