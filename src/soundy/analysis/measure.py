"""``measure_file``: one streaming pass over a file's blocks, feeding every meter.

Memory does not grow with duration: blocks of a few seconds are decoded, handed to each meter
(which keeps its own filter state and per-block summaries) and dropped. The result is
:class:`soundy.result.Measurements` (docs/result.md); NaN and infinities become None
(:func:`json_safe`).
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from soundy.analysis._lanes import Feed, Lanes
from soundy.analysis.channels import channel_weights, channel_weights_from_mask
from soundy.analysis.decode import AudioInfo, open_audio
from soundy.analysis.dynamics import DynamicsMeter
from soundy.analysis.loudness import LoudnessMeter
from soundy.analysis.peaks import PeakMeter, psr_max_db
from soundy.analysis.playback import simulate_playback
from soundy.analysis.rhythm import RhythmMeter
from soundy.analysis.spectrum import SpectrumMeter
from soundy.analysis.stereo import StereoMeter
from soundy.result import (
    SCHEMA_VERSION,
    ChannelPeaks,
    Dynamics,
    FileInfo,
    Loudness,
    Measurements,
    Peaks,
    Series,
    Stereo,
)

__all__ = [
    "MAX_SERIES_POINTS",
    "SCHEMA_VERSION",
    "SERIES_HOP_S",
    "json_safe",
    "measure_file",
    "pool_series",
]

# Hop of the loudness and correlation series the meters keep, in seconds.
SERIES_HOP_S = 0.1
# The series in the result are pooled down to at most this many points.
MAX_SERIES_POINTS = 2000
# Blocks handed to the meters, in seconds of audio. Every meter's result is the same whatever
# the split; longer blocks spend less on per-block Python and thread hand-offs (4-minute stereo
# file, measuring alone, medians of 15 alternating runs: 6 s blocks 0.206 s, 9 s 0.197, 12 s
# 0.189, 15 s 0.193) for a few MB more (~2 MB per second of stereo in flight: the block, its
# copies inside the meters and two blocks queued for the second lane).
MEASURE_BLOCK_S = 12.0
# Decoded blocks are kept for a second pass (Spotify Loud's limiter, the codec check) when the
# file is compressed and its float32 samples fit in this many bytes (the header tells, or as
# they come): decoding 2.4 minutes of Ogg Vorbis again cost 0.27 CPU s, keeping it 0.02 (a
# 4-minute stereo 44.1 kHz file is 85 MB more peak memory). Plain PCM is read again: 0.025 CPU s
# per 4 minutes of 24-bit WAV, no more than the page faults of keeping it in fresh memory
# (measure_file 0.67 CPU s read again, 0.70 kept, medians of 6 on a loaded machine), unless it
# fits in one block (kept: a short clip's fixed cost). Longer files are decoded again, so their
# memory stays flat.
KEEP_DECODED_BYTES = 128 * 2**20
# Progress callbacks are rate limited to one per this many seconds (and the last one).
_PROGRESS_INTERVAL_S = 0.05

ProgressCallback = Callable[[str, float], None]
T = TypeVar("T")


def json_safe(value: Any) -> Any:
    """Return ``value`` with NaN/Inf floats replaced by None and numpy types made plain Python.

    Dicts, lists and tuples are walked recursively (tuples become lists).
    """
    # The plain Python types of a result first, by exact type (a few hundred values per
    # analysis: the isinstance chain below was ~0.3 ms of a 1 s clip's analysis).
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if value is None or kind is str or kind is int or kind is bool:
        return value
    if kind is dict:
        return {str(k): json_safe(v) for k, v in value.items()}
    if kind is list:
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def pool_series(
    values: Sequence[float | None] | np.ndarray,
    hop_s: float,
    *,
    max_points: int = MAX_SERIES_POINTS,
    how: str = "max",
) -> tuple[list[float | None], float]:
    """Pool a time series to at most ``max_points`` points; returns (points, effective hop_s).

    Consecutive buckets of ``ceil(n / max_points)`` points are reduced by their maximum
    (``how="max"``: loudness peaks stay visible) or minimum (``how="min"``: a correlation dip stays
    visible). None, NaN and -inf count as missing; an all-missing bucket is None.
    """
    arr = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    arr[~np.isfinite(arr)] = np.nan
    n = arr.size
    if n == 0:
        return [], hop_s
    factor = max(1, math.ceil(n / max_points))
    if factor > 1:
        pad = (-n) % factor
        padded = np.concatenate([arr, np.full(pad, np.nan)]).reshape(-1, factor)
        missing = np.isnan(padded).all(axis=1)
        filled = np.where(np.isnan(padded), -np.inf if how == "max" else np.inf, padded)
        reduced = filled.max(axis=1) if how == "max" else filled.min(axis=1)
        reduced[missing] = np.nan
        arr = reduced
    points = [None if not math.isfinite(v) else round(float(v), 3) for v in arr]
    return points, hop_s * factor


class _Progress:
    """Rate-limited progress reporting (at most one call per _PROGRESS_INTERVAL_S)."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._last_s = -math.inf

    def __call__(self, stage: str, fraction: float, *, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if force or now - self._last_s >= _PROGRESS_INTERVAL_S:
            self._last_s = now
            self._callback(stage, max(0.0, min(1.0, fraction)))


def _prefetch(blocks: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Iterate ``blocks`` in a background thread, ``depth`` items ahead.

    Decoding (libsndfile, FFmpeg) releases the GIL, so it overlaps with the meters' numpy work.
    Exceptions are re-raised in the consumer; stopping early stops the producer before return.
    """
    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in blocks:
                while not stop.is_set():
                    try:
                        items.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(("end", None))
        except BaseException as exc:  # re-raised in the consumer thread
            items.put(("error", exc))

    thread = threading.Thread(target=produce, name="soundy-decode", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = items.get()
            if kind == "item":
                yield payload
            elif kind == "error":
                raise payload
            else:
                return
    finally:
        stop.set()
        while thread.is_alive():
            try:
                items.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def _blocks_here(blocks: Iterable[T]) -> Generator[T, None, None]:
    """Iterate ``blocks`` in this thread (the same interface as :func:`_prefetch`)."""
    yield from blocks


def _weights(info: AudioInfo) -> tuple[float, ...]:
    """BS.1770 channel weights: from the file's speaker mask when it has one, else by count."""
    if info.channel_mask is not None:
        return channel_weights_from_mask(info.channel_mask, info.channels)
    return channel_weights(info.channels)


def _samples_bytes(info: AudioInfo) -> float:
    """Bytes of the whole file's samples as float32 blocks, by its header's duration."""
    return (info.duration_s or 0.0) * info.sample_rate * info.channels * 4


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _db_max(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return max(present) if present else None


class _Meters:
    """Every meter of one analysis, fed the same blocks in one pass."""

    def __init__(self, info: AudioInfo) -> None:

        rate, channels = info.sample_rate, info.channels
        self.info = info
        self.loudness = LoudnessMeter(
            rate, channels, channel_weights=_weights(info), series_hop_s=SERIES_HOP_S
        )
        self.rhythm = RhythmMeter(rate, channels)
        # The spectrum meter's STFT also feeds the tempo and key meter.
        self.spectrum = SpectrumMeter(rate, channels, rhythm=self.rhythm)
        self.peaks = PeakMeter(rate, channels, series_hop_s=SERIES_HOP_S)
        integer = info.bit_depth is not None and not info.is_float
        self.dynamics = DynamicsMeter(
            rate, channels, is_float=not integer, bit_depth=info.bit_depth if integer else None
        )
        self.stereo = StereoMeter(rate, channels, hop_s=SERIES_HOP_S) if channels >= 2 else None
        # Two lanes of about equal cost (numpy, scipy and the FFTs release the GIL): this
        # thread runs the first, a helper thread the second, each meter always in one lane.
        # CPU per 4 minutes of stereo 44.1 kHz (C kernels): reading 24-bit PCM 0.02 s (in this
        # thread, or a reading thread for compressed formats), loudness and stereo 0.065 s,
        # peaks 0.065 s (music; more for clipped full-band noise), dynamics 0.02 s; spectrum +
        # tempo/key 0.15 s. The stereo meter takes the loudness meter's K-weighted samples
        # (balance and mono loss are BS.1770 loudness differences): its sums come out of the
        # loudness meter's C pass.
        # The feeds are the meters' methods, never this object's own: a bound method of self
        # in self._lanes would be a reference cycle, and the meters' buffers (about 19 MB for
        # a 10 s stereo clip) would wait for the cyclic garbage collector instead of being
        # freed when the analysis returns. In a long-lived analysis process that grew the heap
        # by that much per job until a full collection, and the new pages' faults doubled the
        # analysis' CPU time (tests/analysis/test_measure.py checks no cycle is left).
        loudness, stereo = self.loudness, self.stereo

        def add_loudness_and_stereo(block: np.ndarray) -> None:
            # One C pass: K-weighting, loudness energies and the stereo meter's sums.
            loudness.add_frames(block, stereo=stereo)

        first: list[Feed] = [
            add_loudness_and_stereo,
            self.peaks.add_frames,
            self.dynamics.add_frames,
        ]
        second: list[Feed] = [self.spectrum.add_frames]
        # The helper lane may lag up to two blocks behind.
        self._lanes = Lanes(first, second, lag=2)

    def add_frames(self, block: np.ndarray) -> None:
        """Feed ``block`` to every meter."""
        self._lanes.add(block)

    def finish(self) -> None:
        """Wait for the helper lane (re-raising its errors)."""
        self._lanes.finish()

    def measurements(self, file: FileInfo) -> Measurements:
        """The measurement sections of ``file`` (values may still be NaN/inf)."""
        loud = self.loudness
        integrated = loud.integrated_lufs()
        loudness: Loudness = {
            "integrated_lufs": integrated,
            "range_lu": loud.range_lu(),
            "momentary_max_lufs": loud.momentary_max_lufs(),
            "short_term_max_lufs": loud.short_term_max_lufs(),
        }

        true_peaks = self.peaks.true_peak_dbtp()
        sample_peaks = self.peaks.sample_peak_dbfs()
        dyn = self.dynamics.result()
        # Per channel: true and sample peak, clipped samples, clip events and DC offset.
        channels: list[ChannelPeaks] = [
            {
                "true_peak_dbtp": tp,
                "sample_peak_dbfs": sp,
                "clipped_samples": extra["clipped_samples"],
                "clip_events": extra["clip_events"],
                "dc_offset": extra["dc_offset"],
                "dc_offset_dbfs": extra["dc_offset_dbfs"],
            }
            for tp, sp, extra in zip(true_peaks, sample_peaks, dyn["channels"], strict=True)
        ]
        peaks: Peaks = {
            "true_peak_dbtp": _db_max(true_peaks),
            "sample_peak_dbfs": _db_max(sample_peaks),
            "clipped_samples": dyn["clipped_samples"],
            "clip_events": dyn["clip_events"],
            "channels": channels,
        }

        true_peak = peaks["true_peak_dbtp"]
        plr = None if true_peak is None or integrated is None else true_peak - integrated
        dynamics: Dynamics = {
            "plr_db": plr,
            "crest_db": dyn["crest_db"],
            "dr": dyn["dr"],
            "psr_max_db": psr_max_db(loud, self.peaks),
        }

        stereo: Stereo = {
            "correlation": None,
            "width": None,
            "balance_db": None,
            "mono_loss_lu": None,
        }
        correlation: list[float | None] | None = None
        if self.stereo is not None:
            stereo = self.stereo.result()
            correlation_series = self.stereo.series()["correlation"] or []
            correlation, _ = pool_series(correlation_series, loud.hop_s, how="min")

        momentary, hop_s = pool_series(loud.momentary_series_lufs(), loud.hop_s)
        short_term, _ = pool_series(loud.short_term_series_lufs(), loud.hop_s)
        true_peak_series, _ = pool_series(self.peaks.true_peak_series_dbtp(), self.peaks.hop_s)
        series: Series = {
            "hop_s": hop_s,
            "momentary_lufs": momentary,
            "short_term_lufs": short_term,
            "correlation": correlation,
            "true_peak_dbtp": true_peak_series,
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "file": file,
            "loudness": loudness,
            "peaks": peaks,
            "dynamics": dynamics,
            "stereo": stereo,
            "spectrum": self.spectrum.result(),
            "musical": self.rhythm.result(),
            "series": series,
        }


def measure_file(
    path: str | Path,
    *,
    max_duration_s: float,
    max_samples: int | None = None,
    max_channels: int | None = None,
    max_sample_rate_hz: int | None = None,
    display_name: str | None = None,
    progress: ProgressCallback | None = None,
    codec_check: bool = False,
) -> Measurements:
    """Decode ``path`` block by block and return the measurement part of the result.

    One pass: every block goes to every meter, then is dropped, so peak memory depends on the
    block length (a few seconds), not on the file's duration. Raises the
    :class:`soundy.errors.InputError` subclasses of :func:`soundy.analysis.decode.open_audio`,
    whose limits the ``max_*`` arguments are (samples = frames x channels).
    The returned dict is :class:`soundy.result.Measurements` (docs/result.md); it is JSON-safe
    (no NaN or infinity; a missing value is None).

    ``codec_check``: also encode the track with each platform's delivery codec and measure the
    decoded audio (:mod:`soundy.analysis.codec`; stage ``codec_check``, many times the cost of
    the measurement).
    """
    report = _Progress(progress)
    path = Path(path)
    report("decoding", 0.0, force=True)
    with open_audio(
        path,
        max_duration_s=max_duration_s,
        max_samples=max_samples,
        max_channels=max_channels,
        max_sample_rate_hz=max_sample_rate_hz,
    ) as source:
        info = source.info
        # Decoding (libsndfile, FFmpeg) runs in a thread of its own, overlapping the meters;
        # plain PCM is read in this thread: a third busy thread on two cores cost more than the
        # reading itself (4-minute 24-bit WAV: measuring 0.26 -> 0.22 s wall).
        light = source.light_reading
        meters = _Meters(info)
        blocks = (
            _blocks_here(source.blocks(MEASURE_BLOCK_S))
            if light
            else _prefetch(source.blocks(MEASURE_BLOCK_S))
        )
        kept: list[np.ndarray] | None = []
        known = info.duration_s is not None
        # Plain PCM that fits in one block is kept too: that block is in memory anyway, and
        # opening and reading the file again was a fixed cost of every short clip.
        one_block = known and (info.duration_s or 0.0) <= MEASURE_BLOCK_S
        if (light and not one_block) or (known and _samples_bytes(info) > KEEP_DECODED_BYTES):
            kept = None
        kept_bytes = 0
        try:
            for block in blocks:
                meters.add_frames(block)
                if kept is not None:
                    kept_bytes += block.nbytes
                    if kept_bytes <= KEEP_DECODED_BYTES:
                        kept.append(block)
                    else:  # longer than the header said: decoded again
                        kept = None
                report("measuring", 0.95 * source.fraction_done)
        finally:
            blocks.close()  # stops the decoding thread before the file is closed
            meters.finish()
        frames = source.frames_read
    report("measuring", 0.95, force=True)
    file: FileInfo = {
        "name": display_name or path.name,
        "format": info.format,
        "codec": info.codec,
        "duration_s": round(frames / info.sample_rate, 6),
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "bit_depth": info.bit_depth,
        "is_float": info.is_float,
        "channel_layout": info.layout,
        "channel_mask": info.channel_mask,
    }
    result = meters.measurements(file)

    def again() -> Iterator[np.ndarray]:
        # A second pass (Spotify Loud's limiter, the codec check): the file's blocks once more,
        # as kept or decoded again.
        if kept is not None:
            yield from kept
            return
        with open_audio(path, max_duration_s=max_duration_s) as second:
            yield from second.blocks(MEASURE_BLOCK_S)

    result["playback"] = simulate_playback(
        _finite(result["loudness"]["integrated_lufs"]),
        _finite(result["peaks"]["true_peak_dbtp"]),
        _finite(result["peaks"]["sample_peak_dbfs"]),
        sample_rate_hz=info.sample_rate,
        channel_weights=_weights(info),
        blocks=again,
    )
    report("measuring", 1.0, force=True)
    if codec_check:
        # Here, not at the top: PyAV's encoders load only for a codec check (a plain analysis
        # of a WAV never imports av).
        from soundy.analysis.codec import codec_check as run_codec_check

        report("codec_check", 0.0, force=True)
        result["codec_check"], result["codec_check_skipped"] = run_codec_check(
            again,
            sample_rate_hz=info.sample_rate,
            channel_weights=_weights(info),
            integrated_lufs=_finite(result["loudness"]["integrated_lufs"]),
            true_peak_dbtp=_finite(result["peaks"]["true_peak_dbtp"]),
            spectrum=result["spectrum"],
            playback=result["playback"],
            duration_frames=frames,
            progress=lambda fraction: report("codec_check", fraction),
        )
        report("codec_check", 1.0, force=True)
    safe: Measurements = json_safe(result)
    return safe
