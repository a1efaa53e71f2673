"""Tonal balance: seven band levels, a 1/3-octave spectrum, centroid, rolloff, flatness, tilt.

Every level is relative to the track's own total power between 20 Hz and 20 kHz, so the same
track at another gain reads the same (the system this replaces measured absolute band densities
that moved with the file's gain). The spectrum is a Welch average (ANSI/ISO style periodogram
averaging): Hann frames of ~93 ms (4096 samples at 44.1/48 kHz) with 50 % overlap, each frame's
power averaged over the channels (what the speakers add up to; unlike a mono mix, an
out-of-phase pair does not cancel), from the streaming ``StftFramer`` that the tempo and key
meter shares.

Band power uses fractional bins: each FFT bin covers ``[f - df/2, f + df/2)`` and contributes the
part of its power that falls inside the band, so band edges need not sit on bins. Resolution is
~10.8 Hz at 44.1 kHz: below ~60 Hz a band holds only a few bins and Hann leakage (main lobe
+-2 bins) moves a little power across the 60 Hz edge; this is implementation-defined and the
same for every track, so comparisons between tracks are unaffected.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from soundy.analysis._stft import StftFramer, bin_frequencies_hz
from soundy.result import BANDS, BandLevel, Spectrum, ThirdOctaveLevel

if TYPE_CHECKING:
    from soundy.analysis.rhythm import RhythmMeter

__all__ = ["THIRD_OCTAVE_CENTERS_HZ", "SpectrumMeter"]

#: Nominal 1/3-octave centres (IEC 61260-1 base-10 series, 20 Hz to 20 kHz). Exact centres are
#: 1000 * 10^(n/10) Hz, edges centre * 10^(+-1/20).
THIRD_OCTAVE_CENTERS_HZ: tuple[float, ...] = (
    20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
    1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000,
)  # fmt: skip

TOTAL_LOW_HZ = 20.0
TOTAL_HIGH_HZ = 20000.0
ROLLOFF_FRACTION = 0.85
#: Relative levels are floored here (a band with no power at all reads this, not -inf).
LEVEL_FLOOR_DB = -120.0
#: The tilt fit uses the 1/3-octave bands whose centres lie in this range (Hz).
TILT_RANGE_HZ = (50.0, 16000.0)


def _overlap_weights(
    freqs_hz: np.ndarray, bin_hz: float, low_hz: float, high_hz: float
) -> np.ndarray:
    """Fraction of each bin's interval [f - df/2, f + df/2) that lies inside [low, high)."""
    lo = np.maximum(freqs_hz - bin_hz / 2, low_hz)
    hi = np.minimum(freqs_hz + bin_hz / 2, high_hz)
    weights: np.ndarray = np.clip(hi - lo, 0.0, None) / bin_hz
    return weights


class _Weights(NamedTuple):
    """The fixed part of the summary for one STFT: bin weights of every band (read-only)."""

    in_range: np.ndarray  # TOTAL_LOW_HZ..top: the total
    bands: tuple[np.ndarray | None, ...]  # per BANDS entry; None: starts at or above Nyquist
    third: tuple[tuple[np.ndarray | None, float, bool], ...]  # (weights, log2 centre, in tilt)
    centre_in: np.ndarray  # bins whose centres lie in TOTAL_LOW_HZ..top (flatness)


@functools.cache
def _weights(sample_rate_hz: float, n_fft: int) -> _Weights:
    """Band weights of an ``n_fft``-point spectrum at ``sample_rate_hz``, cached per process.

    They depend only on (rate, FFT length); making them for every analysis (39 bands) was a
    fixed cost that a short clip notices.
    """
    freqs = bin_frequencies_hz(sample_rate_hz, n_fft)
    nyquist_hz = sample_rate_hz / 2
    bin_hz = sample_rate_hz / n_fft
    top_hz = min(TOTAL_HIGH_HZ, nyquist_hz)

    def band(low_hz: float, high_hz: float) -> np.ndarray | None:
        if low_hz >= nyquist_hz:
            return None
        weights = _overlap_weights(freqs, bin_hz, low_hz, min(high_hz, nyquist_hz))
        weights.flags.writeable = False
        return weights

    third = []
    for n in range(-17, 14):
        centre = 1000.0 * 10.0 ** (n / 10)
        upper_edge_hz = centre * 10 ** (1 / 20)
        in_tilt = TILT_RANGE_HZ[0] <= centre <= TILT_RANGE_HZ[1] and upper_edge_hz <= nyquist_hz
        third.append((band(centre * 10 ** (-1 / 20), upper_edge_hz), math.log2(centre), in_tilt))
    in_range = _overlap_weights(freqs, bin_hz, TOTAL_LOW_HZ, top_hz)
    centre_in = (freqs >= TOTAL_LOW_HZ) & (freqs <= top_hz)
    in_range.flags.writeable = centre_in.flags.writeable = False
    return _Weights(
        in_range, tuple(band(low, high) for _, low, high in BANDS), tuple(third), centre_in
    )


def _level_db(power: float, total: float) -> float:
    if power <= 0.0:
        return LEVEL_FLOOR_DB
    return max(LEVEL_FLOOR_DB, 10.0 * math.log10(power / total))


class SpectrumMeter:
    """Streaming long-term spectrum (channel powers averaged).

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate in Hz.
    channels : int
        Channels in the blocks given to ``add_frames``.
    rhythm : RhythmMeter, optional
        A ``soundy.analysis.rhythm.RhythmMeter`` to feed: the same power spectra for its chroma
        (no second full-size STFT) and the frames for its onset envelope. That meter must then
        not be given frames itself.

    ``result()`` keys: ``bands`` (list of ``{key, low_hz, high_hz, level_db}``), ``third_octave``
    (list of ``{center_hz, level_db}``), ``centroid_hz``, ``rolloff_hz``, ``flatness``,
    ``tilt_db_per_octave``. All levels in dB relative to the total power 20 Hz-20 kHz; ``None``
    for silence, and for a band that starts at or above the Nyquist frequency.
    """

    def __init__(
        self, sample_rate_hz: float, channels: int, *, rhythm: RhythmMeter | None = None
    ) -> None:
        self._framer = StftFramer(sample_rate_hz, channels)
        self.sample_rate_hz = float(sample_rate_hz)
        self._power_sum = np.zeros(self._framer.n_bins, dtype=np.float64)
        self._rhythm = rhythm
        if rhythm is not None:
            rhythm.attach_to(self._framer)

    @property
    def framer(self) -> StftFramer:
        return self._framer

    def add_frames(self, frames: np.ndarray) -> None:
        """Add a block of samples, shape (n, channels), any n."""
        for power in self._framer.push(frames):
            self._add_power(power)
            if self._rhythm is not None:
                self._rhythm.add_power_spectra(power)
        if self._rhythm is not None:
            self._rhythm.add_onset_frames(frames)

    def _add_power(self, power: np.ndarray) -> None:
        self._power_sum += power.sum(axis=0, dtype=np.float64)

    def result(self) -> Spectrum:
        tail = self._framer.finish_frames()
        power_sum = self._power_sum + tail.sum(axis=0, dtype=np.float64)
        return self._summarise(power_sum)

    def _summarise(self, power_sum: np.ndarray) -> Spectrum:
        nyquist_hz = self.sample_rate_hz / 2
        freqs = self._framer.frequencies_hz
        bin_hz = self.sample_rate_hz / self._framer.n_fft
        top_hz = min(TOTAL_HIGH_HZ, nyquist_hz)
        fixed = _weights(self.sample_rate_hz, self._framer.n_fft)
        in_range = fixed.in_range
        total = float(in_range @ power_sum)
        silent = not total > 0.0

        def band_level(weights: np.ndarray | None) -> float | None:
            if silent or weights is None:
                return None
            return _level_db(float(weights @ power_sum), total)

        bands: list[BandLevel] = [
            {"key": key, "low_hz": low, "high_hz": high, "level_db": band_level(weights)}
            for (key, low, high), weights in zip(BANDS, fixed.bands, strict=True)
        ]
        third: list[ThirdOctaveLevel] = []
        tilt_x: list[float] = []
        tilt_y: list[float] = []
        for nominal, (weights, log2_centre, in_tilt) in zip(
            THIRD_OCTAVE_CENTERS_HZ, fixed.third, strict=True
        ):
            level = band_level(weights)
            third.append({"center_hz": float(nominal), "level_db": level})
            if level is not None and in_tilt and level > LEVEL_FLOOR_DB:
                tilt_x.append(log2_centre)
                tilt_y.append(level)

        if silent:
            return {
                "bands": bands,
                "third_octave": third,
                "centroid_hz": None,
                "rolloff_hz": None,
                "flatness": None,
                "tilt_db_per_octave": None,
            }

        weighted = in_range * power_sum
        centroid_hz = float(weighted @ freqs) / total
        cumulative = np.cumsum(weighted)
        k = int(np.searchsorted(cumulative, ROLLOFF_FRACTION * total))
        k = min(k, len(freqs) - 1)
        # Interpolate inside bin k: its power is spread evenly over [f - df/2, f + df/2).
        before = float(cumulative[k - 1]) if k > 0 else 0.0
        share = (ROLLOFF_FRACTION * total - before) / float(weighted[k]) if weighted[k] > 0 else 0.5
        rolloff_hz = float(freqs[k] - bin_hz / 2 + share * bin_hz)
        rolloff_hz = min(max(rolloff_hz, TOTAL_LOW_HZ), top_hz)

        # Spectral flatness (Wiener entropy) of the long-term spectrum: geometric over arithmetic
        # mean of the bins whose centres lie in 20 Hz-20 kHz.
        bins = power_sum[fixed.centre_in]
        floor = bins.max() * 1e-20
        flatness = float(np.exp(np.mean(np.log(np.maximum(bins, floor)))) / np.mean(bins))

        tilt = None
        if len(tilt_x) >= 3:
            tilt = float(np.polyfit(np.asarray(tilt_x), np.asarray(tilt_y), 1)[0])
        return {
            "bands": bands,
            "third_octave": third,
            "centroid_hz": centroid_hz,
            "rolloff_hz": rolloff_hz,
            "flatness": min(max(flatness, 0.0), 1.0),
            "tilt_db_per_octave": tilt,
        }
