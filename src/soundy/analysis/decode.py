"""Streaming audio decoding: a file in, float32 blocks of shape (frames, channels) out.

The format is detected from the file's first bytes, never from its name. libsndfile (through
``soundfile``) reads WAV (8/16/24/32-bit integer, 32/64-bit float, WAVE_FORMAT_EXTENSIBLE, RF64),
AIFF, FLAC, Ogg Vorbis and the other PCM containers it knows; FFmpeg (through PyAV, imported only
when needed) reads MP3, Opus, M4A/AAC, ADTS AAC and whatever else it can open. Plain PCM WAV
(16/24/32-bit integer, 32-bit float) skips libsndfile's slower conversion: its samples are read
directly and converted in one C pass, to the same bits (checked against libsndfile per file).

Gapless: FFmpeg strips the encoder delay and padding of MP3 files that carry a LAME/Xing header
and of Opus files (pre-skip); for MP4/M4A it skips the priming samples given by the edit list,
and this module trims the decoded samples to the stream's declared duration so the end padding
is dropped too. Raw ADTS AAC carries no such information and may read up to ~2048 samples long.

Samples are never clipped: a float file whose samples exceed full scale decodes as such.

Errors (all :class:`soundy.errors.InputError`, permanent): :class:`UnsupportedFormat` (not audio,
with a word on what it looks like), :class:`AudioTooLong` (from the header when it states a
duration, and again while decoding), :class:`EmptyAudio`, :class:`InvalidAudio` (NaN or infinite
samples, undecodable data). libsndfile and FFmpeg exceptions are mapped here.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from soundy.analysis._kernels import pcm_to_float
from soundy.errors import AudioTooLong, EmptyAudio, InvalidAudio, UnsupportedFormat

__all__ = [
    "DEFAULT_BLOCK_S",
    "MAX_SAMPLE_RATE_HZ",
    "MIN_SAMPLE_RATE_HZ",
    "AudioInfo",
    "AudioSource",
    "open_audio",
    "sniff_format",
]

# Block length yielded by AudioSource.blocks(), in seconds of audio.
DEFAULT_BLOCK_S = 3.0
# Sample rates the meters accept (BS.1770's 100 ms grid needs at least 1 kHz).
MIN_SAMPLE_RATE_HZ = 1000
MAX_SAMPLE_RATE_HZ = 768000
# A header estimate (compressed formats without an exact frame count) must exceed the limit by
# this factor before the file is refused without decoding; the exact count is checked anyway.
_ESTIMATE_MARGIN = 1.05

# WAVE_FORMAT_EXTENSIBLE speaker bits (dwChannelMask), by FFmpeg channel name.
_MASK_BITS: dict[str, int] = {
    "FL": 0x1,
    "FR": 0x2,
    "FC": 0x4,
    "LFE": 0x8,
    "BL": 0x10,
    "BR": 0x20,
    "FLC": 0x40,
    "FRC": 0x80,
    "BC": 0x100,
    "SL": 0x200,
    "SR": 0x400,
    "TC": 0x800,
    "TFL": 0x1000,
    "TFC": 0x2000,
    "TFR": 0x4000,
    "TBL": 0x8000,
    "TBC": 0x10000,
    "TBR": 0x20000,
}

# Formats libsndfile reads, by the name sniff_format gives them.
_SOUNDFILE_FORMATS = frozenset({"wav", "rf64", "w64", "aiff", "flac", "ogg_vorbis", "au", "caf"})

_SUBTYPE_BITS: dict[str, tuple[int | None, bool]] = {
    "PCM_S8": (8, False),
    "PCM_U8": (8, False),
    "PCM_16": (16, False),
    "PCM_24": (24, False),
    "PCM_32": (32, False),
    "FLOAT": (32, True),
    "DOUBLE": (64, True),
    "ALAC_16": (16, False),
    "ALAC_20": (20, False),
    "ALAC_24": (24, False),
    "ALAC_32": (32, False),
}

# Sample formats FFmpeg decodes to: numpy dtype, scale to full scale 1.0, offset.
_AV_SAMPLE_SCALE: dict[str, tuple[float, float]] = {
    "u8": (1 / 128, -128.0),
    "s16": (1 / 32768, 0.0),
    "s32": (1 / 2147483648, 0.0),
    "s64": (1 / 9223372036854775808, 0.0),
    "flt": (1.0, 0.0),
    "dbl": (1.0, 0.0),
}

# Undecodable packets tolerated in a compressed stream before it counts as corrupt.
_MAX_BAD_PACKETS = 50

_LOSSLESS_AV_CODECS = frozenset({"alac", "flac", "wavpack", "tta", "ape", "mlp", "truehd"})


@dataclass(frozen=True, kw_only=True)
class AudioInfo:
    """What the container says about the audio, before (or while) it is decoded.

    ``format`` is the detected container/codec family: "wav", "rf64", "w64", "aiff", "flac",
    "ogg_vorbis", "opus", "mp3", "m4a", "aac" (ADTS), "au", "caf", or FFmpeg's format name.
    ``bit_depth`` is None for lossy codecs. ``duration_s`` comes from the header (exact for PCM
    and FLAC, an estimate for compressed streams) and may be None. ``channel_mask`` uses the
    WAVE_FORMAT_EXTENSIBLE speaker bits (FL=0x1, FR=0x2, FC=0x4, LFE=0x8, BL=0x10, BR=0x20,
    SL=0x200, SR=0x400, ...) when the file states its layout, else None.
    """

    format: str
    codec: str
    sample_rate: int
    channels: int
    bit_depth: int | None
    is_float: bool
    duration_s: float | None
    duration_exact: bool
    channel_mask: int | None
    layout: str | None


def sniff_format(head: bytes) -> str | None:
    """Name the audio format that ``head`` (the file's first bytes, >= 64) starts, or None.

    Leading ID3v2 tags are skipped. Returns one of the ``AudioInfo.format`` names.
    """
    if head[:3] == b"ID3" and len(head) >= 10:
        size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9]
        rest = head[10 + size :]
        if len(rest) < 4:
            # The tag is longer than what we read; only MP3 commonly carries large ID3 tags.
            return "mp3"
        return sniff_format(rest) or "mp3"
    if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] in (b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "rf64"
    if head[:4] == b"riff" and head[4:8] == b"\x2e\x91\xcf\x11":
        return "w64"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        if b"OpusHead" in head[:80]:
            return "opus"
        if b"\x01vorbis" in head[:80]:
            return "ogg_vorbis"
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b".snd":
        return "au"
    if head[:4] == b"caff":
        return "caf"
    if len(head) >= 4 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        layer = (head[1] >> 1) & 0x3
        if layer == 0 and (head[1] & 0xF0) == 0xF0:
            return "aac"
        if layer != 0 and (head[2] >> 4) != 0xF and ((head[2] >> 2) & 0x3) != 0x3:
            return "mp3"
    return None


def _describe_non_audio(head: bytes) -> str:
    """A few words on what a file that is not audio looks like, for error messages."""
    known = [
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\x7fELF", "a program"),
        (b"MZ", "a Windows program"),
        (b"MThd", "a MIDI file (notes, not audio)"),
    ]
    for magic, what in known:
        if head.startswith(magic):
            return what
    if not head:
        return "an empty file"
    if head[:4] == b"RIFF":
        return f"a RIFF file of type {head[8:12]!r}, not WAVE"
    sample = head[:256]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        stripped = text.lstrip().lower()
        if stripped.startswith(("<!doctype html", "<html")):
            return "an HTML page"
        if stripped.startswith(("{", "[")):
            return "a JSON/text document"
        first = text.strip().splitlines()[0][:40] if text.strip() else ""
        return f"a text file starting with {first!r}"
    return f"binary data starting with {head[:8].hex(' ')}"


def _wav_channel_mask(fh: IO[bytes]) -> int | None:
    """Read dwChannelMask from a RIFF/RF64 WAVE ``fmt `` chunk (WAVE_FORMAT_EXTENSIBLE), if any."""
    fh.seek(12)
    for _ in range(64):
        header = fh.read(8)
        if len(header) < 8:
            return None
        chunk_id = header[:4]
        (size,) = struct.unpack("<I", header[4:])
        if chunk_id == b"fmt ":
            body = fh.read(min(size, 64))
            if len(body) >= 24 and struct.unpack("<H", body[:2])[0] == 0xFFFE:
                (mask,) = struct.unpack("<I", body[20:24])
                return int(mask) or None
            return None
        fh.seek(size + (size & 1), 1)
    return None


def _riff_data_offset(fh: IO[bytes]) -> int | None:
    """Byte offset of the ``data`` chunk's samples in a little-endian RIFF/WAVE file, or None."""
    fh.seek(0)
    if fh.read(4) != b"RIFF":
        return None
    fh.seek(12)
    for _ in range(64):
        header = fh.read(8)
        if len(header) < 8:
            return None
        (size,) = struct.unpack("<I", header[4:])
        if header[:4] == b"data":
            return fh.tell()
        fh.seek(size + (size & 1), 1)
    return None


# Bytes per sample of the PCM WAV subtypes read without libsndfile (see _SoundfileSource).
_DIRECT_PCM: dict[str, int] = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4}


def _read_pcm(
    fh: io.BufferedReader,
    frames: int,
    subtype: str,
    channels: int,
    scratch: bytearray | None = None,
) -> np.ndarray:
    """Read up to ``frames`` little-endian PCM frames from ``fh`` as float32 (n, channels).

    The same numbers as libsndfile's float conversion (normalised by 2^15, 2^23, 2^31): each
    integer is exact in float32 (16/24-bit) or rounded once (32-bit), then scaled by a power
    of two; the conversion is one C pass (``_kernels.pcm_to_float``), float samples are used
    as they are. ``scratch``: a buffer to read integer samples into, reused from call to call
    (fresh memory costs a page fault per 4 kB: ~5 ms per 4 minutes of 24-bit stereo).
    """
    width = _DIRECT_PCM[subtype]
    frame_bytes = width * channels
    if subtype == "FLOAT":  # the returned array is this buffer: never reused
        buf = bytearray(frames * frame_bytes)
        got = (fh.readinto(buf) or 0) // frame_bytes
        return np.frombuffer(buf, dtype="<f4", count=got * channels).reshape(-1, channels)
    if scratch is None or len(scratch) < frames * frame_bytes:
        scratch = bytearray(frames * frame_bytes)
    got = (fh.readinto(memoryview(scratch)[: frames * frame_bytes]) or 0) // frame_bytes
    out = np.empty((got, channels), dtype=np.float32)
    pcm_to_float(memoryview(scratch)[: got * frame_bytes], width, out)
    return out


def _mask_from_av_layout(layout: Any) -> int | None:
    mask = 0
    for channel in layout.channels:
        bit = _MASK_BITS.get(channel.name)
        if bit is None:
            return None
        mask |= bit
    return mask or None


class AudioSource:
    """An opened audio file: ``info`` now, float32 blocks (frames, channels) from ``blocks()``.

    Use as a context manager (closes the decoder). ``frames_read`` counts the frames yielded so
    far; ``fraction_done`` estimates progress in 0..1. Blocks are float32, C-contiguous, never
    clipped; a NaN/Inf sample raises :class:`InvalidAudio`, more than ``max_duration_s`` of audio
    raises :class:`AudioTooLong`, no audio at all raises :class:`EmptyAudio`.
    """

    def __init__(self, path: Path, info: AudioInfo, max_duration_s: float | None) -> None:
        self.path = path
        self.info = info
        self.max_duration_s = max_duration_s
        self.frames_read = 0
        self._max_frames = (
            None if max_duration_s is None else int(np.ceil(max_duration_s * info.sample_rate))
        )
        # Samples (frames x channels) accepted; None = no limit (set by open_audio).
        self._max_samples: int | None = None

    def __enter__(self) -> AudioSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    # True where every sample is an integer converted to float (libsndfile's integer PCM
    # subtypes): such blocks cannot hold NaN or infinity, and skip that check (a pass each).
    _integer_pcm = False

    @property
    def light_reading(self) -> bool:
        """True when a block is read by a plain copy and conversion (uncompressed PCM read with
        one C pass, ~0.5 ms per 6 s of 24-bit stereo), not worth a thread of its own; False
        when decoding costs real CPU time (compressed formats), which a reading thread
        overlaps."""
        return False

    def _raw_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        raise NotImplementedError

    @property
    def fraction_done(self) -> float:
        """Estimated decoded fraction of the file, 0..1."""
        if self.info.duration_s:
            done = self.frames_read / (self.info.duration_s * self.info.sample_rate)
            return float(min(done, 1.0 if self.info.duration_exact else 0.99))
        return 0.0

    def blocks(self, block_s: float = DEFAULT_BLOCK_S) -> Iterator[np.ndarray]:
        """Yield float32 arrays of shape (frames, channels), about ``block_s`` seconds each."""
        block_frames = max(1024, round(block_s * self.info.sample_rate))
        name = self.path.name
        for block in self._raw_blocks(block_frames):
            if block.shape[0] == 0:
                continue
            if not self._integer_pcm and not np.isfinite(block).all():
                bad = int(np.argmax(~np.isfinite(block).all(axis=1)))
                at_s = (self.frames_read + bad) / self.info.sample_rate
                raise InvalidAudio(
                    f"{name}: the audio contains NaN or infinite sample values "
                    f"(first at {at_s:.2f} s); it cannot be measured"
                )
            self.frames_read += block.shape[0]
            if self._max_frames is not None and self.frames_read > self._max_frames:
                raise AudioTooLong(
                    f"{name}: longer than the limit of {_fmt_duration(self.max_duration_s)}"
                )
            if self._max_samples is not None and (
                self.frames_read * self.info.channels > self._max_samples
            ):
                raise AudioTooLong(f"{name}: {_too_many_samples(self._max_samples)}")
            yield block
        if self.frames_read == 0:
            raise EmptyAudio(f"{name}: the file contains no audio samples")


def _too_many_samples(max_samples: int) -> str:
    return (
        f"more audio than one analysis takes: at most {max_samples:,} samples "
        "(frames x channels; e.g. 20 minutes of stereo at 192 kHz)"
    )


def _fmt_duration(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss`` from an hour), e.g. "20:00 (m:ss)"."""
    if seconds is None:
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{secs:02d} (h:mm:ss)"
    return f"{minutes}:{secs:02d} (m:ss)"


class _SoundfileSource(AudioSource):
    def __init__(
        self, path: Path, fmt: str, max_duration_s: float | None, handle: Any, mask: int | None
    ) -> None:
        self._sf = handle
        bits, is_float = _SUBTYPE_BITS.get(handle.subtype, (None, False))
        if fmt == "ogg_vorbis" or handle.subtype in ("VORBIS", "OPUS", "MPEG_LAYER_III"):
            bits, is_float = None, False
        self._integer_pcm = bits is not None and not is_float
        frames = int(handle.frames)
        info = AudioInfo(
            format=fmt,
            codec=str(handle.subtype).lower(),
            sample_rate=int(handle.samplerate),
            channels=int(handle.channels),
            bit_depth=bits,
            is_float=is_float,
            duration_s=frames / handle.samplerate if frames > 0 else None,
            duration_exact=fmt != "ogg_vorbis",
            channel_mask=mask,
            layout=None,
        )
        super().__init__(path, info, max_duration_s)
        self._frames = frames
        self._data_offset = self._fast_path_offset() if fmt == "wav" else None

    @property
    def light_reading(self) -> bool:
        return self._data_offset is not None

    def close(self) -> None:
        self._sf.close()

    def _fast_path_offset(self) -> int | None:
        """Where plain little-endian PCM samples start, if they can be read directly.

        libsndfile converts 24-bit samples at ~15 ns each; ``_read_pcm`` does the same
        conversion in ~0.2 ns. Used only for 16/24/32-bit integer and 32-bit float WAV whose
        data chunk holds every frame libsndfile counts, and only when the first frames convert
        to exactly what libsndfile gives; everything else reads through libsndfile.
        """
        subtype = self._sf.subtype
        if subtype not in _DIRECT_PCM or self._sf.endian not in ("FILE", "LITTLE"):
            return None
        with open(self.path, "rb") as fh:
            offset = _riff_data_offset(fh)
            size = fh.seek(0, 2)
        frame_bytes = self.info.channels * _DIRECT_PCM[subtype]
        if offset is None or offset + self._frames * frame_bytes > size:
            return None
        check = min(self._frames, 4096)
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            ours = _read_pcm(fh, check, subtype, self.info.channels)
        theirs = self._sf.read(check, dtype="float32", always_2d=True)
        self._sf.seek(0)
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
            return None
        return offset

    def _raw_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        if self._data_offset is not None:
            yield from self._direct_blocks(block_frames, self._data_offset)
            return
        import soundfile as sf  # loaded already by _open_soundfile; see there

        while True:
            try:
                data = self._sf.read(block_frames, dtype="float32", always_2d=True)
            except sf.LibsndfileError as exc:
                raise InvalidAudio(
                    f"{self.path.name}: the audio data is corrupt near "
                    f"{self.frames_read / self.info.sample_rate:.1f} s ({exc.error_string})"
                ) from exc
            if data.shape[0] == 0:
                return
            yield data
            if data.shape[0] < block_frames:
                return

    def _direct_blocks(self, block_frames: int, offset: int) -> Iterator[np.ndarray]:
        remaining = self._frames
        width = _DIRECT_PCM[self._sf.subtype]
        scratch = bytearray(min(block_frames, remaining) * self.info.channels * width)
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            while remaining > 0:
                want = min(block_frames, remaining)
                block = _read_pcm(fh, want, self._sf.subtype, self.info.channels, scratch)
                if block.shape[0] == 0:
                    return
                yield block
                remaining -= block.shape[0]
                if block.shape[0] < want:
                    return


class _PyAVSource(AudioSource):
    def __init__(self, path: Path, fmt: str, max_duration_s: float | None, container: Any) -> None:
        self._container = container
        stream = container.streams.audio[0]
        self._stream = stream
        cc = stream.codec_context
        rate = int(cc.sample_rate or stream.rate or 0)
        channels = int(cc.channels or 0)
        if rate <= 0 or channels <= 0:
            raise UnsupportedFormat(f"{path.name}: the audio stream has no sample rate or channels")
        duration_s: float | None = None
        self._end_pts: int | None = None
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
            if fmt == "m4a":
                # The edit list's duration: trim the encoder's end padding to it.
                self._end_pts = int(stream.duration)
        elif container.duration is not None:
            duration_s = container.duration / 1_000_000
        codec = {"mp3float": "mp3"}.get(stream.codec.name, stream.codec.name)
        lossless = codec in _LOSSLESS_AV_CODECS or codec.startswith("pcm_")
        sample_fmt = cc.format.name if cc.format is not None else ""
        bits: int | None = None
        if lossless:
            bits = (cc.format.bytes * 8) if cc.format is not None else None
            if codec.startswith("pcm_"):
                digits = "".join(ch for ch in codec.split("_")[1] if ch.isdigit())
                bits = int(digits) if digits else bits
        info = AudioInfo(
            format=fmt,
            codec=codec,
            sample_rate=rate,
            channels=channels,
            bit_depth=bits,
            is_float=lossless and sample_fmt.startswith(("flt", "dbl")),
            duration_s=duration_s if duration_s and duration_s > 0 else None,
            duration_exact=False,
            channel_mask=_mask_from_av_layout(cc.layout) if cc.layout is not None else None,
            layout=cc.layout.name if cc.layout is not None else None,
        )
        super().__init__(path, info, max_duration_s)

    def close(self) -> None:
        self._container.close()

    def _decoded(self) -> Iterator[Any]:
        """FFmpeg frames; a corrupt packet is skipped (as FFmpeg's own tools do) unless too many.

        More than ``_MAX_BAD_PACKETS`` undecodable packets, or more than 1 in 20, raise
        InvalidAudio.
        """
        import av  # loaded already by _open_pyav; see there

        stream = self._stream
        good = bad = 0
        try:
            for packet in self._container.demux(stream):
                try:
                    frames = packet.decode()
                except av.InvalidDataError:
                    bad += 1
                    if bad > _MAX_BAD_PACKETS or bad > 1 + (good + bad) // 20:
                        raise
                    continue
                good += 1
                yield from frames
        except av.FFmpegError as exc:
            raise InvalidAudio(
                f"{self.path.name}: the audio data is corrupt near "
                f"{self.frames_read / self.info.sample_rate:.1f} s ({bad} undecodable packets; "
                f"{getattr(exc, 'strerror', None) or exc})"
            ) from exc

    def _frames(self) -> Iterator[np.ndarray]:
        """Decoded frames as float32 arrays of shape (channels, n), end padding trimmed."""
        stream = self._stream
        channels = self.info.channels
        end_samples: int | None = None
        if self._end_pts is not None:
            end_samples = round(self._end_pts * stream.time_base * self.info.sample_rate)
        emitted = 0
        for frame in self._decoded():
            if frame.sample_rate != self.info.sample_rate or len(frame.layout.channels) != (
                channels
            ):
                raise InvalidAudio(
                    f"{self.path.name}: the sample rate or channel count changes mid-stream"
                )
            arr = frame.to_ndarray()
            fmt = frame.format
            base = fmt.name.rstrip("p")
            planar = arr if fmt.is_planar else arr.reshape(-1, channels).T
            scale, offset = _AV_SAMPLE_SCALE.get(base, (1.0, 0.0))
            if base == "flt":
                out = planar.astype(np.float32, copy=False)
            else:
                out = planar.astype(np.float32)
                if offset:
                    out += np.float32(offset)
                if scale != 1.0:
                    out *= np.float32(scale)
            if end_samples is not None:
                room = end_samples - emitted
                if room <= 0:
                    return
                out = out[:, :room]
            emitted += out.shape[1]
            yield out

    def _raw_blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        pending: list[np.ndarray] = []
        count = 0
        for planar in self._frames():
            pending.append(planar)
            count += planar.shape[1]
            if count >= block_frames:
                yield np.ascontiguousarray(np.concatenate(pending, axis=1).T)
                pending, count = [], 0
        if pending:
            yield np.ascontiguousarray(np.concatenate(pending, axis=1).T)


def _open_soundfile(path: Path, fmt: str, max_duration_s: float | None) -> AudioSource:
    import soundfile as sf  # start-up of `soundy analyze`: only for the files libsndfile reads

    try:
        handle = sf.SoundFile(str(path))
    except sf.LibsndfileError as exc:
        raise UnsupportedFormat(
            f"{path.name}: looks like {fmt.upper()} but cannot be read ({exc.error_string})"
        ) from exc
    mask = None
    if fmt in ("wav", "rf64"):
        with open(path, "rb") as fh:
            mask = _wav_channel_mask(fh)
    return _SoundfileSource(path, fmt, max_duration_s, handle, mask)


def _open_pyav(path: Path, fmt: str | None, head: bytes) -> AudioSource | None:
    """Open with FFmpeg; None when FFmpeg cannot open it as audio."""
    import av  # start-up of `soundy analyze`: only for what libsndfile cannot read

    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        return None
    if not container.streams.audio:
        container.close()
        what = _describe_non_audio(head)
        if what.startswith(("a text file", "binary data")):
            what = f"a {container.format.name.split(',')[0]} file with no audio stream"
        raise UnsupportedFormat(f"{path.name}: not an audio file (it looks like {what})")
    try:
        return _PyAVSource(path, fmt or container.format.name.split(",")[0], None, container)
    except BaseException:
        container.close()
        raise


def open_audio(
    path: str | Path,
    *,
    max_duration_s: float | None = None,
    max_samples: int | None = None,
    max_channels: int | None = None,
    max_sample_rate_hz: int | None = None,
) -> AudioSource:
    """Open ``path`` for streaming decoding; the format is detected from its content.

    Parameters
    ----------
    path : file to decode.
    max_duration_s : longest audio accepted, in seconds; None = no limit. Checked against the
        header before decoding (with a 5 % margin when the header only estimates) and exactly
        while decoding.
    max_samples : most samples (frames x channels) accepted, the work and memory of one
        analysis grow with it; None = no limit. Checked like ``max_duration_s``.
    max_channels : most channels accepted; None = no limit. From the header.
    max_sample_rate_hz : highest sample rate accepted, in Hz (at most ``MAX_SAMPLE_RATE_HZ``);
        None = ``MAX_SAMPLE_RATE_HZ``. From the header.

    Raises UnsupportedFormat, AudioTooLong, EmptyAudio (here or from ``blocks()``).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except IsADirectoryError as exc:
        raise UnsupportedFormat(f"{path.name}: a directory, not an audio file") from exc
    if not head:
        raise EmptyAudio(f"{path.name}: the file is empty (0 bytes)")
    fmt = sniff_format(head)
    if fmt == "ogg" and b"\x7fFLAC" not in head[:80]:
        fmt_for_av: str | None = "ogg"
    else:
        fmt_for_av = fmt
    source: AudioSource | None = None
    if fmt in _SOUNDFILE_FORMATS:
        source = _open_soundfile(path, fmt, max_duration_s)
        if fmt == "ogg_vorbis" and source.info.channels > 2:
            # libsndfile keeps Vorbis' own channel order; FFmpeg maps it to a known layout.
            source.close()
            source = _open_pyav(path, fmt, head)
    else:
        source = _open_pyav(path, fmt_for_av, head)
    if source is None:
        if fmt is None:
            raise UnsupportedFormat(
                f"{path.name}: not an audio file (it looks like {_describe_non_audio(head)})"
            )
        raise UnsupportedFormat(f"{path.name}: looks like {fmt.upper()} but cannot be decoded")
    source.max_duration_s = max_duration_s
    info = source.info
    if not MIN_SAMPLE_RATE_HZ <= info.sample_rate <= MAX_SAMPLE_RATE_HZ:
        source.close()
        raise UnsupportedFormat(
            f"{path.name}: a sample rate of {info.sample_rate} Hz is outside what can be "
            f"measured ({MIN_SAMPLE_RATE_HZ} to {MAX_SAMPLE_RATE_HZ} Hz)"
        )
    if max_sample_rate_hz is not None and info.sample_rate > max_sample_rate_hz:
        source.close()
        raise UnsupportedFormat(
            f"{path.name}: a sample rate of {info.sample_rate} Hz is over this service's "
            f"limit of {max_sample_rate_hz} Hz; convert it to a lower rate (e.g. 48000 Hz)"
        )
    if max_channels is not None and info.channels > max_channels:
        source.close()
        raise UnsupportedFormat(
            f"{path.name}: {info.channels} channels, over this service's limit of "
            f"{max_channels}; mix it down (e.g. to stereo)"
        )
    if max_samples is not None:
        source._max_samples = max_samples
        estimate = max_samples * (1.0 if info.duration_exact else _ESTIMATE_MARGIN)
        if info.duration_s is not None and (
            info.duration_s * info.sample_rate * info.channels > estimate
        ):
            source.close()
            raise AudioTooLong(
                f"{path.name}: {_fmt_duration(info.duration_s)} of {info.channels} channels "
                f"at {info.sample_rate} Hz is {_too_many_samples(max_samples)}"
            )
    if max_duration_s is not None:
        source._max_frames = int(np.ceil(max_duration_s * info.sample_rate))
        limit = max_duration_s * (1.0 if info.duration_exact else _ESTIMATE_MARGIN)
        if info.duration_s is not None and info.duration_s > limit:
            source.close()
            raise AudioTooLong(
                f"{path.name}: {_fmt_duration(info.duration_s)} long, over the limit of "
                f"{_fmt_duration(max_duration_s)}"
            )
    if info.duration_exact and info.duration_s is None:
        source.close()
        raise EmptyAudio(f"{path.name}: the file contains no audio samples")
    return source
