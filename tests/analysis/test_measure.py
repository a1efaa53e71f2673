"""``measure_file``: the whole pass on real files, checked against the standards' numbers.

A stereo sine of per-channel peak X dBFS at 1 kHz reads X + G_K(1 kHz) - 0.691 LUFS with
G_K(1 kHz) = +0.6977 dB at 48 kHz (ITU-R BS.1770-4, docs/measurements.md); its crest factor is
3.01 dB, its sample and true peaks are X, and it sits in the ``mid`` band (500 Hz-2 kHz).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import soundfile as sf
from tests.real_music import write_16bit

from soundy.analysis import measure, measure_file
from soundy.analysis.measure import MAX_SERIES_POINTS, json_safe, pool_series

RESULT_KEYS: dict[str, tuple[str, ...]] = {
    "file": ("name", "format", "duration_s", "sample_rate", "channels", "bit_depth"),
    "loudness": ("integrated_lufs", "range_lu", "momentary_max_lufs", "short_term_max_lufs"),
    "peaks": ("true_peak_dbtp", "sample_peak_dbfs", "clipped_samples", "channels"),
    "dynamics": ("plr_db", "crest_db", "dr"),
    "stereo": ("correlation", "width", "balance_db", "mono_loss_lu"),
    "spectrum": ("bands", "centroid_hz", "rolloff_hz", "tilt_db_per_octave"),
    "series": ("hop_s", "momentary_lufs", "short_term_lufs", "correlation"),
}
G_K_1KHZ_48K_DB = 0.6977


def _sine(seconds: float, rate: int, peak_dbfs: float, freq_hz: float = 1000.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    x = 10 ** (peak_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t)
    return np.stack([x, x], axis=1)


def _music(seconds: float, rate: int, seed: int = 1) -> np.ndarray:
    """Noise with a falling spectrum, chords and a kick every 0.5 s; stereo, peak < 0.9."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    t = np.arange(n) / rate
    noise = np.cumsum(rng.standard_normal((n, 2)), axis=0)
    noise -= np.linspace(noise[0], noise[-1], n)
    noise = 0.1 * noise / np.abs(noise).max() + 0.02 * rng.standard_normal((n, 2))
    tones = 0.1 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 3300 * t)
    pos = np.mod(t, 0.5)
    kick = 0.4 * np.exp(-pos * 30) * np.sin(2 * np.pi * 60 * pos)
    out = noise + (tones + kick)[:, None] * np.array([1.0, 0.8])
    return out / np.abs(out).max() * 0.85


def _mp3(path: Path, data: np.ndarray, rate: int) -> None:
    container = av.open(str(path), "w", format="mp3")
    stream = container.add_stream("libmp3lame", rate=rate)
    stream.layout = "stereo"
    stream.bit_rate = 320_000
    planar = np.ascontiguousarray(data.T.astype(np.float32))
    for start in range(0, planar.shape[1], 4096):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(planar[:, start : start + 4096]), format="fltp", layout="stereo"
        )
        frame.sample_rate = rate
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def _measure(path: Path, **kwargs: Any) -> dict[str, Any]:
    return measure_file(path, max_duration_s=3600, **kwargs)


@pytest.fixture(scope="module")
def sine_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("sine") / "sine.wav"
    sf.write(path, _sine(20, 48000, -20.0), 48000, subtype="PCM_24")
    return _measure(path)


def test_result_has_every_design_key_and_is_strict_json(sine_result: dict[str, Any]) -> None:
    assert sine_result["schema_version"] == 1
    for section, keys in RESULT_KEYS.items():
        assert isinstance(sine_result[section], dict), section
        for key in keys:
            assert key in sine_result[section], f"{section}.{key}"
    for band in sine_result["spectrum"]["bands"]:
        assert set(band) >= {"key", "low_hz", "high_hz", "level_db"}
    for channel in sine_result["peaks"]["channels"]:
        assert set(channel) >= {"true_peak_dbtp", "sample_peak_dbfs"}
    json.dumps(sine_result, allow_nan=False)
    assert sine_result["file"]["name"] == "sine.wav"
    assert sine_result["file"]["format"] == "wav"
    assert sine_result["file"]["bit_depth"] == 24
    assert sine_result["file"]["sample_rate"] == 48000
    assert sine_result["file"]["channels"] == 2
    assert sine_result["file"]["duration_s"] == pytest.approx(20.0, abs=1e-6)


def test_1khz_sine_matches_bs1770(sine_result: dict[str, Any]) -> None:
    expected_lufs = -20.0 + G_K_1KHZ_48K_DB - 0.691
    loudness = sine_result["loudness"]
    assert loudness["integrated_lufs"] == pytest.approx(expected_lufs, abs=0.05)
    assert loudness["momentary_max_lufs"] == pytest.approx(expected_lufs, abs=0.05)
    assert loudness["short_term_max_lufs"] == pytest.approx(expected_lufs, abs=0.05)
    assert loudness["range_lu"] == pytest.approx(0.0, abs=0.1)
    peaks = sine_result["peaks"]
    assert peaks["sample_peak_dbfs"] == pytest.approx(-20.0, abs=0.01)
    assert peaks["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.1)
    assert peaks["true_peak_dbtp"] >= peaks["sample_peak_dbfs"] - 1e-9
    assert peaks["clipped_samples"] == 0
    assert len(peaks["channels"]) == 2
    dynamics = sine_result["dynamics"]
    assert dynamics["crest_db"] == pytest.approx(10 * math.log10(2), abs=0.05)
    assert dynamics["plr_db"] == pytest.approx(
        peaks["true_peak_dbtp"] - loudness["integrated_lufs"], abs=1e-6
    )
    stereo = sine_result["stereo"]
    assert stereo["correlation"] == pytest.approx(1.0, abs=1e-3)
    assert stereo["balance_db"] == pytest.approx(0.0, abs=0.01)
    assert stereo["mono_loss_lu"] == pytest.approx(0.0, abs=0.05)
    bands = {b["key"]: b["level_db"] for b in sine_result["spectrum"]["bands"]}
    assert max(bands, key=lambda k: bands[k] if bands[k] is not None else -1e9) == "mid"
    assert bands["mid"] == pytest.approx(0.0, abs=0.1)
    assert sine_result["spectrum"]["centroid_hz"] == pytest.approx(1000.0, rel=0.05)


def test_series_are_bounded_and_cover_the_file(sine_result: dict[str, Any]) -> None:
    series = sine_result["series"]
    duration_s = sine_result["file"]["duration_s"]
    assert 0 < series["hop_s"] <= 1.0
    for key in ("momentary_lufs", "short_term_lufs", "correlation"):
        values = series[key]
        assert 0 < len(values) <= MAX_SERIES_POINTS
        assert abs(len(values) * series["hop_s"] - duration_s) <= 3.0 + series["hop_s"]
    expected_lufs = -20.0 + G_K_1KHZ_48K_DB - 0.691
    steady = [v for v in series["short_term_lufs"][40:-5] if v is not None]
    assert steady and max(abs(v - expected_lufs) for v in steady) < 0.05


def test_mp3_reads_like_its_source(tmp_path: Path) -> None:
    rate = 44100
    data = _music(12, rate)
    wav, mp3 = tmp_path / "m.wav", tmp_path / "m.mp3"
    sf.write(wav, data, rate, subtype="PCM_24")
    _mp3(mp3, data, rate)
    from_wav, from_mp3 = _measure(wav), _measure(mp3)
    assert from_mp3["file"]["format"] == "mp3"
    assert from_mp3["file"]["bit_depth"] is None
    assert from_mp3["file"]["duration_s"] == pytest.approx(12.0, abs=0.05)
    assert from_mp3["loudness"]["integrated_lufs"] == pytest.approx(
        from_wav["loudness"]["integrated_lufs"], abs=0.2
    )
    assert from_mp3["peaks"]["true_peak_dbtp"] == pytest.approx(
        from_wav["peaks"]["true_peak_dbtp"], abs=1.0
    )
    # A 1 kHz -20 dBFS sine through MP3 still reads the BS.1770 value closely.
    sine_mp3 = tmp_path / "sine.mp3"
    _mp3(sine_mp3, _sine(10, 48000, -20.0), 48000)
    measured = _measure(sine_mp3)["loudness"]["integrated_lufs"]
    assert measured == pytest.approx(-20.0 + G_K_1KHZ_48K_DB - 0.691, abs=0.15)


def test_a_quieter_copy_has_the_same_band_levels(tmp_path: Path) -> None:
    rate = 44100
    data = _music(8, rate, seed=4)
    loud, quiet = tmp_path / "loud.wav", tmp_path / "quiet.wav"
    sf.write(loud, data, rate, subtype="FLOAT")
    sf.write(quiet, data * 10 ** (-12 / 20), rate, subtype="FLOAT")
    a, b = _measure(loud), _measure(quiet)
    for band_a, band_b in zip(a["spectrum"]["bands"], b["spectrum"]["bands"], strict=True):
        assert band_a["key"] == band_b["key"]
        assert band_a["level_db"] == pytest.approx(band_b["level_db"], abs=0.01)
    assert b["loudness"]["integrated_lufs"] == pytest.approx(
        a["loudness"]["integrated_lufs"] - 12.0, abs=0.01
    )


def test_mono_has_null_stereo_and_silence_has_null_loudness(tmp_path: Path) -> None:
    rate = 44100
    mono = tmp_path / "mono.flac"
    sf.write(mono, _music(5, rate)[:, 0], rate, subtype="PCM_16")
    result = _measure(mono)
    assert result["file"]["channels"] == 1
    assert all(value is None for value in result["stereo"].values())
    assert result["series"]["correlation"] is None
    assert result["loudness"]["integrated_lufs"] is not None

    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros((rate * 5, 2)), rate, subtype="PCM_16")
    result = _measure(silent)
    assert result["loudness"]["integrated_lufs"] is None
    assert result["peaks"]["sample_peak_dbfs"] is None
    json.dumps(result, allow_nan=False)


def test_opposite_channels_have_correlation_minus_one_and_lose_in_mono(tmp_path: Path) -> None:
    rate = 48000
    data = _music(6, rate)
    data[:, 1] = -data[:, 0]
    path = tmp_path / "antiphase.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    stereo = _measure(path)["stereo"]
    assert stereo["correlation"] == pytest.approx(-1.0, abs=1e-3)
    assert stereo["mono_loss_lu"] > 20


def test_display_name_and_progress(tmp_path: Path) -> None:
    rate = 8000
    path = tmp_path / "upload-1234"
    sf.write(path, _music(30, rate), rate, subtype="PCM_16", format="WAV")
    calls: list[tuple[str, float]] = []
    result = measure_file(
        path,
        max_duration_s=60,
        display_name="My Song.wav",
        progress=lambda s, f: calls.append((s, f)),
    )
    assert result["file"]["name"] == "My Song.wav"
    assert calls[0] == ("decoding", 0.0)
    assert calls[-1] == ("measuring", 1.0)
    fractions = [f for stage, f in calls if stage == "measuring"]
    assert fractions == sorted(fractions)
    assert all(0.0 <= f <= 1.0 for _, f in calls)


def test_an_analysis_leaves_no_reference_cycle(tmp_path: Path) -> None:
    """Its buffers are freed when it returns, not at the next full collection: in an analysis
    process a cycle grew the heap by ~19 MB per 10 s job, whose page faults doubled the CPU."""
    import gc

    path = tmp_path / "music.wav"
    sf.write(path, _music(3, 44100), 44100, subtype="PCM_16")
    _measure(path)  # once-per-process set-up (caches) first
    gc.collect()
    gc.disable()
    try:
        _measure(path)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_pool_series_keeps_peaks_and_bounds_length() -> None:
    values: list[float | None] = [-30.0] * 5000
    values[1234] = -5.0
    values[10:20] = [None] * 10
    pooled, hop_s = pool_series(values, 0.1, max_points=2000)
    assert len(pooled) <= 2000
    assert hop_s == pytest.approx(0.1 * math.ceil(5000 / 2000))
    assert max(v for v in pooled if v is not None) == -5.0
    short, short_hop = pool_series([1.0, None, float("-inf")], 0.1)
    assert short == [1.0, None, None] and short_hop == 0.1
    low, _ = pool_series([0.9] * 4000 + [-0.5] + [0.9] * 999, 0.1, how="min")
    assert min(low) == -0.5


def test_json_safe_replaces_nan_and_infinity() -> None:
    data = {"a": float("nan"), "b": [np.float32(-np.inf), np.int64(3)], "c": (1.5, np.bool_(True))}
    assert json_safe(data) == {"a": None, "b": [None, 3], "c": [1.5, True]}


def test_decoding_errors_surface_and_stop_the_threads(tmp_path: Path) -> None:
    import threading

    from soundy.analysis._lanes import _helper
    from soundy.errors import AudioTooLong, InvalidAudio

    rate = 44100
    _helper()  # the meters' helper thread is kept per process (and calling thread) by design
    before = threading.active_count()
    data = _music(8, rate)
    data[rate * 7, 0] = np.inf
    bad = tmp_path / "inf.wav"
    sf.write(bad, data, rate, subtype="FLOAT")
    with pytest.raises(InvalidAudio, match="NaN or infinite"):
        _measure(bad)
    long_mp3 = tmp_path / "long.mp3"
    _mp3(long_mp3, _music(6, rate), rate)
    with pytest.raises(AudioTooLong):
        measure_file(long_mp3, max_duration_s=5.8)
    assert threading.active_count() == before


def test_balance_is_the_bs1770_loudness_difference_of_the_channels(tmp_path: Path) -> None:
    """1 kHz on the left, 50 Hz at the same level on the right: equal sample energy, but
    K-weighting (BS.1770) makes the right channel ~1.6 dB quieter; the balance shows that."""
    rate = 48000
    t = np.arange(rate * 6) / rate
    left = 0.1 * np.sin(2 * np.pi * 1000 * t)
    right = 0.1 * np.sin(2 * np.pi * 50 * t)
    paths = {name: tmp_path / f"{name}.wav" for name in ("stereo", "left", "right")}
    sf.write(paths["stereo"], np.stack([left, right], axis=1), rate, subtype="FLOAT")
    sf.write(paths["left"], left, rate, subtype="FLOAT")
    sf.write(paths["right"], right, rate, subtype="FLOAT")
    expected_db = (
        _measure(paths["left"])["loudness"]["integrated_lufs"]
        - _measure(paths["right"])["loudness"]["integrated_lufs"]
    )
    assert expected_db > 1.0
    assert _measure(paths["stereo"])["stereo"]["balance_db"] == pytest.approx(expected_db, abs=0.05)


def _extensible_wav(path: Path, data: np.ndarray, rate: int, mask: int) -> None:
    """A float WAVE_FORMAT_EXTENSIBLE file with ``mask`` as dwChannelMask, written by hand."""
    import struct

    channels = data.shape[1]
    samples = data.astype("<f4").tobytes()
    float_guid = bytes.fromhex("0300000000001000800000aa00389b71")
    fmt = struct.pack(
        "<HHIIHHHHI16s", 0xFFFE, channels, rate, rate * channels * 4, channels * 4, 32, 22, 32,
        mask, float_guid,
    )  # fmt: skip
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(samples)) + samples
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_5_1_mask_weights_the_surrounds_and_excludes_the_lfe(tmp_path: Path) -> None:
    """BS.1770: a surround channel weighs 1.41, the LFE 0. A 1 kHz sine of peak -20 dBFS in one
    channel alone reads -20 - 3.01 + 0.6977 - 0.691 (+ 10 log10 1.41 in a surround)."""
    rate = 48000
    mask_5_1_side = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x400  # FL FR FC LFE SL SR
    sine = _sine(6, rate, -20.0)[:, 0]
    one_channel_lufs = -20.0 - 10 * math.log10(2) + G_K_1KHZ_48K_DB - 0.691
    expected = {0: one_channel_lufs, 4: one_channel_lufs + 10 * math.log10(1.41), 3: None}
    for channel, lufs in expected.items():
        data = np.zeros((sine.size, 6))
        data[:, channel] = sine
        path = tmp_path / f"ch{channel}.wav"
        _extensible_wav(path, data, rate, mask_5_1_side)
        result = _measure(path)
        assert result["file"]["channel_mask"] == mask_5_1_side
        measured = result["loudness"]["integrated_lufs"]
        if lufs is None:
            assert measured is None, "the LFE channel must not count"
        else:
            assert measured == pytest.approx(lufs, abs=0.05)


def test_float_file_over_full_scale_is_reported_not_clipped(tmp_path: Path) -> None:
    rate = 48000
    path = tmp_path / "hot.wav"
    sf.write(path, _sine(5, rate, +6.0), rate, subtype="FLOAT")
    result = _measure(path)
    assert result["peaks"]["sample_peak_dbfs"] == pytest.approx(6.0, abs=0.01)
    assert result["peaks"]["clipped_samples"] > 0
    assert result["loudness"]["integrated_lufs"] == pytest.approx(
        6.0 + G_K_1KHZ_48K_DB - 0.691, abs=0.05
    )


def test_the_second_pass_reuses_the_decoded_blocks_or_decodes_again_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spotify Loud's limiter needs the samples twice: a compressed file's decoded blocks are
    kept from the first pass when they fit KEEP_DECODED_BYTES, decoded again otherwise, with
    the same result either way; plain PCM is read again (as cheap as keeping it)."""
    wav = write_16bit(tmp_path / "orchestral.wav", "orchestral", -3.0, start_s=20, seconds=30)
    flac = tmp_path / "orchestral.flac"
    codes, rate = sf.read(wav, dtype="int16")
    sf.write(flac, codes, rate, subtype="PCM_16", format="FLAC")
    opened: list[Path] = []
    real_open = measure.open_audio

    def counting_open(*args: Any, **kwargs: Any) -> Any:
        opened.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr(measure, "open_audio", counting_open)
    kept = measure_file(flac, max_duration_s=600)
    loud = next(e for e in kept["playback"] or [] if e["mode"] == "loud")
    assert loud["limiter"] is not None and loud["limiter"]["active_fraction"] > 0.0
    assert len(opened) == 1  # 30 s of stereo float32 (10.6 MB): kept
    monkeypatch.setattr(measure, "KEEP_DECODED_BYTES", 1_000_000)
    again = measure_file(flac, max_duration_s=600)
    assert len(opened) == 3  # too long to keep: the second pass opened the file again
    assert again == kept
    monkeypatch.undo()
    monkeypatch.setattr(measure, "open_audio", counting_open)
    read_again = measure_file(wav, max_duration_s=600)
    assert len(opened) == 5  # the WAV (read directly): read again
    assert read_again["playback"] == kept["playback"]
