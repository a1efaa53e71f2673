"""Sample peak and true peak per channel (ITU-R BS.1770-4/5 Annex 2), streaming and exact.

True peak is the largest absolute value of the signal reconstructed between the samples. As in
BS.1770-4 Annex 2 it is estimated by oversampling: 4x below 96 kHz, 2x below 192 kHz, none
from 192 kHz (the rates the Annex names). **The figure is implementation-defined**: the Annex
gives an example filter and a tolerance, not a single algorithm, so two conforming meters
differ by a few hundredths of a dB on ordinary music and by more near the Nyquist frequency.

The interpolation filter here is a Kaiser-windowed sinc (beta = 8, 24 taps per phase,
cut-off at the original Nyquist frequency), one polyphase branch per fractional position
p/M, each branch normalised to unit DC gain. The phase at the sample instants is the identity,
so the true peak is never below the sample peak (BS.1770-4 Annex 2 note). Samples before the
start count as zero, and so does the one sample after the end that the last interval needs.

Speed without approximation: computing every interpolated value of a 4-minute stereo file
would take about a second in numpy. Instead each 64-sample segment gets a cheap upper bound,
and only segments whose bound can beat their hop's best value are interpolated. Write each
branch as its two-point linear interpolation plus a remainder: since a branch reproduces
constants and ramps (zero-th and first moments matched), the remainder is a filter c_p applied
to the second difference d2[i] = x[i] - 2 x[i+1] + x[i+2], hence

    |y_p[n]| <= (|alpha_p| + |beta_p|) max(|x[n]|, |x[n+1]|) + ||c_p||_1 max |d2| (nearby)

which for music is within a few tenths of a dB of the sample peak. The result equals the
brute-force computation (tests/analysis/test_peaks.py checks it on random signals).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from soundy.analysis._kweighting import gating_grid
from soundy.errors import InvalidAudio

__all__ = [
    "INTERPOLATION_RADIUS",
    "KAISER_BETA",
    "PeakMeter",
    "interpolation_phases",
    "oversampling_factor",
    "psr_max_db",
    "to_db",
]

INTERPOLATION_RADIUS = 12  # taps on each side: 24 taps per polyphase branch
KAISER_BETA = 8.0
_SEGMENT_TARGET = 64
_BATCH_SEGMENTS = 1024
_BOUND_SLACK = 1.0 + 1e-9  # covers float rounding in the bound's own arithmetic


def to_db(linear: float) -> float | None:
    """``20 log10(linear)`` in dB, or None for 0 (digital silence)."""
    if not linear > 0.0:
        return None
    return 20.0 * math.log10(linear)


def oversampling_factor(sample_rate_hz: float) -> int:
    """4 below 96 kHz, 2 below 192 kHz, else 1 (BS.1770-4 Annex 2)."""
    if sample_rate_hz < 96000:
        return 4
    if sample_rate_hz < 192000:
        return 2
    return 1


def interpolation_phases(factor: int, radius: int = INTERPOLATION_RADIUS) -> np.ndarray:
    """Polyphase branches 1..factor-1 of the interpolator, shape (2 * radius, factor - 1).

    Column ``p - 1`` holds the taps for the value at ``n + p / factor``, applied to samples
    ``x[n - radius + 1 .. n + radius]``: ``h(t) = sinc(t) w(t)`` at ``t = j - p / factor`` with
    ``w`` a Kaiser window of half-width ``radius``, normalised to a sum of 1.
    """
    j = np.arange(-radius + 1, radius + 1, dtype=np.float64)
    columns = []
    for p in range(1, factor):
        t = j - p / factor
        h = np.sinc(t) * np.i0(KAISER_BETA * np.sqrt(1.0 - (t / radius) ** 2))
        columns.append(h / h.sum())
    return np.array(columns, dtype=np.float64).T.reshape(2 * radius, factor - 1)


def _bound_constants(phases: np.ndarray, radius: int) -> tuple[float, float]:
    """``(kappa, c_norm)``: |y| <= kappa max|x| (two nearest) + c_norm max|d2| (see module)."""
    j = np.arange(-radius + 1, radius + 1, dtype=np.float64)
    kappa = 0.0
    c_norm = 0.0
    for h in phases.T:
        m0 = float(h.sum())
        beta = float((j * h).sum())
        alpha = m0 - beta
        g = h.copy()
        g[radius - 1] -= alpha  # j = 0
        g[radius] -= beta  # j = 1
        c = np.zeros(2 * radius - 2)
        for k in range(2 * radius - 2):
            c[k] = g[k] + (2.0 * c[k - 1] if k >= 1 else 0.0) - (c[k - 2] if k >= 2 else 0.0)
        residual = max(abs(g[-2] + 2.0 * c[-1] - c[-2]), abs(g[-1] - c[-1]))
        if residual > 1e-12:  # pragma: no cover - guards the algebra above
            raise AssertionError(f"second-difference decomposition failed ({residual})")
        kappa = max(kappa, abs(alpha) + abs(beta))
        c_norm = max(c_norm, float(np.abs(c).sum()))
    return kappa, c_norm


def _segment_frames(hop_frames: int) -> int:
    divisors = [s for s in range(16, 129) if hop_frames % s == 0]
    if not divisors:
        return hop_frames
    return min(divisors, key=lambda s: abs(s - _SEGMENT_TARGET))


class PeakMeter:
    """Streaming sample peak and true peak per channel, and a true-peak series.

    Parameters
    ----------
    sample_rate_hz : float
        Sampling rate in Hz.
    channels : int
        Number of channels in the frames given to :meth:`add_frames`.
    series_hop_s : float
        Step of :meth:`true_peak_series_dbtp` in seconds, rounded to whole 100 ms hops.

    The meter keeps one value per channel per 100 ms hop (the grid of
    :class:`~soundy.analysis.loudness.LoudnessMeter`, for the PSR) and less than one hop of
    samples.
    """

    def __init__(self, sample_rate_hz: float, channels: int, *, series_hop_s: float = 0.1) -> None:
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = int(channels)
        self._hop, _ = gating_grid(self.sample_rate_hz)
        self._seg = _segment_frames(self._hop)
        self.factor = oversampling_factor(self.sample_rate_hz)
        self._radius = INTERPOLATION_RADIUS
        self._phases = interpolation_phases(self.factor, self._radius)
        if self.factor > 1:
            self._kappa, self._c_norm = _bound_constants(self._phases, self._radius)
        else:
            self._kappa, self._c_norm = 1.0, 0.0
        hops = round(series_hop_s * self.sample_rate_hz / self._hop)
        if hops < 1:
            raise ValueError(f"series_hop_s {series_hop_s} is shorter than 100 ms")
        self._series_hops = int(hops)
        self.reset()

    def reset(self) -> None:
        """Forget all audio."""
        self._buf = np.zeros((self.channels, self._seg))  # starts at absolute index -seg
        self._buf_start = -self._seg
        self._next = 0  # absolute index of the first unprocessed hop
        self._hop_peaks: list[np.ndarray] = []  # (hops, 2, channels): [sample, true] linear
        self._frames = 0
        self._flushed: np.ndarray | None = None

    @property
    def hop_s(self) -> float:
        """Step of :meth:`true_peak_series_dbtp`, in seconds."""
        return self._series_hops * self._hop / self.sample_rate_hz

    def add_frames(self, frames: np.ndarray) -> None:
        """Feed ``frames`` of shape (n, channels) (or (n,) for mono); full scale is 1.0."""
        x = np.asarray(frames)
        if x.ndim == 1 and self.channels == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise ValueError(f"frames must have shape (n, {self.channels}), got {x.shape}")
        if x.shape[0] == 0:
            return
        self._flushed = None
        self._buf = np.concatenate([self._buf, x.T.astype(np.float64)], axis=1)
        self._frames += x.shape[0]
        end = self._buf_start + self._buf.shape[1]
        hops = (end - self._next - self._seg - 2) // self._hop
        if hops <= 0:
            return
        offset = self._next - self._seg - self._buf_start
        length = 2 * self._seg + hops * self._hop + 2
        peaks = self._process(self._buf[:, offset : offset + length], hops, None)
        self._hop_peaks.append(peaks)
        self._next += hops * self._hop
        keep = self._next - self._seg - self._buf_start
        self._buf = self._buf[:, keep:].copy()
        self._buf_start += keep

    # ---------------------------------------------------------------- engine

    def _process(self, r: np.ndarray, hops: int, limit: int | None) -> np.ndarray:
        """Peaks of ``hops`` hops; ``r`` (channels, 2 seg + hops hop + 2) starts one segment
        before the first hop. ``limit``: intervals at or after this index of ``r`` are past the
        end of the audio and ignored. Returns (hops, 2, channels) [sample peak, true peak]."""
        seg = self._seg
        per_hop = self._hop // seg
        nseg = hops * per_hop
        out = np.zeros((hops, 2, self.channels))
        for c in range(self.channels):
            x = r[c]
            ax = np.abs(x)
            seg_max = ax[: (nseg + 2) * seg].reshape(nseg + 2, seg).max(axis=1)
            if not np.all(np.isfinite(seg_max)):
                raise InvalidAudio("the audio contains NaN or infinite sample values")
            hop_sample = seg_max[1 : nseg + 1].reshape(hops, per_hop).max(axis=1)
            out[:, 0, c] = hop_sample
            best = hop_sample.copy()
            if self.factor > 1:
                self._true_peaks(x, ax, seg_max, nseg, per_hop, best, limit)
            out[:, 1, c] = best
        return out

    def _true_peaks(
        self,
        x: np.ndarray,
        ax: np.ndarray,
        seg_max: np.ndarray,
        nseg: int,
        per_hop: int,
        best: np.ndarray,
        limit: int | None,
    ) -> None:
        """Raise ``best`` (one value per hop) to each hop's true peak, in place."""
        seg = self._seg
        amp = np.maximum(seg_max[1 : nseg + 1], ax[2 * seg : (nseg + 1) * seg + 1 : seg])
        d2 = x[:-2] - 2.0 * x[1:-1] + x[2:]
        d2_max = np.abs(d2[: (nseg + 2) * seg]).reshape(nseg + 2, seg).max(axis=1)
        d2_near = np.maximum(np.maximum(d2_max[:-2], d2_max[1:-1]), d2_max[2:])
        bound = (self._kappa * amp + self._c_norm * d2_near) * _BOUND_SLACK
        starts = (np.arange(nseg) + 1) * seg  # index in x of each segment's first sample
        if limit is not None:
            bound[starts >= limit] = 0.0
        hop_of = np.arange(nseg) // per_hop
        done = np.zeros(nseg, dtype=bool)
        # Round 1: the most promising segment of every hop; round 2: all that can still win.
        first = bound.reshape(-1, per_hop).argmax(axis=1) + np.arange(best.size) * per_hop
        first = first[bound[first] > best]
        for chosen in (first, None):
            if chosen is None:
                chosen = np.flatnonzero(~done & (bound > best[hop_of]))
            if chosen.size == 0:
                continue
            done[chosen] = True
            peaks = self._exact(x, starts[chosen], limit)
            np.maximum.at(best, hop_of[chosen], peaks)

    def _exact(self, x: np.ndarray, starts: np.ndarray, limit: int | None) -> np.ndarray:
        """Largest interpolated |value| in each segment (all branches), shape (len(starts),)."""
        seg, radius = self._seg, self._radius
        offsets = np.arange(-radius + 1, seg + radius)
        result = np.empty(starts.size)
        for lo in range(0, starts.size, _BATCH_SEGMENTS):
            s = starts[lo : lo + _BATCH_SEGMENTS]
            windows = x[s[:, None] + offsets]  # (k, seg + 2 radius - 1)
            taps = sliding_window_view(windows, 2 * radius, axis=1)  # (k, seg, 2 radius)
            y = np.abs(taps.reshape(-1, 2 * radius) @ self._phases).max(axis=1)
            y = y.reshape(s.size, seg)
            if limit is not None:
                y[(s[:, None] + np.arange(seg)) >= limit] = 0.0
            result[lo : lo + s.size] = y.max(axis=1)
        return result

    def _all_hop_peaks(self) -> np.ndarray:
        """(hops, 2, channels) linear [sample, true] peaks, the unfinished hop included."""
        if self._flushed is not None:
            return self._flushed
        parts = list(self._hop_peaks)
        end = self._buf_start + self._buf.shape[1]
        remaining = end - self._next
        if remaining > 0:
            hops = -(-remaining // self._hop)
            offset = self._next - self._seg - self._buf_start
            need = 2 * self._seg + hops * self._hop + 2
            r = self._buf[:, offset:]
            r = np.concatenate([r, np.zeros((self.channels, need - r.shape[1]))], axis=1)
            parts.append(self._process(r, hops, self._seg + remaining))
        if parts:
            self._flushed = np.concatenate(parts, axis=0)
        else:
            self._flushed = np.zeros((0, 2, self.channels))
        return self._flushed

    # --------------------------------------------------------------- results

    def sample_peak_dbfs(self) -> list[float | None]:
        """Largest absolute sample per channel in dBFS; None for digital silence."""
        peaks = self._all_hop_peaks()
        if peaks.shape[0] == 0:
            return [None] * self.channels
        return [to_db(float(v)) for v in peaks[:, 0, :].max(axis=0)]

    def true_peak_dbtp(self) -> list[float | None]:
        """True peak per channel in dBTP (BS.1770-4 Annex 2); None for digital silence.

        Never below :meth:`sample_peak_dbfs`. Implementation-defined: see the module docs.
        """
        peaks = self._all_hop_peaks()
        if peaks.shape[0] == 0:
            return [None] * self.channels
        return [to_db(float(v)) for v in peaks[:, 1, :].max(axis=0)]

    def hop_true_peaks(self) -> np.ndarray:
        """Linear true peak of every 100 ms hop (the last may be partial), max over channels.

        Shape (hops,); hop ``j`` covers ``[j, j + 1) * 0.1 s`` (the loudness gating hops).
        """
        peaks = self._all_hop_peaks()
        return peaks[:, 1, :].max(axis=1) if peaks.shape[0] else np.zeros(0)

    def true_peak_series_dbtp(self) -> np.ndarray:
        """True peak (dBTP, max over channels) of each ``hop_s`` step; the last may be partial.

        Digital silence is ``-inf`` (never NaN); the caller turns it into null for JSON.
        """
        hops = self.hop_true_peaks()
        k = self._series_hops
        groups = -(-hops.size // k)
        padded = np.zeros(groups * k)
        padded[: hops.size] = hops
        with np.errstate(divide="ignore"):
            return 20.0 * np.log10(padded.reshape(groups, k).max(axis=1))


def psr_max_db(loudness: object, peaks: PeakMeter) -> float | None:
    """Largest short-term peak-to-loudness ratio in dB over the file.

    For every 3 s window ending on a 100 ms hop: the true peak inside the window (dBTP, any
    channel) minus its short-term loudness (LUFS). Windows are gated as for the loudness range
    (EBU Tech 3342: at or above -70 LUFS and at or above the power mean of those minus 20 LU)
    so that fades and pauses, whose tiny loudness would make any ratio large, do not decide it.
    None for audio shorter than 3 s or silent.

    ``loudness`` is the :class:`~soundy.analysis.loudness.LoudnessMeter` fed the same frames.
    """
    from soundy.analysis.loudness import (
        ABSOLUTE_GATE_LUFS,
        LRA_RELATIVE_GATE_LU,
        LoudnessMeter,
        energy_to_lufs,
    )

    if not isinstance(loudness, LoudnessMeter):
        raise TypeError("loudness must be a LoudnessMeter")
    energies = loudness.short_term_hop_energies()
    hop_peaks = peaks.hop_true_peaks()
    width = 30
    n = min(energies.size, hop_peaks.size - width + 1)
    if n <= 0:
        return None
    energies = energies[:n]
    window_peaks = sliding_window_view(hop_peaks, width).max(axis=1)[:n]
    absolute = 10.0 ** ((ABSOLUTE_GATE_LUFS + 0.691) / 10.0)
    keep = energies >= absolute
    if not keep.any():
        return None
    relative = float(np.mean(energies[keep])) * 10.0 ** (LRA_RELATIVE_GATE_LU / 10.0)
    keep &= (energies >= relative) & (window_peaks > 0.0)
    if not keep.any():
        return None
    psr = 20.0 * np.log10(window_peaks[keep]) - energy_to_lufs(energies[keep])
    return float(psr.max())
