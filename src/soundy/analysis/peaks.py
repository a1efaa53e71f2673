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

Speed without approximation: interpolating every sample of a 4-minute stereo file costs about
a second in numpy. Instead every 64-sample segment (a divisor of the 100 ms hop near 64) gets
a cheap upper bound, and only what can matter is interpolated. Write each branch as its
two-point linear interpolation plus a remainder: a branch reproduces constants and ramps
(its zeroth and first moments are matched), so the remainder is a filter c_p applied to the
second difference d2[i] = x[i] - 2 x[i+1] + x[i+2], hence

    |y_p[n]| <= (|alpha_p| + |beta_p|) max(|x[n]|, |x[n+1]|) + ||c_p||_1 max |d2| (nearby)

(``kappa`` = 1.000, ``||c||_1`` = 0.392 for this filter at 4x). For music it is within tenths
of a dB of the sample peak. Hops of 100 ms then go through two rounds (see the comment at
:meth:`PeakMeter._round1`): what is interpolated is every interval whose bound exceeds the
smallest, over the 3 s windows containing it, of the window's best value found so far. So the
per-channel maximum and every 3 s window maximum (the short-term PSR) equal interpolating every
sample; tests/analysis/test_peaks.py checks both against brute force on random signals.
The two inner loops are C kernels (:mod:`soundy.analysis._kernels`, double precision): the
per-segment scan (max |x| and max |d2|) and the interpolation of a candidate segment, whole,
every branch. Cost on a 4-minute stereo 44.1 kHz file: see docs/measurements.md "C kernels".

Memory: per 100 ms hop and channel two floats, plus about 3 s of samples for the windows.
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from soundy.analysis._arrays import GrowableArray
from soundy.analysis._frames import as_frames
from soundy.analysis._kernels import interpolated_peaks, segment_scan, true_peak_max
from soundy.analysis._kweighting import gating_grid
from soundy.analysis.loudness import (
    ABSOLUTE_GATE_LUFS,
    LRA_RELATIVE_GATE_LU,
    LoudnessMeter,
    energy_to_lufs,
)
from soundy.errors import InvalidAudio

__all__ = [
    "INTERPOLATION_RADIUS",
    "KAISER_BETA",
    "PeakMeter",
    "TruePeakMax",
    "interpolation_phases",
    "oversampling_factor",
    "psr_max_db",
    "to_db",
]

INTERPOLATION_RADIUS = 12  # taps on each side: 24 taps per polyphase branch
KAISER_BETA = 8.0
_SEGMENT_TARGET = 64
_BOUND_SLACK = 1.0 + 1e-9  # covers float rounding in the bound's own arithmetic
_WINDOW_HOPS = 30  # 3 s of 100 ms hops: the short-term window of the PSR
# Intervals per bound of :class:`TruePeakMax` (any size gives the same maximum).
_MAX_SEGMENT = 64


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


@functools.cache
def _interpolator(factor: int, radius: int) -> tuple[np.ndarray, float, float]:
    """(read-only C-contiguous branches, kappa, c_norm) of the interpolator at ``factor``:
    computed once per process (the Kaiser window's Bessel series, ~1 ms, at every meter)."""
    phases = np.ascontiguousarray(interpolation_phases(factor, radius))
    phases.flags.writeable = False
    kappa, c_norm = _bound_constants(phases, radius) if factor > 1 else (1.0, 0.0)
    return phases, kappa, c_norm


def _segment_frames(hop_frames: int) -> int:
    divisors = [s for s in range(32, 129) if hop_frames % s == 0]
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
        self._phases, self._kappa, self._c_norm = _interpolator(self.factor, self._radius)
        hops = round(series_hop_s * self.sample_rate_hz / self._hop)
        if hops < 1:
            raise ValueError(f"series_hop_s {series_hop_s} is shorter than 100 ms")
        self._series_hops = int(hops)
        self.reset()

    def reset(self) -> None:
        """Forget all audio."""
        channels, per_hop = self.channels, self._hop // self._seg
        # Samples kept: self._store[:, :self._live] is frame self._buf_start onwards (extra
        # capacity after it so that appending rarely copies what is already there).
        # float32 while every block is float32 (exact copies; level-1 passes at half the
        # memory traffic), float64 from the first float64 block on.
        self._store = np.zeros((channels, 8 * self._hop), dtype=np.float32)
        self._live = self._seg
        self._buf_start = -self._seg
        self._frames = 0
        self._round1_hops = 0  # hops through round 1 (segment bounds, best segment settled)
        self._final_hops = 0  # hops settled for good; samples kept from the first pending one
        self._final = GrowableArray((2, channels))  # per settled hop: [sample, true] peak, linear
        # Pending hops [final_hops, round1_hops): sample peak, best so far, bounds, settled.
        self._p_sample = np.zeros((channels, 0))
        self._p_best = np.zeros((channels, 0))
        self._p_bound = np.zeros((channels, 0, per_hop))
        self._p_done = np.zeros((channels, 0, per_hop), dtype=bool)
        # Round-1 values of hops [lb1_start, round1_hops) for the window thresholds.
        self._lb1 = np.zeros((channels, 0))
        self._lb1_start = 0
        self._flushed: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def hop_s(self) -> float:
        """Step of :meth:`true_peak_series_dbtp`, in seconds."""
        return self._series_hops * self._hop / self.sample_rate_hz

    def add_frames(self, frames: np.ndarray) -> None:
        """Feed ``frames`` of shape (n, channels) (or (n,) for mono); full scale is 1.0.

        Raises :class:`soundy.errors.InvalidAudio` for NaN or infinite samples.
        """
        x = as_frames(frames, self.channels)
        if x.shape[0] == 0:
            return
        self._flushed = None
        n = x.shape[0]
        dtype = np.result_type(self._store.dtype, x.dtype, np.float32)
        if self._live + n > self._store.shape[1] or dtype != self._store.dtype:
            size = max(2 * (self._live + n), 8 * self._hop)
            store = np.empty((self.channels, size), dtype=dtype)
            store[:, : self._live] = self._store[:, : self._live]
            self._store = store
        self._store[:, self._live : self._live + n] = x.T
        self._live += n
        self._frames += x.shape[0]
        state = self._state()
        end = self._buf_start + self._buf.shape[1]
        hops = (end - self._round1_hops * self._hop - self._seg - 2) // self._hop
        if hops > 0:
            self._round1(state, self._buf, self._buf_start, hops, None)
        settle = state["round1_hops"] - (_WINDOW_HOPS - 1)
        if settle > state["final_hops"]:
            self._settle(state, self._buf, self._buf_start, settle, None)
        self._set_state(state)
        drop = self._final_hops * self._hop - self._seg - self._buf_start
        if drop > 0 and drop >= self._live - drop:  # compact once the dead part dominates
            self._store[:, : self._live - drop] = self._store[:, drop : self._live]
            self._live -= drop
            self._buf_start += drop

    @property
    def _buf(self) -> np.ndarray:
        """The samples kept, (channels, n), from absolute frame ``_buf_start``."""
        return self._store[:, : self._live]

    # ---------------------------------------------------------------- engine
    #
    # Hops of 100 ms go through two rounds. Round 1 (as soon as the hop's samples and a few
    # after it are in): the sample peak, a bound for every 64-sample segment, and the exact
    # interpolated peak of the segment with the largest bound: a lower bound ``lb1`` of the
    # hop's true peak. Round 2 (once the 29 hops after it have had round 1, or at the end):
    # every other segment whose bound exceeds the hop's threshold is settled. The threshold
    # is the smallest, over the 3 s windows (30 hops) that contain the hop, of the largest
    # ``lb1`` in the window; a value at or under it cannot change the maximum of any window
    # containing the hop. So every 3 s window maximum (PSR) and the file maximum per channel
    # are exactly those of interpolating every sample, each hop's value is exact wherever
    # it matters and a lower bound elsewhere, and all of it depends on the samples only.

    def _state(self) -> dict[str, Any]:
        return {
            "round1_hops": self._round1_hops,
            "final_hops": self._final_hops,
            "final": [],
            "sample": self._p_sample,
            "best": self._p_best,
            "bound": self._p_bound,
            "done": self._p_done,
            "lb1": self._lb1,
            "lb1_start": self._lb1_start,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self._round1_hops = state["round1_hops"]
        self._final_hops = state["final_hops"]
        for part in state["final"]:
            self._final.extend(part)
        self._p_sample = state["sample"]
        self._p_best = state["best"]
        self._p_bound = state["bound"]
        self._p_done = state["done"]
        self._lb1 = state["lb1"]
        self._lb1_start = state["lb1_start"]

    def _round1(
        self, state: dict[str, Any], buf: np.ndarray, buf_start: int, hops: int, limit: int | None
    ) -> None:
        """Round 1 for the next ``hops`` hops; ``limit``: absolute end of the audio."""
        seg, channels, per_hop = self._seg, self.channels, self._hop // self._seg
        nseg = hops * per_hop
        origin = state["round1_hops"] * self._hop - seg  # absolute frame of r[:, 0]
        r = buf[:, origin - buf_start : origin - buf_start + 2 * seg + hops * self._hop + 2]
        rel_limit = None if limit is None else limit - origin
        seg_max = np.empty((channels, nseg + 2))
        d2_max = np.empty((channels, nseg + 2)) if self.factor > 1 else None
        if not segment_scan(r, nseg + 2, seg, seg_max, d2_max):
            raise InvalidAudio("the audio contains NaN or infinite sample values")
        hop_sample = seg_max[:, 1 : nseg + 1].reshape(channels, hops, per_hop).max(axis=2)
        best = hop_sample.copy()
        bound = np.zeros((channels, nseg))
        done = np.ones((channels, nseg), dtype=bool)
        if d2_max is not None:
            next_first = np.abs(r[:, 2 * seg : (nseg + 1) * seg + 1 : seg], dtype=np.float64)
            amp = np.maximum(seg_max[:, 1 : nseg + 1], next_first)
            d2_near = np.maximum(np.maximum(d2_max[:, :-2], d2_max[:, 1:-1]), d2_max[:, 2:])
            bound = (self._kappa * amp + self._c_norm * d2_near) * _BOUND_SLACK
            starts = (np.arange(nseg) + 1) * seg  # index in r of each segment's first sample
            if rel_limit is not None:
                bound[:, starts >= rel_limit] = 0.0
            first = bound.reshape(channels, hops, per_hop).argmax(axis=2)
            first += np.arange(hops) * per_hop  # (channels, hops)
            done[:] = False
            done[np.arange(channels)[:, None], first] = True
            chan, hop_idx = np.nonzero(bound[np.arange(channels)[:, None], first] > hop_sample)
            if chan.size:
                segs = first[chan, hop_idx]
                found = self._refine(r, chan, starts[segs], rel_limit)
                np.maximum.at(best, (chan, hop_idx), found)
        state["sample"] = np.concatenate([state["sample"], hop_sample], axis=1)
        state["best"] = np.concatenate([state["best"], best], axis=1)
        shape = (channels, hops, per_hop)
        state["bound"] = np.concatenate([state["bound"], bound.reshape(shape)], axis=1)
        state["done"] = np.concatenate([state["done"], done.reshape(shape)], axis=1)
        state["lb1"] = np.concatenate([state["lb1"], best], axis=1)
        state["round1_hops"] = state["round1_hops"] + hops

    def _settle(
        self, state: dict[str, Any], buf: np.ndarray, buf_start: int, upto: int, total: int | None
    ) -> None:
        """Round 2 for pending hops below ``upto``. ``total``: the number of hops of the whole
        audio when it has ended (windows are then cut at the end), else None."""
        seg, channels, per_hop = self._seg, self.channels, self._hop // self._seg
        first_hop = state["final_hops"]
        count = upto - first_hop
        lb1, lb1_start = state["lb1"], state["lb1_start"]
        known = state["round1_hops"]
        # Largest lb1 of each window [w, w + 30) for w in [max(0, first - 29), upto).
        w_lo = max(0, first_hop - (_WINDOW_HOPS - 1))
        padded = np.zeros((channels, (upto - w_lo) + _WINDOW_HOPS - 1))
        avail = lb1[:, w_lo - lb1_start : known - lb1_start]
        padded[:, : avail.shape[1]] = avail[:, : padded.shape[1]]
        window_max = sliding_window_view(padded, _WINDOW_HOPS, axis=1).max(axis=2)
        window_max = window_max[:, : upto - w_lo]
        # Threshold of hop h: the smallest window_max over windows w in [h - 29, h], w >= 0.
        lead = first_hop - w_lo  # number of windows before first_hop considered
        pad = np.full((channels, (_WINDOW_HOPS - 1) - lead), np.inf)
        series = np.concatenate([pad, window_max], axis=1)
        thresholds = sliding_window_view(series, _WINDOW_HOPS, axis=1).min(axis=2)
        thresholds = thresholds[:, :count]  # (channels, count)
        # At the end, windows past the last hop hold zeros: lower thresholds, still exact.
        best = state["best"][:, :count].copy()
        if self.factor > 1 and count > 0:
            bound = state["bound"][:, :count].reshape(channels, count * per_hop)
            done = state["done"][:, :count].reshape(channels, count * per_hop)
            floors = np.maximum(thresholds, best)  # (channels, count)
            hop_of = np.arange(count * per_hop) // per_hop
            chan, segs = np.nonzero(~done & (bound > floors[:, hop_of]))
            if chan.size:
                origin = first_hop * self._hop - seg  # absolute frame of r[:, 0]
                r = buf[:, origin - buf_start :]
                starts = seg + segs * seg
                rel_limit = None
                if total is not None:
                    rel_limit = self._frames - origin
                found = self._refine(r, chan, starts, rel_limit)
                np.maximum.at(best, (chan, hop_of[segs]), found)
        state["final"].append(np.stack([state["sample"][:, :count].T, best.T], axis=1))
        state["final_hops"] = upto
        for key in ("sample", "best", "bound", "done"):
            state[key] = state[key][:, count:]
        drop = max(0, upto - (_WINDOW_HOPS - 1) - lb1_start)
        state["lb1"] = lb1[:, drop:]
        state["lb1_start"] = lb1_start + drop

    def _refine(
        self, r: np.ndarray, chan: np.ndarray, starts: np.ndarray, limit: int | None
    ) -> np.ndarray:
        """Largest interpolated |value| in each given segment, every branch, shape (n,).

        Segment i is channel ``chan[i]`` from index ``starts[i]`` of ``r``; intervals at or
        after ``limit`` are ignored. Computed by the C kernel ``interpolated_peaks`` in double
        precision (each branch value sums its 24 taps in order).
        """
        out = np.empty(starts.size)
        interpolated_peaks(
            r,
            np.ascontiguousarray(chan, dtype=np.int64),
            np.ascontiguousarray(starts, dtype=np.int64),
            self._seg,
            self._phases,
            sys.maxsize if limit is None else limit,
            out,
        )
        return out

    def _all_hop_peaks(self) -> tuple[np.ndarray, np.ndarray]:
        """((hops, 2, channels) [sample, hop true] peaks, (channels,) true peaks), linear,
        the audio taken to end here (the unfinished hop included)."""
        if self._flushed is not None:
            return self._flushed
        state = self._state()
        state["final"] = []
        end = self._frames
        total = -(-end // self._hop)
        buf = self._buf
        need = (total + 1) * self._hop + 2 * self._seg + 2 - self._buf_start
        if need > buf.shape[1]:
            pad = np.zeros((self.channels, need - buf.shape[1]), dtype=buf.dtype)
            buf = np.concatenate([buf, pad], axis=1)
        remaining = total - self._round1_hops
        if remaining > 0:
            self._round1(state, buf, self._buf_start, remaining, end)
        if total > self._final_hops:
            self._settle(state, buf, self._buf_start, total, total)
        parts = [self._final.view(), *state["final"]]
        hop_peaks = np.concatenate(parts, axis=0)
        peaks = hop_peaks[:, 1, :].max(axis=0, initial=0.0)
        self._flushed = (hop_peaks, peaks)
        return self._flushed

    def sample_peak_dbfs(self) -> list[float | None]:
        """Largest absolute sample per channel in dBFS; None for digital silence."""
        hop_peaks, _ = self._all_hop_peaks()
        if hop_peaks.shape[0] == 0:
            return [None] * self.channels
        return [to_db(float(v)) for v in hop_peaks[:, 0, :].max(axis=0)]

    def true_peak_dbtp(self) -> list[float | None]:
        """True peak per channel in dBTP (BS.1770-4 Annex 2); None for digital silence.

        Equal to interpolating every sample (the shortcut is exact) and never below
        :meth:`sample_peak_dbfs`. Implementation-defined: see the module docs.
        """
        _, peaks = self._all_hop_peaks()
        return [to_db(float(v)) for v in peaks]

    def hop_true_peaks(self) -> np.ndarray:
        """True peak of every 100 ms hop (the last may be partial), max over channels, linear.

        Shape (hops,); hop ``j`` covers ``[j, j + 1) * 0.1 s`` (the loudness gating hops).
        The maximum over any 30 consecutive hops (3 s) is exact; a single hop's value is exact
        whenever it is the largest of some such window, and otherwise a lower bound that is
        never below the hop's sample peak. It depends on the samples only, not on how the
        input was split.
        """
        hop_peaks, _ = self._all_hop_peaks()
        return hop_peaks[:, 1, :].max(axis=1) if hop_peaks.shape[0] else np.zeros(0)

    def true_peak_series_dbtp(self) -> np.ndarray:
        """True peak (dBTP, max over channels) of each ``hop_s`` step; the last may be partial.

        Built from :meth:`hop_true_peaks`: a step's value is exact when it holds the maximum
        of some 3 s window, otherwise a lower bound not below the step's sample peak.

        Digital silence is ``-inf`` (never NaN); the caller turns it into null for JSON.
        """
        hops = self.hop_true_peaks()
        k = self._series_hops
        groups = -(-hops.size // k)
        padded = np.zeros(groups * k)
        padded[: hops.size] = hops
        with np.errstate(divide="ignore"):
            series: np.ndarray = 20.0 * np.log10(padded.reshape(groups, k).max(axis=1))
        return series


class TruePeakMax:
    """The largest true peak of a stream over all its channels, and nothing else.

    The value of ``max(PeakMeter.true_peak_dbtp())`` (the same filter and the same sums, the
    same exact shortcut; tests/analysis/test_peaks.py compares them) without its per-hop
    values, series or per-channel peaks: the meter of the limiter's output (Spotify's Loud
    mode, :mod:`soundy.analysis.playback`), where only the file's maximum is reported. The
    frames stay interleaved (no copy per channel); a segment of 64 intervals is interpolated
    only when its bound passes the best value found so far, which on limited music leaves a
    few per cent of them. Keeps 2 x 12 frames between calls.
    """

    def __init__(self, sample_rate_hz: float, channels: int) -> None:
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        self.channels = int(channels)
        factor = oversampling_factor(float(sample_rate_hz))
        self._radius = INTERPOLATION_RADIUS
        self._phases, self._kappa, self._c_norm = _interpolator(factor, self._radius)
        # Frames whose intervals are not scanned yet, after R - 1 frames of what precedes
        # them (zeros before the start, BS.1770-4 Annex 2 as in PeakMeter).
        self._pending = np.zeros((self._radius - 1, self.channels))
        self._best = np.zeros(1)

    def _scan(self, frames: np.ndarray, best: np.ndarray) -> int:
        """Fold the intervals of ``frames`` that have their R - 1 frames before and R after
        into ``best``; returns the index of the first one left."""
        first = self._radius - 1
        stop = max(first, int(frames.shape[0]) - self._radius)
        if stop > first and not true_peak_max(
            frames, first, stop, _MAX_SEGMENT, self._phases, self._kappa, self._c_norm,
            _BOUND_SLACK, best,
        ):  # fmt: skip
            raise InvalidAudio("the audio contains NaN or infinite sample values")
        return stop

    def add_frames(self, frames: np.ndarray) -> None:
        """Feed ``frames`` of shape (n, channels) (or (n,) for mono); full scale is 1.0."""
        x = np.ascontiguousarray(as_frames(frames, self.channels), dtype=np.float64)
        n, edge = x.shape[0], 2 * self._radius - 1
        if n < edge:
            joined = np.concatenate([self._pending, x])
            left = self._scan(joined, self._best)
            self._pending = joined[left - (self._radius - 1) :]
            return
        # The intervals across the join, then those inside the block, in place.
        self._scan(np.concatenate([self._pending, x[:edge]]), self._best)
        self._scan(x, self._best)
        self._pending = x[n - edge :].copy()

    def true_peak_dbtp(self) -> float | None:
        """The largest true peak so far over all channels, dBTP; None for digital silence."""
        best = self._best.copy()
        # The last frames: the sample after the end (and the taps past it) count as zero.
        self._scan(np.concatenate([self._pending, np.zeros((self._radius, self.channels))]), best)
        return to_db(float(best[0]))


def psr_max_db(loudness: object, peaks: PeakMeter) -> float | None:
    """Largest short-term peak-to-loudness ratio in dB over the file.

    For every 3 s window ending on a 100 ms hop: the true peak inside the window (dBTP, any
    channel) minus its short-term loudness (LUFS). Windows are gated as for the loudness range
    (EBU Tech 3342: at or above -70 LUFS and at or above the power mean of those minus 20 LU)
    so that fades and pauses, whose tiny loudness would make any ratio large, do not decide it.
    None for audio shorter than 3 s or silent.

    ``loudness`` is the :class:`~soundy.analysis.loudness.LoudnessMeter` fed the same frames.
    """
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
