"""The codec check: the track encoded with each platform's delivery codec, decoded, measured.

Lossy encoders change the waveform: peaks between and on the samples rise (a master at
-0.3 dBTP often decodes above 0 dBTP), loudness and the band levels move a little. For every
platform of :data:`DELIVERY` the track is encoded with a real encoder (FFmpeg's: no
hand-written codec), decoded again, and measured with the engine's own meters: true peak
(BS.1770), integrated loudness, band levels, and the samples that pass full scale once the
platform's playback gain (:mod:`soundy.analysis.playback`) is applied.

The encoders come from PyAV's bundled FFmpeg when it carries them (``aac``, ``libopus``,
``libmp3lame``). Spotify's apps deliver Ogg Vorbis, and PyAV's FFmpeg has no libvorbis (only
FFmpeg's experimental native ``vorbis`` encoder, which ignores the bitrate and is not what
Spotify runs), so that encoding is made by the system's ``ffmpeg`` command (Debian's package
``ffmpeg`` carries libvorbis), fed the same resampled PCM through a pipe; PyAV decodes it.
Without that command the Vorbis delivery is not checked and is listed, with the package that
would check it, in the result's ``codec_check_skipped``. Everything is streamed: the encoded file
(a few MB) is the only thing kept in memory.

It costs far more CPU than the measurement itself (docs/benchmarks.md, "Codec check"), so it
runs only when asked for (``soundy analyze --codec-check``, ``"codec_check": true``).
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import av
import numpy as np

from soundy.analysis.loudness import LoudnessMeter
from soundy.analysis.peaks import PeakMeter
from soundy.analysis.spectrum import SpectrumMeter
from soundy.result import (
    BAND_KEYS,
    BandKey,
    CodecBandChange,
    CodecCheckEntry,
    CodecCheckSkipped,
    Evidence,
    PlaybackEntry,
    Spectrum,
)

__all__ = ["DELIVERY", "Delivery", "codec_check", "encoder_source"]

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True)
class Delivery:
    """A platform's delivery codec: FFmpeg's encoder, container, bitrate and sample rate."""

    platform: str
    #: The playback mode whose gain applies (an entry of soundy.analysis.playback.PLATFORMS).
    mode: str
    codec: str
    encoder: str
    container: str
    bitrate_kbps: int
    #: None: the track's own rate when the codec takes it (44.1 or 48 kHz), else 48 kHz.
    sample_rate: int | None
    evidence: Evidence
    source: str


DELIVERY: tuple[Delivery, ...] = (
    Delivery(
        "Spotify", "normal", "vorbis", "libvorbis", "ogg", 160, None, "documented",
        "Spotify for Artists, \"Loudness normalization\" (the version quoted by HiFi Answers, "
        "2024-01): \"we transcode it to delivery formats Ogg/Vorbis and AAC\"; Spotify "
        "support, \"Audio quality\" (as quoted 2025-2026): the apps stream about 24, 96, 160 "
        "or 320 kbit/s (Low, Normal, High, Very high: Premium only) and, since 2025-09, "
        "Premium's Lossless (FLAC). 160 kbit/s, the apps' High, is the most a Free listener "
        "gets; encoded by libvorbis (the ffmpeg command)",
    ),
    Delivery(
        "Spotify", "normal", "aac", "aac", "mp4", 256, None, "documented",
        "Spotify support, \"Audio quality\" (as quoted 2025-2026): the web player streams AAC, "
        "128 kbit/s for Free and 256 kbit/s for Premium",
    ),
    Delivery(
        "Apple Music", "sound_check", "aac", "aac", "mp4", 256, None, "documented",
        "Apple, \"Apple Digital Masters\" (technical brief, 2019): Apple Music streams AAC, "
        "256 kbit/s unless the listener turns lossless on (Darko Audio, 2021-06, "
        "https://darko.audio/2021/06/apple-musics-hi-res-streaming-is-a-bit-of-a-mess/)",
    ),
    Delivery(
        "YouTube", "default", "opus", "libopus", "ogg", 160, 48000, "measured",
        "YouTube's audio stream 251 (Opus, about 160 kbit/s VBR, 48 kHz), as listed by "
        "yt-dlp's format table (measured by third parties; YouTube publishes nothing)",
    ),
    Delivery(
        "SoundCloud", "default", "mp3", "libmp3lame", "mp3", 128, None, "folklore",
        "Sound On Time, \"Loudness war\" (2021), https://www.soundontime.com/loudness-war/: "
        "\"Soundcloud converts your track to a 128kbps MP3\" (SoundCloud publishes nothing)",
    ),
)  # fmt: skip

_RATES = {
    "aac": (44100, 48000),
    "libmp3lame": (44100, 48000),
    "libopus": (48000,),
    "libvorbis": (44100, 48000),
}
#: The Debian package whose ``ffmpeg`` command carries each encoder PyAV's FFmpeg may lack.
SYSTEM_PACKAGE = {"libvorbis": "ffmpeg"}
# Frames handed to the encoder at once.
_ENCODE_BLOCK = 1 << 16


@functools.cache
def encoder_source(encoder: str) -> str | None:
    """Where ``encoder`` comes from: ``"pyav"`` (PyAV's bundled FFmpeg), ``"ffmpeg"`` (the
    system's ``ffmpeg`` command, which lists it among its encoders) or None (neither has it).
    Asked once per process."""
    try:
        av.codec.Codec(encoder, "w")
    except (ValueError, av.error.FFmpegError):  # PyAV raises UnknownCodecError (ValueError)
        pass
    else:
        return "pyav"
    command = shutil.which("ffmpeg")
    if command is None:
        return None
    try:
        listed = subprocess.run(
            [command, "-hide_banner", "-encoders"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    # Lines like " A....D libvorbis            libvorbis (codec vorbis)".
    names = {line.split()[1] for line in listed.splitlines() if len(line.split()) > 1}
    return "ffmpeg" if encoder in names else None


def _rate_for(delivery: Delivery, source_rate: int) -> int:
    if delivery.sample_rate is not None:
        return delivery.sample_rate
    return source_rate if source_rate in _RATES[delivery.encoder] else 48000


def _frames_of(frame: Any, channels: int) -> np.ndarray:
    """A decoded or resampled PyAV frame as float32 frames (n, channels)."""
    data = frame.to_ndarray()
    # Planar (channels, n) or packed (1, n * channels).
    planar = data if frame.format.is_planar else data.reshape(-1, channels).T
    return np.ascontiguousarray(planar.T, dtype=np.float32)


class _Meters:
    """Loudness, true peak and band levels of audio fed in blocks (the engine's own meters)."""

    def __init__(self, rate: int, channel_weights: Sequence[float]) -> None:
        channels = len(channel_weights)
        self.loudness = LoudnessMeter(rate, channels, channel_weights=channel_weights)
        self.peaks = PeakMeter(rate, channels)
        self.spectrum = SpectrumMeter(rate, channels)

    def add_frames(self, block: np.ndarray) -> None:
        if block.shape[0]:
            self.loudness.add_frames(block)
            self.peaks.add_frames(block)
            self.spectrum.add_frames(block)

    def result(self) -> tuple[float | None, float | None, dict[BandKey, float | None]]:
        """(integrated loudness, true peak, band levels by key)."""
        true_peaks = [tp for tp in self.peaks.true_peak_dbtp() if tp is not None]
        bands = {b["key"]: b["level_db"] for b in self.spectrum.result()["bands"]}
        return self.loudness.integrated_lufs(), max(true_peaks, default=None), bands


def _encoder_input(
    blocks: Iterable[np.ndarray],
    source_rate: int,
    channels: int,
    sample_format: str,
    rate: int,
    progress: Callable[[], None],
    tap: _Meters | None,
) -> Iterator[Any]:
    """The track's blocks as PyAV frames of ``sample_format`` at ``rate``, as an encoder takes
    them; ``tap`` measures them (the track resampled to ``rate``). The last is None (flush)."""
    layout = "mono" if channels == 1 else "stereo"
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)

    def tapped(frame: Any) -> Any:
        if tap is not None:
            tap.add_frames(_frames_of(frame, channels))
        return frame

    for block in blocks:
        planar = np.ascontiguousarray(np.asarray(block, dtype=np.float32).T)
        for start in range(0, planar.shape[1], _ENCODE_BLOCK):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planar[:, start : start + _ENCODE_BLOCK]),
                format="fltp",
                layout=layout,
            )
            frame.sample_rate = source_rate
            for out in resampler.resample(frame):
                yield tapped(out)
        progress()
    for out in resampler.resample(None):
        yield tapped(out)
    yield None


def _encode(
    frames: Callable[[str], Iterator[Any]], channels: int, delivery: Delivery, rate: int
) -> bytes:
    """Encode ``frames(sample_format)`` with PyAV's encoder of ``delivery`` into an in-memory
    file."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=delivery.container) as container:
        stream: Any = container.add_stream(delivery.encoder, rate=rate)
        stream.bit_rate = delivery.bitrate_kbps * 1000
        stream.layout = "mono" if channels == 1 else "stereo"
        formats = [f.name for f in stream.codec_context.codec.audio_formats]
        target = "fltp" if "fltp" in formats else "flt" if "flt" in formats else formats[0]
        for frame in frames(target):
            for packet in stream.encode(frame):
                container.mux(packet)
    return buffer.getvalue()


class EncoderFailed(RuntimeError):
    """The ffmpeg command stopped with an error (its message is the reason)."""


def _drain(pipe: IO[bytes], into: list[bytes]) -> None:
    for chunk in iter(lambda: pipe.read(1 << 16), b""):
        into.append(chunk)


def _encode_with_ffmpeg(
    frames: Callable[[str], Iterator[Any]], channels: int, delivery: Delivery, rate: int
) -> bytes:
    """Encode ``frames`` with the system ``ffmpeg`` command's ``delivery.encoder``: 32-bit float
    PCM in through a pipe, the encoded file out through another (read by threads, so neither
    pipe fills up and blocks the other)."""
    command = shutil.which("ffmpeg")
    if command is None:
        raise EncoderFailed("the ffmpeg command is gone")
    # fmt: off
    args = [
        command, "-hide_banner", "-loglevel", "error",
        "-f", "f32le", "-ar", str(rate), "-ac", str(channels), "-i", "pipe:0",
        "-c:a", delivery.encoder, "-b:a", f"{delivery.bitrate_kbps}k",
        "-f", delivery.container, "pipe:1",
    ]
    # fmt: on
    out: list[bytes] = []
    err: list[bytes] = []
    with subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        readers = [
            threading.Thread(target=_drain, args=(proc.stdout, out), daemon=True),
            threading.Thread(target=_drain, args=(proc.stderr, err), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            for frame in frames("flt"):  # packed float: the f32le the command reads
                if frame is not None:
                    proc.stdin.write(frame.to_ndarray().astype(np.float32, copy=False).tobytes())
        except BrokenPipeError:
            pass  # the command stopped early: its stderr says why (below)
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        code = proc.wait()
        for reader in readers:
            reader.join()
    if code != 0 or not out:
        lines = b"".join(err).decode("utf-8", "replace").strip().splitlines()
        raise EncoderFailed(f"ffmpeg {delivery.encoder} failed: {lines[-1] if lines else code}")
    return b"".join(out)


def _measure_decoded(
    encoded: bytes, channel_weights: Sequence[float], gains_db: Iterable[float]
) -> tuple[int, _Meters, dict[float, int]]:
    """Decode ``encoded`` and measure it: (its rate, its meters, samples over full scale after
    each gain)."""
    gains = {gain: 10.0 ** (gain / 20.0) for gain in gains_db}
    clipped = dict.fromkeys(gains, 0)
    channels = len(channel_weights)
    with av.open(io.BytesIO(encoded), "r") as container:
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate)
        meters = _Meters(rate, channel_weights)
        pending: list[np.ndarray] = []
        pending_frames = 0

        def feed(parts: list[np.ndarray]) -> None:
            block = np.concatenate(parts)
            meters.add_frames(block)
            magnitude = np.abs(block)
            for gain, linear in gains.items():
                clipped[gain] += int(np.count_nonzero(magnitude * linear > 1.0))

        for frame in container.decode(stream):
            pending.append(_frames_of(frame, channels))
            pending_frames += pending[-1].shape[0]
            if pending_frames >= rate * 4:
                feed(pending)
                pending, pending_frames = [], 0
        if pending:
            feed(pending)
    return rate, meters, clipped


class _Counter:
    """Progress over all encodings: frames handed to the encoders out of all they will get."""

    def __init__(self, total_frames: int, progress: ProgressCallback | None) -> None:
        self.total_frames = total_frames
        self.done_frames = 0
        self._last_block = 0
        self._progress = progress

    def counted(self, source: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for block in source:
            self._last_block = block.shape[0]
            yield block

    def step(self) -> None:
        self.done_frames += self._last_block
        if self._progress is not None:
            self._progress(min(1.0, self.done_frames / self.total_frames))


def _difference(after: float | None, before: float | None) -> float | None:
    if after is None or before is None or not math.isfinite(after) or not math.isfinite(before):
        return None
    return round(after - before, 2) + 0.0


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 2) + 0.0


def _skipped(delivery: Delivery, reason: str) -> CodecCheckSkipped:
    return {
        "platform": delivery.platform,
        "codec": delivery.codec,
        "encoder": delivery.encoder,
        "bitrate_kbps": delivery.bitrate_kbps,
        "reason": reason,
        "package": SYSTEM_PACKAGE.get(delivery.encoder),
    }


def codec_check(
    blocks: Callable[[], Iterable[np.ndarray]],
    *,
    sample_rate_hz: int,
    channel_weights: Sequence[float],
    integrated_lufs: float | None,
    true_peak_dbtp: float | None,
    spectrum: Spectrum,
    playback: Sequence[PlaybackEntry] | None,
    duration_frames: int,
    progress: ProgressCallback | None = None,
) -> tuple[list[CodecCheckEntry] | None, list[CodecCheckSkipped]]:
    """(one entry per delivery of :data:`DELIVERY` that could be encoded, in its order; the
    deliveries that could not, with why). The entries are None for more than two channels
    (platforms deliver mono or stereo).

    ``blocks()`` yields the track's frames (n, channels) once per distinct encoding (Spotify's
    web player and Apple share one AAC 256 encoding). ``playback`` gives each platform's gain
    (none: 0 dB). ``progress(fraction)`` is called as the encodings advance.
    """
    channels = len(channel_weights)
    if channels > 2:
        return None, []
    gains = {(e["platform"], e["mode"]): e["gain_db"] for e in playback or []}
    encodings: dict[tuple[str, int, int], list[Delivery]] = {}
    skipped: list[CodecCheckSkipped] = []
    for delivery in DELIVERY:
        if encoder_source(delivery.encoder) is None:
            skipped.append(
                _skipped(
                    delivery,
                    f"PyAV's FFmpeg has no {delivery.encoder} encoder and no ffmpeg command "
                    "with it was found",
                )
            )
            continue
        key = (delivery.encoder, delivery.bitrate_kbps, _rate_for(delivery, sample_rate_hz))
        encodings.setdefault(key, []).append(delivery)
    counter = _Counter(max(1, duration_frames) * max(1, len(encodings)), progress)
    original_bands = {b["key"]: b["level_db"] for b in spectrum["bands"]}
    out: dict[Delivery, CodecCheckEntry] = {}
    for (encoder, _, rate), deliveries in encodings.items():
        # Measured again at the encoder's input when it is resampled: the meters' readings
        # of one track at two rates differ a little (the sub band most), and that is not the
        # codec's doing.
        tap = None if rate == sample_rate_hz else _Meters(rate, channel_weights)

        def frames(
            sample_format: str, tap: _Meters | None = tap, rate: int = rate
        ) -> Iterator[Any]:
            return _encoder_input(
                counter.counted(blocks()), sample_rate_hz, channels, sample_format, rate,
                counter.step, tap,
            )  # fmt: skip

        sink = _encode if encoder_source(encoder) == "pyav" else _encode_with_ffmpeg
        try:
            encoded = sink(frames, channels, deliveries[0], rate)
        except EncoderFailed as exc:
            skipped.extend(_skipped(d, str(exc)) for d in deliveries)
            continue
        plays = [gains.get((d.platform, d.mode), 0.0) for d in deliveries]
        decoded_rate, decoded, clipped = _measure_decoded(encoded, channel_weights, plays)
        loudness_after, peak_after, bands_after = decoded.result()
        loudness_before, peak_before, bands_before = (
            (integrated_lufs, true_peak_dbtp, original_bands) if tap is None else tap.result()
        )
        for delivery, gain in zip(deliveries, plays, strict=True):
            bands: list[CodecBandChange] = [
                {"key": key, "change_db": _difference(bands_after.get(key), bands_before.get(key))}
                for key in BAND_KEYS
            ]
            out[delivery] = {
                "platform": delivery.platform,
                "codec": delivery.codec,
                "encoder": encoder,
                "bitrate_kbps": delivery.bitrate_kbps,
                "sample_rate": decoded_rate,
                "true_peak_dbtp": _rounded(peak_after),
                "true_peak_change_db": _difference(peak_after, peak_before),
                "playback_gain_db": gain,
                "clipped_samples_after_gain": clipped[gain],
                "loudness_change_lu": _difference(loudness_after, loudness_before),
                "bands": bands,
                "evidence": delivery.evidence,
                "source": delivery.source,
            }
    if progress is not None:
        progress(1.0)
    return [out[d] for d in DELIVERY if d in out], skipped
