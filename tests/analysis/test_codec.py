"""The codec check on real encoded audio: a hot master whose peaks rise after encoding, with
PyAV's encoders (AAC, Opus, MP3) and the system ffmpeg's libvorbis (Spotify's apps), and what is
said when that ffmpeg is missing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import soundfile as sf
from tests.real_music import decoded, raised

from soundy.analysis import codec
from soundy.analysis.playback import Limiter
from soundy.report import AnalysisOptions, analyze_file


def _write(path: Path, frames: np.ndarray, rate: int) -> Path:
    codes = np.clip(np.round(frames * 32768.0), -32768, 32767).astype(np.int16)
    sf.write(path, codes, rate, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def hot_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s of the rock track raised 6 dB into a sample-peak limiter at -0.1 dBFS (1 ms attack,
    50 ms release), as a 16-bit WAV: a master pushed to full scale (about -9 LUFS)."""
    frames, rate = decoded("rock")
    start = frames.shape[0] // 3
    limiter = Limiter(rate, 6.0, threshold_dbfs=-0.1, attack_s=0.001, release_s=0.05)
    clip = frames[start : start + 12 * rate]
    master = np.concatenate([limiter.process(clip), limiter.flush()])
    return _write(tmp_path_factory.mktemp("codec") / "hot.wav", master, rate)


@pytest.fixture(scope="module")
def hot_result(hot_master: Path) -> tuple[dict[str, Any], list[tuple[str, float]]]:
    stages: list[tuple[str, float]] = []
    result = analyze_file(
        hot_master,
        AnalysisOptions(codec_check=True, lang="pt-BR"),
        lambda stage, fraction: stages.append((stage, fraction)),
    )
    return dict(result), stages


def test_peaks_that_rise_after_aac_and_opus_encoding_are_caught(
    hot_result: tuple[dict[str, Any], list[tuple[str, float]]],
) -> None:
    result, _ = hot_result
    master_peak = result["peaks"]["true_peak_dbtp"]
    pairs = [(e["platform"], e["codec"]) for e in result["codec_check"]]
    assert pairs == [
        ("Spotify", "vorbis"),
        ("Spotify", "aac"),
        ("Apple Music", "aac"),
        ("YouTube", "opus"),
        ("SoundCloud", "mp3"),
    ]
    assert result["codec_check_skipped"] == []  # this machine has Debian's ffmpeg
    entries = {e["platform"]: e for e in result["codec_check"] if e["codec"] != "vorbis"}
    assert entries["Spotify"]["codec"] == "aac" and entries["YouTube"]["codec"] == "opus"
    assert entries["YouTube"]["sample_rate"] == 48000
    # Opus (YouTube) rebuilds the limited peaks higher: the master's +1 dBTP comes back higher.
    youtube = entries["YouTube"]
    assert youtube["true_peak_change_db"] > 0.3
    # (against the track resampled to Opus's 48 kHz, which reads a little differently)
    assert youtube["true_peak_dbtp"] > master_peak + 0.3
    for e in result["codec_check"]:
        assert e["true_peak_dbtp"] > 0.0  # every decode passes full scale
        assert abs(e["loudness_change_lu"]) < 1.0
        assert [b["key"] for b in e["bands"]] == [
            "sub",
            "bass",
            "low_mid",
            "mid",
            "high_mid",
            "presence",
            "air",
        ]
        assert all(abs(b["change_db"]) < 3.0 for b in e["bands"][:6])
    # SoundCloud plays at the file's own level (no normalisation): its decoded overs clip.
    assert entries["SoundCloud"]["playback_gain_db"] == 0.0
    assert entries["SoundCloud"]["clipped_samples_after_gain"] > 0
    # Spotify turns this loud master down: nothing passes full scale at its level.
    assert entries["Spotify"]["playback_gain_db"] < -3.0
    assert entries["Spotify"]["clipped_samples_after_gain"] == 0


def test_spotify_apps_ogg_vorbis_is_encoded_by_the_system_ffmpeg_libvorbis(
    hot_result: tuple[dict[str, Any], list[tuple[str, float]]],
) -> None:
    """PyAV's FFmpeg has no libvorbis (its own native encoder is not Spotify's), so Debian's
    ffmpeg command encodes it: a real Ogg Vorbis 160 kbit/s, whose decode lifts the limited
    peaks as the other lossy codecs do."""
    assert "libvorbis" not in av.codecs_available  # if PyAV ever bundles it, it is used instead
    assert shutil.which("ffmpeg"), "scripts/ensure-ffmpeg installs Debian's ffmpeg"
    assert codec.encoder_source("libvorbis") == "ffmpeg"
    result, _ = hot_result
    vorbis = result["codec_check"][0]
    aac = result["codec_check"][1]
    assert (vorbis["platform"], vorbis["encoder"], vorbis["bitrate_kbps"]) == (
        "Spotify",
        "libvorbis",
        160,
    )
    assert vorbis["sample_rate"] == 44100  # the track's own rate, as Spotify delivers
    assert vorbis["true_peak_change_db"] > 0.1  # the master's limited peaks come back higher
    assert vorbis["true_peak_dbtp"] > result["peaks"]["true_peak_dbtp"] + 0.1
    assert abs(vorbis["loudness_change_lu"]) < 0.5
    # One playback gain for Spotify, whichever codec delivers it.
    assert vorbis["playback_gain_db"] == aac["playback_gain_db"]
    # A different encoding from the AAC one: not the same numbers under another name.
    assert vorbis["true_peak_dbtp"] != aac["true_peak_dbtp"]


def test_without_an_ffmpeg_command_the_vorbis_check_is_skipped_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames, rate = raised("rock", -6.0)
    start = frames.shape[0] // 3
    path = _write(tmp_path / "short.wav", frames[start : start + 3 * rate], rate)
    # A PATH without ffmpeg: this process then finds no command (the lookup is redone).
    monkeypatch.setenv("PATH", str(tmp_path))
    codec.encoder_source.cache_clear()
    try:
        result = analyze_file(path, AnalysisOptions(codec_check=True))
    finally:
        codec.encoder_source.cache_clear()
    assert [(e["platform"], e["codec"]) for e in result["codec_check"]] == [
        ("Spotify", "aac"),
        ("Apple Music", "aac"),
        ("YouTube", "opus"),
        ("SoundCloud", "mp3"),
    ]
    (skipped,) = result["codec_check_skipped"]
    assert (skipped["platform"], skipped["codec"], skipped["encoder"]) == (
        "Spotify",
        "vorbis",
        "libvorbis",
    )
    assert skipped["package"] == "ffmpeg"
    assert "no ffmpeg command" in skipped["reason"]


def test_the_suggestion_says_it_plainly_with_the_ceiling_to_use(
    hot_master: Path, hot_result: tuple[dict[str, Any], list[tuple[str, float]]]
) -> None:
    result, _ = hot_result
    codec = [s for s in result["suggestions"] if s["metric"] == "codec_check.true_peak_dbtp"]
    assert len(codec) == 1
    worst = max(
        result["codec_check"],
        key=lambda e: (e["clipped_samples_after_gain"] > 0, e["true_peak_dbtp"]),
    )
    peak = f"+{worst['true_peak_dbtp']:.1f}".replace(".", ",")
    assert f"Depois da codificação do {worst['platform']}" in codec[0]["message"]
    assert f"seus picos chegam a {peak} dBTP" in codec[0]["message"]
    ceiling = -1.0 - worst["true_peak_change_db"]
    assert "Abaixe o teto (ceiling) para" in codec[0]["action"]
    assert codec[0]["severity"] == "critical"  # SoundCloud's overs clip
    en = analyze_file(hot_master, AnalysisOptions(codec_check=True, lang="en"))
    message = next(s for s in en["suggestions"] if s["metric"] == "codec_check.true_peak_dbtp")
    assert f"After {worst['platform']}'s encoding" in message["message"]
    assert f"your peaks reach +{worst['true_peak_dbtp']:.1f} dBTP" in message["message"]
    assert f"Lower the ceiling to {ceiling - 0.05:.1f} dBTP" in message["action"] or (
        f"Lower the ceiling to {ceiling:.1f} dBTP" in message["action"]
    )


def test_the_codec_check_is_a_stage_with_progress(
    hot_result: tuple[dict[str, Any], list[tuple[str, float]]],
) -> None:
    _, stages = hot_result
    names = [stage for stage, _ in stages]
    assert names.index("codec_check") > names.index("measuring")
    fractions = [fraction for stage, fraction in stages if stage == "codec_check"]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and len(set(fractions)) >= 3


def test_a_master_with_headroom_gets_no_codec_advice_and_without_the_option_no_check(
    tmp_path: Path,
) -> None:
    frames, rate = raised("rock", -6.0)
    start = frames.shape[0] // 3
    path = _write(tmp_path / "calm.wav", frames[start : start + 6 * rate], rate)
    checked = analyze_file(path, AnalysisOptions(codec_check=True))
    assert all(e["true_peak_dbtp"] < -1.0 for e in checked["codec_check"])
    assert not [s for s in checked["suggestions"] if s["metric"].startswith("codec_check")]
    plain = analyze_file(path)
    assert "codec_check" not in plain
