"""Stereo image: correlation (whole track and series), width, balance and mono-fold loss.

Definitions (L, R = the first two channels; for 5.1/7.1 these are the front left and right):

- ``correlation``: Pearson correlation of L and R over the whole track, -1..1 (1 = mono, 0 =
  unrelated, -1 = one channel is the other inverted). The series value at each hop is the same
  quantity over the last ``window_s`` (default 0.4 s, the momentary-loudness window).
- ``width``: side/mid energy ratio ``E[S^2] / E[M^2]`` with ``M = (L + R) / 2`` and
  ``S = (L - R) / 2``: 0 = mono, 1 = two unrelated channels of equal level, above 1 = more
  side than mid (phase problems). For equal-level channels with correlation r it is
  (1 - r) / (1 + r). Limited to 10^7 (70 dB) when the mid cancels completely (L = -R), so
  that ``10 log10(width)`` and ``mono_loss_lu = 10 log10(1 + width)`` stay finite.
- ``balance_db``: left minus right channel loudness in dB, ``10 log10(E[L^2] / E[R^2])`` of the
  K-weighted signals (ITU-R BS.1770 channel energies) when the caller passes them to
  ``add_frames``, else of the plain samples. Limited to +-70 dB (a silent channel).
- ``mono_loss_lu``: how much quieter the track gets when folded to mono ``(L + R) / 2`` and
  played on both speakers: ``10 log10((E[L^2] + E[R^2]) / (2 E[M^2]))`` (BS.1770 loudness
  difference, K-weighted as for the balance). 0 for a mono track, ~3 LU for two unrelated
  channels; limited to 70 LU (the fold cancels completely, e.g. L = -R: the fold is below the
  BS.1770 absolute gate of -70 LUFS whatever the track's level).

All values are ``None`` for a mono file, and for silence (no energy in either channel).
Memory: one float32 series value per hop (0.1 s): 0.15 MB for an hour.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from soundy.analysis._frames import as_frames
from soundy.analysis._kernels import stereo_sums
from soundy.result import Stereo

__all__ = ["MONO_LOSS_LIMIT_LU", "WIDTH_LIMIT", "StereoMeter"]

MONO_LOSS_LIMIT_LU = 70.0
#: Side/mid energy ratio reported when the mid cancels (10^7: 70 dB, as the mono loss limit).
WIDTH_LIMIT = 1e7
BALANCE_LIMIT_DB = 70.0

# Per-hop sums, one column each: L, R, LL, RR, LR, then LL, RR, LR of the weighted signals.
_SL, _SR, _LL, _RR, _LR, _WLL, _WRR, _WLR = range(8)


def _pearson(n: float, s: np.ndarray) -> float | None:
    var_l = s[_LL] - s[_SL] * s[_SL] / n
    var_r = s[_RR] - s[_SR] * s[_SR] / n
    if not (var_l > 0.0 and var_r > 0.0):
        return None
    value = (s[_LR] - s[_SL] * s[_SR] / n) / math.sqrt(var_l * var_r)
    return min(1.0, max(-1.0, float(value)))


class StereoMeter:
    """Streaming stereo measures of the first two channels.

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate in Hz.
    channels : int
        Channels in the blocks given to ``add_frames`` (``None`` results when 1).
    hop_s : float
        Hop of the correlation series in seconds (default 0.1, as the loudness series).
    window_s : float
        Window of each series value in seconds (default 0.4, a whole number of hops).

    ``result()`` keys: ``correlation``, ``width``, ``balance_db``, ``mono_loss_lu`` (the
    ``stereo`` section). ``series()`` gives ``{"hop_s", "correlation"}`` (a list with one value
    per complete hop, ``None`` where the window is silent; ``None`` for mono).
    """

    def __init__(
        self,
        sample_rate_hz: float,
        channels: int,
        *,
        hop_s: float = 0.1,
        window_s: float = 0.4,
    ) -> None:
        if sample_rate_hz <= 0 or channels < 1:
            raise ValueError("sample_rate_hz must be positive and channels at least 1")
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = channels
        self.hop = max(1, round(hop_s * sample_rate_hz))
        self.hop_s = self.hop / self.sample_rate_hz
        self.window_hops = max(1, round(window_s / self.hop_s))
        self._stereo = channels >= 2
        self._partial = np.zeros(8, dtype=np.float64)  # sums of the incomplete hop
        self._partial_frames = 0
        self._totals = np.zeros(8, dtype=np.float64)  # sums over all complete hops
        self._hops = 0
        self._recent = np.zeros((0, 8), dtype=np.float64)  # the last window_hops - 1 hops
        self._series: list[np.ndarray] = []  # float32 correlation per hop, NaN = silent
        self._weighted_given: bool | None = None

    def add_frames(self, frames: np.ndarray, k_weighted: np.ndarray | None = None) -> None:
        """Add a block, shape (n, channels), any n.

        ``k_weighted``: the same block after the BS.1770 K-weighting filter (same shape), if the
        caller has it; then ``balance_db`` and ``mono_loss_lu`` are loudness differences. Give
        it for every block or for none.
        """
        block = as_frames(frames, self.channels)
        if self._weighted_given is None:
            self._weighted_given = k_weighted is not None
        elif self._weighted_given != (k_weighted is not None):
            raise ValueError("give k_weighted for every block or for none")
        if not self._stereo:
            return
        weighted = None
        if k_weighted is not None:
            weighted = np.asarray(k_weighted)
            if weighted.shape != block.shape:
                raise ValueError("k_weighted must have the shape of frames")
            weighted = np.ascontiguousarray(weighted, dtype=np.float64)
        block = np.ascontiguousarray(block)
        if block.dtype not in (np.float32, np.float64):
            block = block.astype(np.float64)
        # Per-hop sums in one C pass, double precision, carried across blocks (hop grid fixed
        # by the absolute sample position: the same additions whatever the block split).
        rows = np.empty(((self._partial_frames + block.shape[0]) // self.hop, 8))
        done, self._partial_frames = stereo_sums(
            block, weighted, self.hop, self._partial, self._partial_frames, rows
        )
        if done:
            self._add_hops(rows[:done])

    def sums_buffers(self, frames: int) -> tuple[int, np.ndarray, int, np.ndarray] | None:
        """Buffers for a caller that computes this meter's per-hop sums of the next ``frames``
        frames itself, in the same pass as its K-weighting (the loudness meter):
        ``(hop, partial, partial_frames, out)`` as ``_kernels.kweight_energies_stereo`` takes
        them; then call :meth:`add_sums`. None for a mono meter (nothing to compute).
        """
        if self._weighted_given is None:
            self._weighted_given = True
        elif not self._weighted_given:
            raise ValueError("give k_weighted for every block or for none")
        if not self._stereo:
            return None
        rows = np.empty(((self._partial_frames + frames) // self.hop, 8))
        return self.hop, self._partial, self._partial_frames, rows

    def add_sums(self, out: np.ndarray, done: int, partial_frames: int) -> None:
        """Take the ``done`` complete hops written to ``out`` by the caller of
        :meth:`sums_buffers`, and the frame count of the unfinished hop it now holds."""
        self._partial_frames = partial_frames
        if done:
            self._add_hops(out[:done])

    def _add_hops(self, rows: np.ndarray) -> None:
        """Fold (k, 8) per-hop sums into the totals and the series, in stream order."""
        # Sequential (not pairwise) accumulation: the same additions whatever the block split.
        self._totals = np.cumsum(np.concatenate([self._totals[None, :], rows]), axis=0)[-1]
        w = self.window_hops
        extended = np.concatenate([self._recent, rows])
        padded = np.concatenate([np.zeros((w - 1 - self._recent.shape[0], 8)), extended])
        windows = np.lib.stride_tricks.sliding_window_view(padded, w, axis=0)[-rows.shape[0] :]
        sums = windows.sum(axis=2).T  # (8, k): hop i covers hops [i - w + 1, i]
        index = self._hops + np.arange(1, rows.shape[0] + 1)
        n = np.minimum(index, w) * float(self.hop)
        var_l = sums[_LL] - sums[_SL] ** 2 / n
        var_r = sums[_RR] - sums[_SR] ** 2 / n
        cov = sums[_LR] - sums[_SL] * sums[_SR] / n
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = np.clip(cov / np.sqrt(var_l * var_r), -1.0, 1.0)
        rho[~((var_l > 0.0) & (var_r > 0.0))] = np.nan
        self._series.append(rho.astype(np.float32))
        self._hops += rows.shape[0]
        self._recent = extended[-(w - 1) :] if w > 1 else extended[:0]

    def result(self) -> Stereo:
        empty: Stereo = {
            "correlation": None,
            "width": None,
            "balance_db": None,
            "mono_loss_lu": None,
        }
        if not self._stereo:
            return empty
        totals = self._totals + self._partial  # the incomplete last hop counts too
        n = float(self._hops * self.hop + self._partial_frames)
        ll, rr, lr = totals[_LL], totals[_RR], totals[_LR]
        wll, wrr, wlr = totals[_WLL], totals[_WRR], totals[_WLR]
        if n == 0 or not (ll + rr > 0.0 and wll + wrr > 0.0):
            return empty

        mid = (ll + rr + 2 * lr) / 4
        side = (ll + rr - 2 * lr) / 4
        if mid > side * WIDTH_LIMIT**-1:
            width = min(WIDTH_LIMIT, max(0.0, float(side / mid)))
        else:
            width = WIDTH_LIMIT

        if wll > 0.0 and wrr > 0.0:
            balance_db = 10.0 * math.log10(wll / wrr)
        else:
            balance_db = math.inf if wll > 0.0 else -math.inf
        balance_db = min(BALANCE_LIMIT_DB, max(-BALANCE_LIMIT_DB, balance_db))

        folded = (wll + wrr + 2 * wlr) / 2  # 2 E[M^2]: the fold on both speakers
        stereo = wll + wrr
        if folded > stereo * 10 ** (-MONO_LOSS_LIMIT_LU / 10):
            mono_loss_lu = min(MONO_LOSS_LIMIT_LU, max(0.0, 10.0 * math.log10(stereo / folded)))
        else:
            mono_loss_lu = MONO_LOSS_LIMIT_LU
        return {
            "correlation": _pearson(n, totals),
            "width": width,
            "balance_db": float(balance_db),
            "mono_loss_lu": float(mono_loss_lu),
        }

    def series(self) -> dict[str, Any]:
        """Correlation per complete hop over the last ``window_s``: ``{"hop_s", "correlation"}``."""
        if not self._stereo:
            return {"hop_s": self.hop_s, "correlation": None}
        if len(self._series) > 1:
            self._series = [np.concatenate(self._series)]
        values = self._series[0].tolist() if self._series else []
        correlation = [None if math.isnan(v) else v for v in values]
        return {"hop_s": self.hop_s, "correlation": correlation}
