"""Dynamics (crest factor, TT Dynamic Range), clipped samples and DC offset, streaming.

TT Dynamic Range ("DR"), as published by the Pleasurize Music Foundation for its TT DR Offline
Meter ("Measuring DR", dynamicrange.de) and reproduced by the open-source ``dr14_t.meter``
(github.com/simon-r/dr14_t.meter, ``compute_dr14.py``), which reports results identical to the
official meter:

1. Cut each channel into consecutive 3 s blocks (the last, shorter block counts too).
2. Per block and channel: ``RMS = sqrt(2 * mean(x^2))`` (the factor 2 makes a sine's RMS equal
   its peak) and the block's peak ``max |x|``.
3. Per channel: ``RMS_top`` = quadratic mean of the RMS of the loudest 20 % of blocks (at least
   one block); ``Pk_2nd`` = the second-highest block peak.
4. ``DR_channel = 20 log10(Pk_2nd / RMS_top)``; DR = the mean over channels, rounded to an integer.

Implementation-defined here: blocks are exactly ``round(3 * fs)`` samples (dr14_t.meter uses
``3 * (fs + 60)`` at 44.1 kHz to mimic a quirk of the official meter); at least two blocks
(more than 3 s of audio) are needed, else ``dr`` is ``None``; silent channels are left out of
the mean.

Crest factor: per channel ``20 log10(peak / RMS)`` over the whole track (plain RMS, so a sine
reads 3.01 dB), averaged over the channels that carry signal.

Clipping: in integer files, samples in runs of at least ``clip_run_samples`` (default 3)
consecutive samples at full scale of one sign (the largest code, either polarity, within half an
LSB); in float files, every sample with ``|x| > 1.0`` (float files may exceed full scale; the
samples are reported, never clipped). DC offset: per channel mean, and in dBFS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from soundy.analysis._stft import AlignedBlocks

__all__ = ["DR_BLOCK_S", "DynamicsMeter"]

DR_BLOCK_S = 3.0
DR_TOP_FRACTION = 0.2
DEFAULT_CLIP_RUN_SAMPLES = 3


@dataclass
class _ClipState:
    """Open run lengths at the end of the data seen so far, per channel and polarity."""

    positive: list[int]
    negative: list[int]
    counted: list[int] = field(default_factory=list)


def _count_runs(mask: np.ndarray, carry: int, min_run: int) -> tuple[int, int]:
    """Samples in completed runs of >= min_run True values, and the open run at the end.

    ``carry`` is the length of the run open at the end of the previous data.
    """
    if not mask.any():
        return (carry if carry >= min_run else 0), 0
    edges = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    lengths = ends - starts
    counted = 0
    if starts[0] == 0:
        lengths[0] += carry
    elif carry >= min_run:
        counted += carry
    open_run = 0
    if ends[-1] == mask.shape[0]:
        open_run = int(lengths[-1])
        lengths = lengths[:-1]
    counted += int(lengths[lengths >= min_run].sum())
    return counted, open_run


class DynamicsMeter:
    """Streaming crest factor, TT DR, clipped samples and DC offset.

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate in Hz.
    channels : int
        Channels in the blocks given to ``add_frames``.
    is_float : bool
        True for float sources (and lossy decodes): clipping = samples beyond full scale.
    bit_depth : int, optional
        Bits per sample of an integer source (required when ``is_float`` is False).
    clip_run_samples : int
        Minimum run of consecutive full-scale samples counted as clipping (integer sources).

    ``result()`` keys: ``crest_db``, ``dr`` (int) - the ``dynamics`` section; ``clipped_samples``
    (int, all channels) - for ``peaks.clipped_samples``; ``channels``: per channel
    ``{clipped_samples, dc_offset, dc_offset_dbfs}`` - to merge into ``peaks.channels``.
    """

    def __init__(
        self,
        sample_rate_hz: float,
        channels: int,
        *,
        is_float: bool = True,
        bit_depth: int | None = None,
        clip_run_samples: int = DEFAULT_CLIP_RUN_SAMPLES,
    ) -> None:
        if sample_rate_hz <= 0 or channels < 1:
            raise ValueError("sample_rate_hz must be positive and channels at least 1")
        if not is_float and not (bit_depth and 2 <= bit_depth <= 32):
            raise ValueError("an integer source needs its bit_depth (2-32)")
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = channels
        self.is_float = is_float
        self.clip_run_samples = max(1, clip_run_samples)
        if is_float:
            self._clip_threshold = 1.0  # strictly above
        else:
            assert bit_depth is not None
            lsb = 2.0 ** -(bit_depth - 1)
            self._clip_threshold = 1.0 - 1.5 * lsb  # at or above: the largest code, +-0.5 LSB
        self._block = max(1, round(DR_BLOCK_S * sample_rate_hz))
        self._blocks = AlignedBlocks(self._block, channels)
        self._stats: list[np.ndarray] = []  # each (4, channels): n, sum x^2, peak, sum x
        self._clip = _ClipState([0] * channels, [0] * channels, [0] * channels)

    def add_frames(self, frames: np.ndarray) -> None:
        """Add a block of samples, shape (n, channels), any n."""
        for lanes in self._blocks.push(frames):
            for start in range(0, lanes.shape[1], self._block):
                block = lanes[:, start : start + self._block]
                stats, self._clip = self._analyse(block, self._clip)
                self._stats.append(stats)

    def _analyse(self, lanes: np.ndarray, clip: _ClipState) -> tuple[np.ndarray, _ClipState]:
        """Statistics of one block, (channels, n) float32, and the clip state after it."""
        stats = np.empty((4, self.channels), dtype=np.float64)
        new = _ClipState(list(clip.positive), list(clip.negative), list(clip.counted))
        for c, lane in enumerate(lanes):
            high, low = float(lane.max()), float(lane.min())
            stats[0, c] = lane.shape[0]
            stats[1, c] = float(np.dot(lane, lane))
            stats[2, c] = max(high, -low)
            stats[3, c] = float(lane.sum())
            threshold = self._clip_threshold
            if self.is_float:
                if high > threshold or low < -threshold:
                    new.counted[c] += int(np.count_nonzero(np.abs(lane) > threshold))
                continue
            for sign, carries in ((1.0, new.positive), (-1.0, new.negative)):
                reaches = (high if sign > 0 else -low) >= threshold
                mask = (sign * lane >= threshold) if reaches else np.zeros(0, dtype=bool)
                done, carries[c] = _count_runs(mask, carries[c], self.clip_run_samples)
                new.counted[c] += done
        return stats, new

    def result(self) -> dict[str, Any]:
        stats = list(self._stats)
        clip = self._clip
        tail = self._blocks.tail()
        if tail.shape[1]:
            tail_stats, clip = self._analyse(tail, clip)
            stats.append(tail_stats)
        # Runs still open at the end of the stream are complete now.
        min_run = self.clip_run_samples
        clipped = [
            clip.counted[c] + sum(r for r in (clip.positive[c], clip.negative[c]) if r >= min_run)
            for c in range(self.channels)
        ]
        # (blocks, 4, channels)
        table = np.stack(stats) if stats else np.zeros((0, 4, self.channels))
        counts, sumsq, peaks, sums = (table[:, i, :] for i in range(4))
        n = counts.sum(axis=0)
        channels_out = []
        for c in range(self.channels):
            mean = float(sums[:, c].sum() / n[c]) if n[c] else None
            dbfs = 20.0 * math.log10(abs(mean)) if mean else None
            channels_out.append(
                {"clipped_samples": clipped[c], "dc_offset": mean, "dc_offset_dbfs": dbfs}
            )
        return {
            "crest_db": self._crest_db(n, sumsq, peaks),
            "dr": self._dr(counts, sumsq, peaks),
            "clipped_samples": int(sum(clipped)),
            "channels": channels_out,
        }

    def _crest_db(self, n: np.ndarray, sumsq: np.ndarray, peaks: np.ndarray) -> float | None:
        crests = []
        for c in range(self.channels):
            energy = float(sumsq[:, c].sum())
            if n[c] and energy > 0.0:
                rms = math.sqrt(energy / n[c])
                crests.append(20.0 * math.log10(float(peaks[:, c].max()) / rms))
        return float(np.mean(crests)) if crests else None

    def _dr(self, counts: np.ndarray, sumsq: np.ndarray, peaks: np.ndarray) -> int | None:
        blocks = counts.shape[0]
        if blocks < 2:
            return None
        rms = np.sqrt(2.0 * sumsq / counts)  # (blocks, channels)
        top = max(1, math.floor(blocks * DR_TOP_FRACTION))
        values = []
        for c in range(self.channels):
            loudest = np.sort(rms[:, c])[-top:]
            rms_top = math.sqrt(float(np.mean(loudest**2)))
            second_peak = float(np.sort(peaks[:, c])[-2])
            if rms_top > 0.0 and second_peak > 0.0:
                values.append(20.0 * math.log10(second_peak / rms_top))
        if not values:
            return None
        return math.floor(float(np.mean(values)) + 0.5)
