"""Albums on real music (tests/real_music.py): an EP of one rock mix at three levels (one of
them pushed into clipping) and an orchestral piece, read as one release."""

from __future__ import annotations

from pathlib import Path

import pytest

import real_music
from soundy.compare.album import OUTLIER_LIMITS, album_report
from soundy.report import analyze_file
from soundy.result import AnalysisResult

EXCERPT_S = 40.0


@pytest.fixture(scope="module")
def ep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, AnalysisResult]:
    """1 the rock mix at full scale, 2 the same 6 dB down, 3 the same driven 9 dB into hard
    clipping (louder, crushed peaks), 4 an orchestral piece (wide, dark, dynamic)."""
    folder = tmp_path_factory.mktemp("ep")
    files = {
        "1-full.wav": ("rock", 0.0),
        "2-down6.wav": ("rock", -6.0),
        "3-clipped.wav": ("rock", 9.0),
        "4-orchestra.wav": ("orchestral", 0.0),
    }
    out = {}
    for name, (track, gain_db) in files.items():
        path = real_music.write_16bit(
            folder / name, track, gain_db, start_s=30.0, seconds=EXCERPT_S
        )
        out[name] = analyze_file(path)
    return out


def _lufs(result: AnalysisResult) -> float:
    value = result["loudness"]["integrated_lufs"]
    assert value is not None
    return value


def test_rock_ep_deviations_outliers_and_album_gain(ep: dict[str, AnalysisResult]) -> None:
    tracks = [ep["1-full.wav"], ep["2-down6.wav"], ep["3-clipped.wav"]]
    report = album_report(tracks)
    full, down, clipped = report["tracks"]
    # The median track is the full-scale one: the 6 dB copy sits 6 LU under it (the same mix,
    # scaled), with the same PLR, tilt and width.
    assert full["deviation"]["integrated_lufs"] == pytest.approx(0.0, abs=1e-6)
    assert down["deviation"]["integrated_lufs"] == pytest.approx(-6.0, abs=0.05)
    assert down["deviation"]["plr_db"] == pytest.approx(0.0, abs=0.05)
    assert abs(down["deviation"]["tilt_db_per_octave"] or 0.0) < 0.05
    assert full["outliers"] == [] and down["outliers"] == ["loudness"]
    # Driving into the clipper: louder and a much smaller peak-to-loudness ratio.
    assert clipped["outliers"] == ["loudness", "plr"]
    assert (clipped["deviation"]["plr_db"] or 0.0) < -OUTLIER_LIMITS["plr_db"]  # type: ignore[operator]
    messages = {(o["index"], o["measure"]): o["message"] for o in report["outliers"]}
    assert "6.0 LU quieter" in messages[(1, "loudness")]
    assert "limited harder" in messages[(2, "plr")]

    # Album gain: the loudest track (the clipped one) is set to -14 LUFS; every track gets it.
    assert report["album"]["loudest_index"] == 2
    spotify = next(r for r in report["playback"] if r["rule"] == "spotify")
    expected_gain = -14.0 - _lufs(ep["3-clipped.wav"])
    assert spotify["gain_db"] == pytest.approx(expected_gain, abs=0.01)
    for track, result in zip(report["tracks"], tracks, strict=True):
        play = next(p for p in track["playback"] if p["rule"] == "spotify")
        assert play["album_gain_db"] == spotify["gain_db"]
        own = -14.0 - _lufs(result)
        if own > 0:  # Spotify lifts a quiet track only until its true peak reaches -1 dBTP
            peak = result["peaks"]["true_peak_dbtp"]
            assert peak is not None
            own = max(0.0, min(own, -1.0 - peak))
        assert play["track_gain_db"] == pytest.approx(own, abs=0.01)
        # In album mode the quieter tracks stay as much quieter as they were mastered.
        assert play["loudness_album_mode_lufs"] == pytest.approx(
            _lufs(result) + expected_gain, abs=0.01
        )
    assert down["playback"][0]["album_minus_track_db"] == pytest.approx(
        -14.0 - _lufs(ep["3-clipped.wav"]) - down["playback"][0]["track_gain_db"], abs=0.02
    )
    # AES TD1008: the same loudest-track album gain, tracks alone at -16 LUFS.
    aes = next(r for r in report["playback"] if r["rule"] == "aes_td1008")
    assert aes["gain_db"] == spotify["gain_db"]
    aes_full = next(p for p in full["playback"] if p["rule"] == "aes_td1008")
    assert aes_full["loudness_track_mode_lufs"] == pytest.approx(-16.0, abs=0.01)


def test_album_loudness_is_the_tracks_played_as_one_programme(
    ep: dict[str, AnalysisResult], tmp_path: Path
) -> None:
    """The album's loudness against the three tracks joined into one file and measured: within
    0.6 LU though the tracks span 15 LU (the joined file's meter also gates out the quiet
    passages of each track against the loud ones, which the tracks' own loudness cannot)."""
    import numpy as np
    import soundfile as sf

    names = ["1-full.wav", "2-down6.wav", "3-clipped.wav"]
    report = album_report([ep[n] for n in names])
    joined = []
    rate = 0
    for gain in (0.0, -6.0, 9.0):
        frames, rate = real_music.raised("rock", gain)
        first = int(30.0 * rate)
        joined.append(np.clip(frames[first : first + int(EXCERPT_S * rate)], -1.0, 32767 / 32768))
    path = tmp_path / "joined.wav"
    sf.write(path, np.concatenate(joined), rate, subtype="PCM_16")
    whole = analyze_file(path)
    assert report["album"]["integrated_lufs"] == pytest.approx(_lufs(whole), abs=0.6)
    assert report["album"]["duration_s"] == pytest.approx(3 * EXCERPT_S, abs=0.01)


def test_the_orchestral_piece_stands_out_in_a_rock_ep_and_pt_br(
    ep: dict[str, AnalysisResult],
) -> None:
    report = album_report(
        [ep["1-full.wav"], ep["2-down6.wav"], ep["4-orchestra.wav"]], lang="pt-BR"
    )
    orchestra = report["tracks"][2]
    assert {"tilt", "width"} <= set(orchestra["outliers"])
    texts = " ".join(o["message"] for o in report["outliers"] if o["index"] == 2)
    assert "mais escura" in texts and "mais aberta" in texts
    assert "," in texts  # decimal comma
    assert report["lang"] == "pt-BR"
    assert "O Spotify, tocando o álbum" in report["playback"][0]["message"]


def test_a_mono_track_has_no_width_and_silence_no_gain(ep: dict[str, AnalysisResult]) -> None:
    mono: AnalysisResult = {**ep["1-full.wav"], "file": {**ep["1-full.wav"]["file"], "channels": 1}}
    silent: AnalysisResult = {
        **ep["2-down6.wav"],
        "loudness": {**ep["2-down6.wav"]["loudness"], "integrated_lufs": None},
    }
    report = album_report([mono, ep["1-full.wav"]], names=["mono", "stereo"])
    assert report["tracks"][0]["values"]["width"] is None
    assert "width" not in report["tracks"][0]["outliers"]
    assert [t["name"] for t in report["tracks"]] == ["mono", "stereo"]
    quiet = album_report([silent, silent])
    assert quiet["playback"][0]["gain_db"] is None and quiet["album"]["integrated_lufs"] is None
    assert "silence" in quiet["playback"][0]["message"]
    with pytest.raises(ValueError):
        album_report([])
