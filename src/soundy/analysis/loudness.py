"""Programme loudness per ITU-R BS.1770-4/5 and EBU R 128: a streaming meter.

:class:`LoudnessMeter` follows sdroege/ebur128's ``EbuR128``: it owns all state (the K-weighting
filter memory, the unfinished 10 ms block, the per-block energies), ``add_frames`` takes any
number of frames, and the results do not depend on how the input was split.

What is measured (each clause cited where it is used):

* K-weighting: ITU-R BS.1770-4 Annex 1, Tables 1 and 2, re-derived for any rate
  (:mod:`soundy.analysis._kweighting`); filtered, with the sums of squares per fine
  block, by the C kernel ``soundy.analysis._kernels.kweight_energies`` in double precision
  (the direct-form-II-transposed recurrence of ``scipy.signal.lfilter``, same operation order).
* Loudness of an interval: ``-0.691 + 10 log10(sum_i G_i z_i)`` (Annex 1, eq. (2)), with
  ``z_i`` the mean square of the K-weighted channel i and ``G_i`` its weight
  (:mod:`soundy.analysis.channels`).
* Integrated (gated) loudness: 400 ms blocks with 75 % overlap (a block every 100 ms),
  incomplete final blocks dropped; absolute gate -70 LUFS, relative gate 10 LU below the
  loudness of the blocks above the absolute gate (Annex 1, eqs. (3)-(7)).
* Momentary (400 ms) and short-term (3 s) loudness, ungated (EBU Tech 3341 section 2.2); their
  maxima are taken on the fine grid of at most 10 ms (:func:`gating_grid`), so a 400 ms burst
  anywhere in the file reads within 0.06 LU of its level (Tech 3341 cases 10 and 13).
* Loudness range (EBU Tech 3342): short-term loudness every 100 ms, values at or above -70
  LUFS, then at or above the power mean of those minus 20 LU; LRA = the 95th minus the 10th
  percentile, with the rank rule ``s[round((n - 1) p + 1)]`` (1-indexed, round half up).

Memory: one float per fine block (10 ms) for the combined energy and one per 100 ms hop per
channel: about 3 MB per hour of stereo, whatever the sample rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from soundy.analysis._arrays import GrowableArray
from soundy.analysis._frames import as_frames
from soundy.analysis._kernels import kweight_energies, kweight_energies_stereo
from soundy.analysis._kweighting import gating_grid, k_weighting_ba
from soundy.analysis.channels import channel_weights as default_channel_weights
from soundy.errors import InvalidAudio

if TYPE_CHECKING:
    from soundy.analysis.stereo import StereoMeter

__all__ = [
    "ABSOLUTE_GATE_LUFS",
    "LRA_HIGH_PERCENTILE",
    "LRA_LOW_PERCENTILE",
    "LRA_RELATIVE_GATE_LU",
    "MOMENTARY_WINDOW_S",
    "RELATIVE_GATE_LU",
    "SHORT_TERM_WINDOW_S",
    "LoudnessMeter",
    "energy_to_lufs",
    "loudness_range_lu",
    "window_sums",
]

ABSOLUTE_GATE_LUFS = -70.0  # BS.1770-4 Annex 1, eq. (5); Tech 3342 section 3
RELATIVE_GATE_LU = -10.0  # BS.1770-4 Annex 1, eq. (6)
LRA_RELATIVE_GATE_LU = -20.0  # EBU Tech 3342 section 3
LRA_LOW_PERCENTILE = 0.10
LRA_HIGH_PERCENTILE = 0.95
MOMENTARY_WINDOW_S = 0.4
SHORT_TERM_WINDOW_S = 3.0
_LOUDNESS_OFFSET_DB = -0.691  # BS.1770-4 Annex 1, eq. (2)
_HOPS_PER_BLOCK = 4  # 400 ms gating block = 4 hops of 100 ms (75 % overlap)
_HOPS_PER_SHORT_TERM = 30  # 3 s


def energy_to_lufs(energy: np.ndarray | float) -> np.ndarray:
    """``-0.691 + 10 log10(energy)`` (BS.1770-4 Annex 1, eq. (2)); 0 energy gives -inf."""
    e = np.asarray(energy, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return _LOUDNESS_OFFSET_DB + 10.0 * np.log10(e)


def _lufs_to_energy(lufs: float) -> float:
    return float(10.0 ** ((lufs - _LOUDNESS_OFFSET_DB) / 10.0))


def window_sums(values: np.ndarray, width: int) -> np.ndarray:
    """``out[j] = sum(values[j - width + 1 : j + 1])``, zeros before the start; shape of values.

    Summed segment by segment (each output sums at most ``2 * width`` partial terms), so a
    quiet window after an hour of loud audio keeps its relative precision, unlike a global
    cumulative sum.
    """
    n = values.shape[0]
    if n == 0:
        return np.zeros(0)
    nseg = -(-n // width)
    padded = np.zeros((nseg + 1) * width)
    padded[width : width + n] = values
    rows = padded.reshape(nseg + 1, width)
    pairs = np.concatenate([rows[:-1], rows[1:]], axis=1)  # (nseg, 2 * width)
    csum = np.cumsum(pairs, axis=1)
    # Window ending at position width + i of a row covers row elements i + 1 .. width + i.
    out: np.ndarray = (csum[:, width:] - csum[:, :width]).reshape(-1)[:n]
    return out


def loudness_range_lu(short_term_energies: np.ndarray) -> float | None:
    """Loudness range (LU) of a sequence of short-term mean energies, per EBU Tech 3342.

    Values at or above -70 LUFS are kept, then those at or above their power mean minus 20 LU;
    LRA is the 95th minus the 10th percentile by the rank rule ``s[round((n - 1) p + 1)]``
    (1-indexed, half up). None when nothing passes the gates.

    libebur128 feeds this one short-term value per second; :meth:`LoudnessMeter.range_lu` one
    per 100 ms (Tech 3342: "at least 10 Hz"), which is why the two can differ by tenths of LU
    on programme whose level moves.
    """
    energies = np.asarray(short_term_energies, dtype=np.float64)
    passed = energies[energies >= _lufs_to_energy(ABSOLUTE_GATE_LUFS)]
    if passed.size == 0:
        return None
    relative = float(np.mean(passed)) * 10.0 ** (LRA_RELATIVE_GATE_LU / 10.0)
    gated = np.sort(passed[passed >= relative])
    lufs = energy_to_lufs(gated)
    n = lufs.size
    low = lufs[math.floor((n - 1) * LRA_LOW_PERCENTILE + 0.5)]
    high = lufs[math.floor((n - 1) * LRA_HIGH_PERCENTILE + 0.5)]
    return float(high - low)


class LoudnessMeter:
    """Streaming BS.1770-4/5 loudness meter: integrated, range, momentary and short-term.

    Parameters
    ----------
    sample_rate_hz : float
        Sampling rate in Hz (any rate of at least 1 kHz; the filter is derived for it).
    channels : int
        Number of interleaved channels in the frames given to :meth:`add_frames`.
    channel_weights : sequence of float, optional
        BS.1770 weight ``G_i`` per channel (0 excludes a channel, e.g. LFE). Default:
        :func:`soundy.analysis.channels.channel_weights` for the channel count.
    series_hop_s : float
        Step of :meth:`momentary_series_lufs` and :meth:`short_term_series_lufs` in seconds;
        rounded to a whole number of fine blocks (see :attr:`hop_s` for the exact value).

    Examples
    --------
    >>> meter = LoudnessMeter(48000, 2)
    >>> meter.add_frames(np.zeros((48000, 2)))
    >>> meter.integrated_lufs() is None    # silence: nothing passes the gates
    True
    """

    def __init__(
        self,
        sample_rate_hz: float,
        channels: int,
        *,
        channel_weights: Sequence[float] | None = None,
        series_hop_s: float = 0.1,
    ) -> None:
        if channels < 1:
            raise ValueError(f"channels must be at least 1, got {channels}")
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = int(channels)
        weights = default_channel_weights(channels) if channel_weights is None else channel_weights
        if len(weights) != channels:
            raise ValueError(f"{len(weights)} channel weights given for {channels} channels")
        self._weights = np.asarray(weights, dtype=np.float64)
        if np.any(self._weights < 0) or not np.all(np.isfinite(self._weights)):
            raise ValueError("channel weights must be finite and non-negative")
        self._hop_frames, self._fine_frames = gating_grid(self.sample_rate_hz)
        self._fines_per_hop = self._hop_frames // self._fine_frames
        series_fines = round(series_hop_s * self.sample_rate_hz / self._fine_frames)
        if series_fines < 1:
            raise ValueError(f"series_hop_s {series_hop_s} is shorter than the fine grid")
        self._series_fines = int(series_fines)
        self._b, self._a = k_weighting_ba(self.sample_rate_hz)
        self.reset()

    # ------------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget all audio: filter memory, partial blocks and every result."""
        self._zi = np.zeros((self.channels, len(self._a) - 1))
        self._fine = GrowableArray()  # weighted sum of squares per fine block
        self._hop_channel = GrowableArray((self.channels,))  # per-channel sum of squares per hop
        self._partial_sum = np.zeros(self.channels)  # unfinished fine block
        self._partial_frames = 0
        self._pending_fines = np.zeros((0, self.channels))  # fine blocks of the unfinished hop
        self._frames = 0
        self._cache: dict[str, object] = {}

    @property
    def hop_s(self) -> float:
        """Exact step of the momentary and short-term series, in seconds."""
        return self._series_fines * self._fine_frames / self.sample_rate_hz

    @property
    def fine_grid_s(self) -> float:
        """Step on which the momentary and short-term maxima are searched, in seconds."""
        return self._fine_frames / self.sample_rate_hz

    @property
    def gating_hop_s(self) -> float:
        """Step of the gating blocks and of the LRA short-term values (100 ms), in seconds."""
        return self._hop_frames / self.sample_rate_hz

    @property
    def duration_s(self) -> float:
        """Audio seen so far, in seconds."""
        return self._frames / self.sample_rate_hz

    def add_frames(self, frames: np.ndarray, *, stereo: StereoMeter | None = None) -> None:
        """Feed ``frames`` of shape (n, channels) (or (n,) for mono), float32 or float64.

        Full scale is 1.0. Any n, including 0 and 1. Raises
        :class:`soundy.errors.InvalidAudio` for NaN or infinite samples.

        ``stereo``: a :class:`soundy.analysis.stereo.StereoMeter` to feed from the same C pass
        (its sums of the first two channels, plain and K-weighted: the balance and mono loss
        are BS.1770 loudness differences). Give it for every block or for none.
        """
        x = as_frames(frames, self.channels)
        n = x.shape[0]
        if n == 0:
            return
        self._cache.clear()
        x = np.ascontiguousarray(x)
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)
        # K-weighting and the sums of squares per fine block in one C pass (double precision).
        new = np.empty(((self._partial_frames + n) // self._fine_frames, self.channels))
        buffers = None if stereo is None else stereo.sums_buffers(n)
        if stereo is not None and buffers is not None:
            hop, partial, partial_frames, out = buffers
            rows, self._partial_frames, done, partial_frames = kweight_energies_stereo(
                x,
                self._b,
                self._a,
                self._zi,
                self._partial_sum,
                self._partial_frames,
                self._fine_frames,
                new,
                hop,
                partial,
                partial_frames,
                out,
            )
            stereo.add_sums(out, done, partial_frames)
        else:
            rows, self._partial_frames = kweight_energies(
                x,
                self._b,
                self._a,
                self._zi,
                self._partial_sum,
                self._partial_frames,
                self._fine_frames,
                new,
                None,  # the K-weighted samples themselves are not needed, only their energies
            )
        self._frames += n
        if not (np.all(np.isfinite(new)) and np.all(np.isfinite(self._partial_sum))):
            raise InvalidAudio("the audio contains NaN or infinite sample values")
        if not rows:
            return
        self._fine.extend(new @ self._weights)
        pending = np.concatenate([self._pending_fines, new], axis=0)
        hops = pending.shape[0] // self._fines_per_hop
        if hops:
            used = hops * self._fines_per_hop
            self._hop_channel.extend(
                pending[:used].reshape(hops, self._fines_per_hop, self.channels).sum(axis=1)
            )
            pending = pending[used:]
        self._pending_fines = pending.copy()

    # --------------------------------------------------------------- helpers

    def _hop_energy_sums(self) -> np.ndarray:
        """Weighted sum of squares per complete 100 ms hop, shape (hops,)."""
        fine = self._fine.view()
        hops = fine.shape[0] // self._fines_per_hop
        used = fine[: hops * self._fines_per_hop]
        sums: np.ndarray = used.reshape(hops, self._fines_per_hop).sum(axis=1)
        return sums

    def _block_energies(self) -> np.ndarray:
        """Mean weighted energy of each complete 400 ms gating block, shape (blocks,)."""
        if "blocks" not in self._cache:
            hop_sums = self._hop_energy_sums()
            sums = window_sums(hop_sums, _HOPS_PER_BLOCK)[_HOPS_PER_BLOCK - 1 :]
            self._cache["blocks"] = sums / (_HOPS_PER_BLOCK * self._hop_frames)
        return self._cache["blocks"]  # type: ignore[return-value]

    def _fine_window_energies(self, window_s: float) -> np.ndarray:
        """Mean energy of the window ending at each fine-grid instant, shape (fine blocks,).

        Audio before the start counts as silence, so the first values cover less audio; once
        the stream is longer than the window they can never exceed a complete window's value.
        """
        key = f"fine{window_s}"
        if key not in self._cache:
            width = self._fines_per_hop * round(window_s * 10)
            sums = window_sums(self._fine.view(), width)
            self._cache[key] = sums / (width * self._fine_frames)
        return self._cache[key]  # type: ignore[return-value]

    @staticmethod
    def _max_lufs(energies: np.ndarray) -> float | None:
        if energies.size == 0:
            return None
        top = float(energies.max())
        if not top > 0.0:
            return None
        return float(energy_to_lufs(top))

    def _series(self, window_s: float) -> np.ndarray:
        energies = self._fine_window_energies(window_s)
        return energy_to_lufs(energies[self._series_fines - 1 :: self._series_fines])

    # --------------------------------------------------------------- results

    def integrated_lufs(self) -> float | None:
        """Gated integrated loudness in LUFS (BS.1770-4 Annex 1 eq. (7)); None if no block
        passes the gates (silence, or less than 400 ms of audio)."""
        blocks = self._block_energies()
        passed = blocks[blocks > _lufs_to_energy(ABSOLUTE_GATE_LUFS)]
        if passed.size == 0:
            return None
        relative = float(np.mean(passed)) * 10.0 ** (RELATIVE_GATE_LU / 10.0)
        gated = passed[passed > relative]
        if gated.size == 0:
            return None
        return float(energy_to_lufs(np.mean(gated)))

    def short_term_hop_energies(self) -> np.ndarray:
        """Mean energy of each complete 3 s window ending on a 100 ms hop, shape (n,).

        Element ``j`` is the window ending at ``(j + 30) * gating_hop_s`` seconds. Used for
        LRA (Tech 3342) and the short-term PSR.
        """
        if "st_hops" not in self._cache:
            sums = window_sums(self._hop_energy_sums(), _HOPS_PER_SHORT_TERM)
            self._cache["st_hops"] = sums[_HOPS_PER_SHORT_TERM - 1 :] / (
                _HOPS_PER_SHORT_TERM * self._hop_frames
            )
        return self._cache["st_hops"]  # type: ignore[return-value]

    def range_lu(self) -> float | None:
        """Loudness range in LU per EBU Tech 3342 from the short-term loudness every 100 ms;
        None without a short-term value above the gates (silence, or less than 3 s)."""
        return loudness_range_lu(self.short_term_hop_energies())

    def momentary_max_lufs(self) -> float | None:
        """Highest momentary (400 ms) loudness in LUFS on the fine grid; None for silence."""
        return self._max_lufs(self._fine_window_energies(MOMENTARY_WINDOW_S))

    def short_term_max_lufs(self) -> float | None:
        """Highest short-term (3 s) loudness in LUFS on the fine grid; None for silence.

        For audio shorter than 3 s this is the loudness of the whole audio spread over 3 s
        (the window is padded with silence, as a real-time meter shows it).
        """
        return self._max_lufs(self._fine_window_energies(SHORT_TERM_WINDOW_S))

    def momentary_series_lufs(self) -> np.ndarray:
        """Momentary loudness (LUFS) of the 400 ms ending at each ``(i + 1) * hop_s``.

        Shape (floor(duration / hop_s),). Silence is ``-inf`` (never NaN); the caller turns
        non-finite values into null for JSON. The first values include silence before t = 0.
        """
        return self._series(MOMENTARY_WINDOW_S)

    def short_term_series_lufs(self) -> np.ndarray:
        """Short-term loudness (LUFS) of the 3 s ending at each ``(i + 1) * hop_s``; as
        :meth:`momentary_series_lufs`."""
        return self._series(SHORT_TERM_WINDOW_S)

    def channel_integrated_lufs(self) -> list[float | None]:
        """Gated loudness of each channel measured alone with weight 1.0, in LUFS.

        Same gates as :meth:`integrated_lufs`, applied per channel (None for a channel with
        nothing above them). For stereo balance: the left/right difference in LU.
        """
        hops = self._hop_channel.view()
        out: list[float | None] = []
        for c in range(self.channels):
            sums = window_sums(hops[:, c], _HOPS_PER_BLOCK)[_HOPS_PER_BLOCK - 1 :]
            blocks = sums / (_HOPS_PER_BLOCK * self._hop_frames)
            passed = blocks[blocks > _lufs_to_energy(ABSOLUTE_GATE_LUFS)]
            if passed.size == 0:
                out.append(None)
                continue
            relative = float(np.mean(passed)) * 10.0 ** (RELATIVE_GATE_LU / 10.0)
            gated = passed[passed > relative]
            out.append(float(energy_to_lufs(np.mean(gated))) if gated.size else None)
        return out
