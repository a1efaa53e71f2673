"""Test-signal generators for the analysis tests (importable: ``import signals``).

Every function returns float64 frames of shape (n, channels), full scale 1.0. Levels are peak
levels in dBFS for tones (as EBU Tech 3341/3342 state them) and RMS levels for noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "db_to_amplitude",
    "fade",
    "pink_noise",
    "silence",
    "sine",
    "tone_steps",
    "white_noise",
]


def db_to_amplitude(dbfs: float) -> float:
    """Linear amplitude of ``dbfs`` decibels relative to full scale."""
    return float(10.0 ** (dbfs / 20.0))


def sine(
    sample_rate_hz: float,
    duration_s: float,
    *,
    frequency_hz: float = 1000.0,
    peak_dbfs: float = 0.0,
    phase_rad: float = 0.0,
    channels: int = 2,
) -> np.ndarray:
    """The same sine on every channel: ``A sin(2 pi f t + phase)``, A from ``peak_dbfs``."""
    n = round(duration_s * sample_rate_hz)
    t = np.arange(n) / sample_rate_hz
    wave = db_to_amplitude(peak_dbfs) * np.sin(2.0 * np.pi * frequency_hz * t + phase_rad)
    return np.repeat(wave[:, None], channels, axis=1)


def tone_steps(
    sample_rate_hz: float,
    steps: Sequence[tuple[float | None, float]],
    *,
    frequency_hz: float = 1000.0,
    channels: int = 2,
) -> np.ndarray:
    """A continuous-phase sine whose peak level changes step by step.

    ``steps`` is ``[(peak_dbfs or None for silence, duration_s), ...]``; step boundaries are
    rounded to whole samples from the cumulative time, so durations add up exactly.
    """
    bounds = np.round(np.cumsum([0.0] + [d for _, d in steps]) * sample_rate_hz).astype(int)
    envelope = np.zeros(bounds[-1])
    for (level, _), lo, hi in zip(steps, bounds[:-1], bounds[1:], strict=True):
        if level is not None:
            envelope[lo:hi] = db_to_amplitude(level)
    t = np.arange(bounds[-1]) / sample_rate_hz
    wave = envelope * np.sin(2.0 * np.pi * frequency_hz * t)
    return np.repeat(wave[:, None], channels, axis=1)


def silence(sample_rate_hz: float, duration_s: float, channels: int = 2) -> np.ndarray:
    """Digital silence."""
    return np.zeros((round(duration_s * sample_rate_hz), channels))


def white_noise(
    sample_rate_hz: float,
    duration_s: float,
    *,
    rms_dbfs: float = -20.0,
    channels: int = 2,
    seed: int = 0,
) -> np.ndarray:
    """Independent Gaussian white noise per channel at ``rms_dbfs`` RMS."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * sample_rate_hz)
    return rng.standard_normal((n, channels)) * db_to_amplitude(rms_dbfs)


def pink_noise(
    sample_rate_hz: float,
    duration_s: float,
    *,
    rms_dbfs: float = -20.0,
    channels: int = 2,
    seed: int = 0,
) -> np.ndarray:
    """Independent pink (1/f power) noise per channel, shaped in the frequency domain."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * sample_rate_hz)
    spectrum = np.fft.rfft(rng.standard_normal((n, channels)), axis=0)
    freqs = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    scale = np.zeros_like(freqs)
    scale[1:] = 1.0 / np.sqrt(freqs[1:])
    x = np.fft.irfft(spectrum * scale[:, None], n=n, axis=0)
    x /= np.sqrt(np.mean(x**2, axis=0, keepdims=True))
    return x * db_to_amplitude(rms_dbfs)


def fade(frames: np.ndarray, sample_rate_hz: float, duration_s: float = 0.02) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of ``duration_s`` each (a copy)."""
    out = frames.copy()
    n = min(round(duration_s * sample_rate_hz), out.shape[0] // 2)
    if n:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
        out[:n] *= ramp[:, None]
        out[-n:] *= ramp[::-1, None]
    return out
