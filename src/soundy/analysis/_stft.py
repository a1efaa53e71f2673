"""Streaming framing shared by the feature meters: aligned blocks and a short-time FFT.

Both helpers regroup input blocks of any length into units whose boundaries are fixed by the
absolute sample position, never by how the caller split the file. Every sum a meter keeps is then
formed over the same samples in the same order, so results are identical (to the bit) whatever
the block sizes; ``tests/analysis/test_spectrum.py`` and the other meter tests check this.

Memory is bounded by one unit (plus one input block), independent of the file's duration.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from soundy.analysis._frames import as_frames
from soundy.analysis._kernels import power_spectrum
from soundy.analysis._scipy_ext import rfft

__all__ = ["AlignedBlocks", "StftFramer", "bin_frequencies_hz", "default_fft_size"]

# Arrays: ``frames`` are (n, channels) float, ``power`` is (n_frames, n_fft // 2 + 1) float32.

#: Samples (frames x n_fft) processed per rfft call: enough to amortise the Python overhead,
#: small enough to stay in cache (1 MB of float32: 64 frames of 4096, 256 frames of 1024).
GROUP_SAMPLES = 1 << 18


def default_fft_size(sample_rate_hz: float) -> int:
    """FFT length giving a ~93 ms window at any rate: 4096 at 44.1/48 kHz, 8192 at 88.2/96 kHz.

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate in Hz.
    """
    return int(2 ** round(np.log2(sample_rate_hz * 4096.0 / 44100.0)))


@functools.cache
def _periodic_hann(n_fft: int) -> np.ndarray:
    """The periodic Hann window of ``n_fft`` samples, float32, read-only.

    Made once per length and process: every analysis of a short clip otherwise paid for it.
    """
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    window.flags.writeable = False
    return window


@functools.cache
def bin_frequencies_hz(sample_rate_hz: float, n_fft: int) -> np.ndarray:
    """Bin centre frequencies in Hz of an ``n_fft``-point rfft, shape (n_fft // 2 + 1,), read-only.

    Cached per (rate, length): the meters' set-up reads them for every analysis.
    """
    freqs = np.arange(n_fft // 2 + 1) * (float(sample_rate_hz) / n_fft)
    freqs.flags.writeable = False
    return freqs


class AlignedBlocks:
    """Regroup blocks of any length into runs of whole ``unit``-frame units, channel-major.

    ``push`` takes (n, channels) frames and returns the complete units now available as a list
    of (channels, k * unit) float32 arrays (k >= 1, rows contiguous), in stream order, the first
    frame of each at a multiple of ``unit`` in the stream; ``tail`` is the incomplete unit held
    back. The arrays are views of a buffer reused by the next ``push``: use them at once. Only
    the samples of a unit that straddles two blocks are copied twice.
    """

    def __init__(self, unit: int, channels: int) -> None:
        if unit < 1:
            raise ValueError("unit must be at least one frame")
        self.unit = unit
        self.channels = channels
        self._pieces: list[np.ndarray] = []  # (channels, m) pieces of the incomplete unit
        self._pending_frames = 0
        self._scratch = np.empty((channels, 0), dtype=np.float32)  # reused for every block

    def push(self, frames: np.ndarray) -> list[np.ndarray]:
        block = as_frames(frames, self.channels)
        n = block.shape[0]
        if self._scratch.shape[1] < n:
            self._scratch = np.empty((self.channels, n), dtype=np.float32)
        lanes = self._scratch[:, :n]
        np.copyto(lanes, block.T, casting="same_kind")
        out: list[np.ndarray] = []
        if self._pending_frames:
            need = self.unit - self._pending_frames
            if lanes.shape[1] < need:
                self._pieces.append(lanes.copy())
                self._pending_frames += lanes.shape[1]
                return out
            out.append(np.concatenate([*self._pieces, lanes[:, :need]], axis=1))
            self._pieces, self._pending_frames = [], 0
            lanes = lanes[:, need:]
        usable = (lanes.shape[1] // self.unit) * self.unit
        if usable:
            out.append(lanes[:, :usable])
        if usable < lanes.shape[1]:
            self._pieces = [lanes[:, usable:].copy()]
            self._pending_frames = lanes.shape[1] - usable
        return out

    def tail(self) -> np.ndarray:
        """The samples of the incomplete last unit, (channels, m) with m < unit."""
        if len(self._pieces) > 1:
            self._pieces = [np.concatenate(self._pieces, axis=1)]
        return self._pieces[0] if self._pieces else np.zeros((self.channels, 0), np.float32)


class StftFramer:
    """Streaming power spectra, Hann window, averaged over the channels.

    Frame ``i`` covers samples ``[i * hop, i * hop + n_fft)``; only complete frames are
    produced while streaming. ``push`` yields (k, n_fft // 2 + 1) float32 power spectra
    ``sum over channels of |rfft(hann * x_c)|^2`` for groups of frames whose boundaries depend
    only on the frame index. Adding the channels' powers (not transforming their mix) is what
    the speakers add up to, and an out-of-phase pair does not cancel.
    ``finish_frames`` computes (without consuming them) the full frames still buffered, or one
    zero-padded frame when the whole stream was shorter than ``n_fft``.

    Each yielded array (and that of ``finish_frames``) is a reused buffer, valid until the next
    call: consume it at once. (Reusing buffers instead of allocating ~1 MB per group halves the
    cost in a fresh process, where every new page is a page fault.)

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate in Hz.
    channels : int
        Number of interleaved channels in the blocks given to ``push``.
    n_fft : int, optional
        Frame length in samples (default: ``default_fft_size``, 4096 at 44.1/48 kHz).
    hop : int, optional
        Hop in samples (default ``n_fft // 2``: 50 % overlap, ~21.5 frames/s at 44.1 kHz).
    """

    def __init__(
        self,
        sample_rate_hz: float,
        channels: int,
        *,
        n_fft: int | None = None,
        hop: int | None = None,
    ) -> None:
        if sample_rate_hz <= 0 or channels < 1:
            raise ValueError("sample_rate_hz must be positive and channels at least 1")
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = channels
        self.n_fft = n_fft or default_fft_size(sample_rate_hz)
        self.hop = hop or self.n_fft // 2
        self.n_bins = self.n_fft // 2 + 1
        self.frames_per_s = self.sample_rate_hz / self.hop
        self.frames_per_group = max(1, GROUP_SAMPLES // self.n_fft)
        self._window = _periodic_hann(self.n_fft)
        group = self.frames_per_group
        # Samples from the next group's first frame on are kept in _buffer[:, :_fill]; room for
        # two groups from the start (it grows only for input blocks longer than a group).
        # Only the samples written are ever read, so it needs no zeroing (2 MB of stereo float32
        # cleared cost ~0.1-0.2 ms per framer and analysis).
        self._buffer = np.empty((channels, 2 * self._group_span()), dtype=np.float32)
        self._fill = 0
        self._windowed = np.empty((group, self.n_fft), dtype=np.float32)
        self._power_buffer = np.empty((group, self.n_bins), dtype=np.float32)
        self._spectrum = np.empty((group, self.n_bins), dtype=np.complex64)
        self._frames_done = 0

    def _group_span(self) -> int:
        """Samples covered by one group of frames."""
        return (self.frames_per_group - 1) * self.hop + self.n_fft

    @property
    def frequencies_hz(self) -> np.ndarray:
        """Bin centre frequencies in Hz, shape (n_bins,), read-only."""
        return bin_frequencies_hz(self.sample_rate_hz, self.n_fft)

    def _power(self, lanes: np.ndarray, n_frames: int) -> np.ndarray:
        """Power spectrum summed over channels of ``n_frames`` frames of (channels, m) samples.

        The sum, not the mean: every user of these spectra compares them with themselves
        (levels relative to the total, log-power rises, normalised chroma), so the constant
        factor 1 / channels is left out.
        """
        power = self._power_buffer[:n_frames]
        windowed = self._windowed[:n_frames]
        for c, lane in enumerate(lanes):
            # Frame i = lane[i * hop : i * hop + n_fft], a read-only strided view (what
            # sliding_window_view(lane, n_fft)[::hop] gives, at a tenth of its Python cost).
            assert lane.shape[0] >= (n_frames - 1) * self.hop + self.n_fft
            step = lane.strides[0]
            view = np.lib.stride_tricks.as_strided(
                lane, (n_frames, self.n_fft), (self.hop * step, step), writeable=False
            )
            np.multiply(view, self._window, out=windowed)
            spectrum = rfft(windowed, axis=1, out=self._spectrum[:n_frames])
            # power (+)= re * re + im * im in one C pass (float32, numpy's very roundings).
            power_spectrum(spectrum, power, c > 0)
        return power

    def push(self, frames: np.ndarray) -> Iterator[np.ndarray]:
        block = as_frames(frames, self.channels)
        n = block.shape[0]
        if self._fill + n > self._buffer.shape[1]:
            size = max(2 * self._buffer.shape[1], self._fill + n)
            grown = np.empty((self.channels, size), dtype=np.float32)
            grown[:, : self._fill] = self._buffer[:, : self._fill]
            self._buffer = grown
        np.copyto(self._buffer[:, self._fill : self._fill + n], block.T, casting="same_kind")
        self._fill += n
        group, group_span = self.frames_per_group, self._group_span()
        start = 0
        while self._fill - start >= group_span:
            lanes = self._buffer[:, start : start + group_span]
            yield self._power(lanes, group)
            start += group * self.hop
            self._frames_done += group
        if start:
            rest = self._fill - start
            self._buffer[:, :rest] = self._buffer[:, start : self._fill].copy()
            self._fill = rest

    def finish_frames(self) -> np.ndarray:
        """Power spectra of the complete frames still buffered, (k, n_bins), k < frames_per_group.

        When the stream produced no full frame at all (shorter than ``n_fft`` samples but not
        empty), returns one frame of the zero-padded samples.
        """
        lanes = self._buffer[:, : self._fill]
        if self._fill >= self.n_fft:
            n_frames = (self._fill - self.n_fft) // self.hop + 1
            return self._power(lanes, n_frames)
        if self._frames_done == 0 and self._fill > 0:
            padded = np.zeros((self.channels, self.n_fft), dtype=np.float32)
            padded[:, : self._fill] = lanes
            return self._power(padded, 1)
        return np.zeros((0, self.n_bins), dtype=np.float32)
