"""Decoding: every supported format, written by real encoders (libsndfile, FFmpeg via PyAV),
decodes with the right rate, channels and duration; bad input fails with the right InputError."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from soundy.analysis.decode import open_audio, sniff_format
from soundy.errors import AudioTooLong, EmptyAudio, InputError, InvalidAudio, UnsupportedFormat


def _signal(frames: int, channels: int, sample_rate: int, seed: int = 0) -> np.ndarray:
    """Sines plus a little noise, peak ~0.5, shape (frames, channels), float32."""
    t = np.arange(frames) / sample_rate
    rng = np.random.default_rng(seed)
    cols = [
        0.4 * np.sin(2 * np.pi * (220 + 110 * ch) * t) + 0.05 * rng.standard_normal(frames)
        for ch in range(channels)
    ]
    return np.stack(cols, axis=1).astype(np.float32)


def _encode_pyav(path: Path, data: np.ndarray, sample_rate: int, codec: str, fmt: str) -> None:
    """Encode (frames, channels) float samples with FFmpeg's ``codec`` into container ``fmt``."""
    layout = {1: "mono", 2: "stereo"}[data.shape[1]]
    container = av.open(str(path), "w", format=fmt)
    stream = container.add_stream(codec, rate=sample_rate if codec != "libopus" else 48000)
    stream.layout = layout
    planar = np.ascontiguousarray(data.T.astype(np.float32))
    for start in range(0, planar.shape[1], 4096):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(planar[:, start : start + 4096]), format="fltp", layout=layout
        )
        frame.sample_rate = sample_rate
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def _consume(path: Path, **kwargs: float) -> None:
    with open_audio(path, **kwargs) as source:
        for _ in source.blocks():
            pass


def _decode_all(path: Path, **kwargs: float) -> tuple[np.ndarray, object]:
    with open_audio(path, **kwargs) as source:
        blocks = list(source.blocks(block_s=1.0))
        return np.concatenate(blocks), source.info


@pytest.mark.parametrize(
    ("container", "subtype", "bits", "is_float"),
    [
        ("WAV", "PCM_U8", 8, False),
        ("WAV", "PCM_16", 16, False),
        ("WAV", "PCM_24", 24, False),
        ("WAV", "PCM_32", 32, False),
        ("WAV", "FLOAT", 32, True),
        ("WAV", "DOUBLE", 64, True),
        ("AIFF", "PCM_16", 16, False),
        ("AIFF", "PCM_24", 24, False),
        ("FLAC", "PCM_16", 16, False),
        ("FLAC", "PCM_24", 24, False),
    ],
)
def test_lossless_formats_decode_exactly(
    tmp_path: Path, container: str, subtype: str, bits: int, is_float: bool
) -> None:
    rate, frames = 44100, 44100 * 2 + 17
    data = _signal(frames, 2, rate)
    # A misleading extension: detection must use the content.
    path = tmp_path / "track.bin"
    sf.write(path, data, rate, format=container, subtype=subtype)
    decoded, info = _decode_all(path)
    assert info.sample_rate == rate
    assert info.channels == 2
    assert info.bit_depth == bits
    assert info.is_float is is_float
    assert info.format == container.lower()
    assert decoded.shape == (frames, 2)
    assert decoded.dtype == np.float32
    tolerance = 1.5 / 2 ** (bits - 1) if not is_float else 1e-7
    np.testing.assert_allclose(decoded, data, atol=tolerance)


@pytest.mark.parametrize(
    ("codec", "fmt", "expected_format", "rate", "channels"),
    [
        ("libmp3lame", "mp3", "mp3", 44100, 2),
        ("libmp3lame", "mp3", "mp3", 48000, 1),
        ("aac", "ipod", "m4a", 44100, 2),
        ("aac", "ipod", "m4a", 48000, 1),
        ("libopus", "ogg", "opus", 48000, 2),
        ("aac", "adts", "aac", 44100, 2),
    ],
)
def test_lossy_formats_keep_rate_channels_and_duration(
    tmp_path: Path, codec: str, fmt: str, expected_format: str, rate: int, channels: int
) -> None:
    frames = rate * 3 + 123
    path = tmp_path / "track.audio"
    _encode_pyav(path, _signal(frames, channels, rate), rate, codec, fmt)
    decoded, info = _decode_all(path)
    assert info.format == expected_format
    assert info.sample_rate == rate
    assert info.channels == channels
    assert info.bit_depth is None
    # Gapless: encoder delay and padding stripped (raw ADTS has no metadata for it, yet stays
    # within the same bound).
    assert abs(decoded.shape[0] / rate - frames / rate) < 0.05
    # The content is the signal (level within 1 dB), not silence or garbage.
    rms_in = np.sqrt(np.mean(_signal(frames, channels, rate) ** 2))
    rms_out = np.sqrt(np.mean(decoded.astype(np.float64) ** 2))
    assert abs(20 * np.log10(rms_out / rms_in)) < 1.0


@pytest.mark.parametrize("codec", ["libmp3lame", "aac"])
def test_mp3_and_aac_are_gapless_in_time(tmp_path: Path, codec: str) -> None:
    """The decoded signal starts when the source starts: a click at 0.5 s stays at 0.5 s."""
    rate = 44100
    data = np.zeros((rate * 2, 2), dtype=np.float32)
    click_at = rate // 2
    data[click_at : click_at + 64] = np.hanning(64)[:, None].astype(np.float32) * 0.9
    path = tmp_path / "click"
    _encode_pyav(path, data, rate, codec, "mp3" if codec == "libmp3lame" else "ipod")
    decoded, _ = _decode_all(path)
    found = int(np.argmax(np.abs(decoded[:, 0])))
    assert abs(found - (click_at + 32)) < rate * 0.005
    assert abs(decoded.shape[0] - data.shape[0]) < rate * 0.05


def test_ogg_vorbis(tmp_path: Path) -> None:
    rate, frames = 48000, 48000 * 2
    path = tmp_path / "v.ogg"
    sf.write(path, _signal(frames, 2, rate), rate, format="OGG", subtype="VORBIS")
    decoded, info = _decode_all(path)
    assert (info.format, info.sample_rate, info.channels, info.bit_depth) == (
        "ogg_vorbis",
        rate,
        2,
        None,
    )
    assert abs(decoded.shape[0] - frames) < rate * 0.05


def _write_extensible_wav(path: Path, data: np.ndarray, rate: int, mask: int) -> None:
    """A 16-bit WAVE_FORMAT_EXTENSIBLE file with ``mask`` as dwChannelMask, written by hand."""
    channels = data.shape[1]
    pcm = np.clip(np.round(data * 32767), -32768, 32767).astype("<i2").tobytes()
    ksdataformat_pcm = bytes.fromhex("0100000000001000800000aa00389b71")
    fmt = struct.pack(
        "<HHIIHHHHI16s",
        0xFFFE,
        channels,
        rate,
        rate * channels * 2,
        channels * 2,
        16,
        22,
        16,
        mask,
        ksdataformat_pcm,
    )
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(pcm)) + pcm
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_extensible_wav_reports_its_5_1_channel_mask(tmp_path: Path) -> None:
    rate = 48000
    data = _signal(rate, 6, rate)
    path = tmp_path / "surround.wav"
    mask_5_1_side = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x400
    _write_extensible_wav(path, data, rate, mask_5_1_side)
    decoded, info = _decode_all(path)
    assert info.channels == 6
    assert info.channel_mask == mask_5_1_side
    assert decoded.shape == (rate, 6)
    np.testing.assert_allclose(decoded, data, atol=1.5 / 32768)


def test_float_wav_over_full_scale_is_not_clipped(tmp_path: Path) -> None:
    rate = 44100
    data = _signal(rate, 2, rate) * 4.0  # peaks near +6 dBFS... and beyond
    path = tmp_path / "hot.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    decoded, info = _decode_all(path)
    assert info.is_float
    assert np.abs(decoded).max() > 1.5
    np.testing.assert_allclose(decoded, data, rtol=1e-6)


def test_not_audio_says_what_it_looks_like(tmp_path: Path) -> None:
    text = tmp_path / "song.mp3"
    text.write_text("<!DOCTYPE html><html><body>404</body></html>")
    with pytest.raises(UnsupportedFormat, match="HTML"):
        open_audio(text)
    png = tmp_path / "cover.wav"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(UnsupportedFormat, match="PNG image"):
        open_audio(png)


def test_empty_files(tmp_path: Path) -> None:
    zero_bytes = tmp_path / "zero.wav"
    zero_bytes.write_bytes(b"")
    with pytest.raises(EmptyAudio, match="empty"):
        open_audio(zero_bytes)
    no_samples = tmp_path / "nosamples.wav"
    sf.write(no_samples, np.zeros((0, 2)), 44100)
    with pytest.raises(EmptyAudio, match="no audio samples"):
        _consume(no_samples)


def test_truncated_and_corrupt_files(tmp_path: Path) -> None:
    rate = 44100
    data = _signal(rate * 4, 2, rate)
    wav = tmp_path / "full.wav"
    sf.write(wav, data, rate, subtype="PCM_16")
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(wav.read_bytes()[:30])
    with pytest.raises(UnsupportedFormat, match="WAV"):
        open_audio(header_only)

    flac = tmp_path / "full.flac"
    sf.write(flac, data, rate, subtype="PCM_16")
    raw = flac.read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InvalidAudio, match="corrupt"):
        _consume(cut)

    garbage = tmp_path / "garbage.mp3"
    rng = np.random.default_rng(3)
    garbage.write_bytes(b"\xff\xfb\x90\x64" + rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError) as excinfo:
        _consume(garbage)
    assert "\n" not in str(excinfo.value)


def test_nan_samples_are_refused(tmp_path: Path) -> None:
    rate = 44100
    data = _signal(rate * 2, 2, rate)
    data[rate + 5, 1] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    with pytest.raises(InvalidAudio, match=r"NaN or infinite .*1\.00 s"):
        _consume(path)


def test_too_long_is_refused_from_the_header_before_decoding(tmp_path: Path) -> None:
    rate = 8000
    path = tmp_path / "long.wav"
    sf.write(path, np.zeros((rate * 30, 1), dtype=np.float32), rate)
    with pytest.raises(AudioTooLong, match="0:30"):
        open_audio(path, max_duration_s=10)


def test_too_long_is_refused_while_decoding_when_the_header_hides_it(tmp_path: Path) -> None:
    rate = 44100
    path = tmp_path / "long.mp3"
    _encode_pyav(path, _signal(rate * 6, 1, rate), rate, "libmp3lame", "mp3")
    # The header's estimate is within the 5 % margin; the exact count is checked while decoding.
    with pytest.raises(AudioTooLong, match="limit"):
        _consume(path, max_duration_s=5.9)


def test_too_many_samples_channels_or_too_high_a_rate_are_refused_from_the_header(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wide.flac"
    sf.write(path, np.zeros((96000 * 2, 6), dtype=np.int16), 96000, subtype="PCM_16")
    with pytest.raises(AudioTooLong, match=r"6 channels at 96000 Hz .* 1,000,000 samples"):
        open_audio(path, max_samples=1_000_000)
    with pytest.raises(UnsupportedFormat, match="6 channels, over this service's limit of 2"):
        open_audio(path, max_channels=2)
    with pytest.raises(UnsupportedFormat, match="96000 Hz is over this service's limit"):
        open_audio(path, max_sample_rate_hz=48000)
    with open_audio(path, max_samples=96000 * 2 * 6, max_channels=6, max_sample_rate_hz=96000):
        pass


def test_too_many_samples_are_refused_while_decoding_when_the_header_hides_it(
    tmp_path: Path,
) -> None:
    rate = 44100
    path = tmp_path / "long.mp3"
    _encode_pyav(path, _signal(rate * 6, 2, rate), rate, "libmp3lame", "mp3")
    # 6 s of stereo is 529,200 samples; the header's estimate is within the 5 % margin.
    with pytest.raises(AudioTooLong, match="515,000 samples"):
        _consume(path, max_samples=515_000)


def test_sniff_format_skips_id3_tags() -> None:
    id3 = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10)
    assert sniff_format(id3 + b"fLaC" + bytes(60)) == "flac"
    assert sniff_format(id3 + b"\xff\xfb\x90\x64" + bytes(60)) == "mp3"
    assert sniff_format(b"\x00\x00\x00\x20ftypM4A " + bytes(60)) == "m4a"
    assert sniff_format(b"hello world, not audio at all" + bytes(40)) is None


def test_sample_rates_the_meters_cannot_use_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "slow.wav"
    sf.write(path, np.zeros((2000, 1)), 500)
    with pytest.raises(UnsupportedFormat, match="500 Hz"):
        open_audio(path)


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"WAVE"
    for chunk_id, payload in chunks:
        body += chunk_id + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
def test_wav_read_without_libsndfile_gives_libsndfile_numbers(tmp_path: Path, subtype: str) -> None:
    """PCM WAV is read directly (faster); every sample must equal libsndfile's conversion,
    with other chunks before and after the samples, and for a file cut short."""
    rate, frames = 44100, 44100 * 7 + 321  # several blocks and a partial one
    data = _signal(frames, 2, rate, seed=9)
    data[1000:1010] = 1.0  # full scale
    data[2000:2010] = -1.0
    plain = tmp_path / "plain.wav"
    sf.write(plain, data, rate, subtype=subtype)

    # The same samples with an odd-sized LIST chunk before them and a chunk after them.
    raw = plain.read_bytes()
    fmt_at = raw.index(b"fmt ")
    fmt_size = struct.unpack("<I", raw[fmt_at + 4 : fmt_at + 8])[0]
    fmt_payload = raw[fmt_at + 8 : fmt_at + 8 + fmt_size]
    data_at = raw.index(b"data")
    data_size = struct.unpack("<I", raw[data_at + 4 : data_at + 8])[0]
    samples = raw[data_at + 8 : data_at + 8 + data_size]
    chunky = tmp_path / "chunky.wav"
    chunky.write_bytes(
        _riff([(b"fmt ", fmt_payload), (b"LIST", b"INFOISFT\x05\0\0\0abcd\0"), (b"data", samples)])
        + b"id3 "
        + struct.pack("<I", 4)
        + b"tag!"
    )
    cut = tmp_path / "cut.wav"
    cut.write_bytes(raw[: len(raw) - len(samples) // 3])

    for path in (plain, chunky, cut):
        reference, _ = sf.read(path, dtype="float32", always_2d=True)
        with open_audio(path) as source:
            assert source._data_offset is not None, f"{path.name} took the slow path"
            decoded = np.concatenate(list(source.blocks(block_s=3.0)))
        assert decoded.shape == reference.shape
        np.testing.assert_array_equal(decoded, reference)
