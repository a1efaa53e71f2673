"""End to end on generated audio: WAV files -> soundy.report.analyze_file -> compare.

A profile is built (``soundy.compare.build``) from four healthy variants of a synthetic track;
a fifth healthy variant and five known problems made from it are then judged against that
profile, against a shipped genre, and against the healthy track as a reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from compare_signals import PROBLEMS, make_track, problem, write

from soundy.compare.build import profile_from_results
from soundy.report import AnalysisOptions, analyze_file

GENRE = "synthetic_club"


@pytest.fixture(scope="module")
def tracks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """{name: analysed result} for "healthy" and every problem, judged against GENRE."""
    from soundy.analysis import measure_file
    from soundy.config import get_settings

    root = tmp_path_factory.mktemp("audio")
    genres = root / "genres"
    genres.mkdir()
    references = [
        measure_file(write(root / f"ref{seed}.wav", make_track(seed, gain_db=g)), max_duration_s=60)
        for seed, g in ((1, 0.0), (2, -0.5), (3, -1.0), (4, 0.3))
    ]
    profile = profile_from_results(references, key=GENRE, label="Synthetic club")
    (genres / f"{GENRE}.json").write_text(profile.model_dump_json(indent=2))

    paths = {"healthy": write(root / "healthy.wav", make_track(0))}
    paths |= {name: write(root / f"{name}.wav", problem(name)) for name in PROBLEMS}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOUNDY_GENRES_DIR", str(genres))
        get_settings.cache_clear()
        results = {
            name: analyze_file(path, AnalysisOptions(genre=GENRE)) for name, path in paths.items()
        }
        results["_paths"] = paths
        yield results
    get_settings.cache_clear()


def _suggestion(result: dict[str, Any], metric: str) -> dict[str, Any]:
    found = [s for s in result["suggestions"] if s["metric"] == metric]
    assert found, (metric, [s["metric"] for s in result["suggestions"]])
    return found[0]


def test_the_profile_was_used(tracks: dict[str, Any]) -> None:
    targets = tracks["healthy"]["targets"]
    assert targets["source"] == "genre" and targets["genre"] == GENRE
    assert tracks["healthy"]["score"]["overall"] >= 90


def test_too_quiet_gets_raise_the_loudness(tracks: dict[str, Any]) -> None:
    s = _suggestion(tracks["too_quiet"], "loudness.integrated_lufs")
    assert s["delta"] == pytest.approx(14.0, abs=1.0)  # 14 dB quieter than the healthy ones
    assert s["severity"] == "warning"  # far off, but no damage: never critical
    assert "Raise the loudness by about" in s["action"]
    assert s["delta"] == pytest.approx(s["target"] - s["current"], abs=1e-3)


def test_clipping_gets_critical_clipping_and_a_lower_ceiling(tracks: dict[str, Any]) -> None:
    result = tracks["clipping"]
    assert result["peaks"]["clipped_samples"] > 0
    clip = _suggestion(result, "peaks.clipped_samples")
    assert clip["severity"] == "critical" and clip["delta"] < 0
    tp = _suggestion(result, "peaks.true_peak_dbtp")
    assert result["peaks"]["true_peak_dbtp"] > 0.0
    assert tp["severity"] == "critical" and tp["delta"] < 0
    assert "Lower the limiter ceiling to" in tp["action"]
    assert result["suggestions"][0]["severity"] == "critical"


def test_narrow_gets_widen(tracks: dict[str, Any]) -> None:
    s = _suggestion(tracks["narrow"], "stereo.width")
    assert s["status"] == "low" and s["delta"] > 0
    assert s["action"].startswith("Widen")


def test_too_much_low_end_gets_reduce_the_low_end(tracks: dict[str, Any]) -> None:
    """+12 dB of kick and bass: the advice cuts the low end, as a low-end cut or as the tilt EQ
    (the bass pulls the whole balance darker) with its cut at 50 Hz; never a critical."""
    result = tracks["low_end"]
    tonal = [s for s in result["suggestions"] if s["metric"].startswith("spectrum.")]
    assert tonal
    cuts_low_end = [
        s
        for s in tonal
        if "Reduce the low end below 150 Hz" in s["action"]
        or re.search(r"-[0-9.]+ dB at 50 Hz", s["action"])
        or (s["key"] == "band.far" and "too strong" in s["action"])
    ]
    assert cuts_low_end, [s["action"] for s in tonal]
    assert all(s["severity"] != "critical" for s in tonal)


def test_phase_inverted_gets_critical_check_phase(tracks: dict[str, Any]) -> None:
    result = tracks["phase_inverted"]
    assert result["stereo"]["correlation"] < 0
    s = _suggestion(result, "stereo.correlation")
    assert s["severity"] == "critical" and s["key"] == "phase" and s["delta"] > 0
    assert s["action"].startswith("Check phase")


def test_a_silent_channel_is_critical_and_replaces_the_image_suggestions(
    tracks: dict[str, Any],
) -> None:
    result = tracks["silent_channel"]
    s = _suggestion(result, "stereo.balance_db")
    assert s["severity"] == "critical" and s["key"] == "channel.silent_right"
    assert "right channel is silent" in s["message"] and "routing" in s["action"]
    metrics = {x["metric"] for x in result["suggestions"]}
    assert not metrics & {"stereo.width", "stereo.correlation"}
    assert result["score"]["capped_by_critical"]
    # A balance that is off but still two channels is a re-centring, not damage.
    assert not any(x["severity"] == "critical" for x in tracks["healthy"]["suggestions"]), tracks[
        "healthy"
    ]["suggestions"]


def test_a_large_dc_offset_is_critical_with_a_high_pass_fix(tracks: dict[str, Any]) -> None:
    result = tracks["dc_offset"]
    assert max(c["dc_offset_dbfs"] for c in result["peaks"]["channels"]) > -30.0
    s = _suggestion(result, "peaks.dc_offset_dbfs")
    assert s["severity"] == "critical" and s["key"] == "dc_offset.large"
    assert "high-pass" in s["action"] and s["source"]
    assert result["score"]["capped_by_critical"]
    healthy = tracks["healthy"]
    assert all(x["metric"] != "peaks.dc_offset_dbfs" for x in healthy["suggestions"])


def test_the_healthy_track_scores_higher_than_every_problem(tracks: dict[str, Any]) -> None:
    healthy = tracks["healthy"]["score"]["overall"]
    for name in PROBLEMS:
        assert tracks[name]["score"]["overall"] < healthy, name
    for name in ("clipping", "phase_inverted", "silent_channel", "dc_offset"):  # damage: capped
        assert tracks[name]["score"]["capped_by_critical"], name
        assert tracks[name]["score"]["overall"] <= 74.0, name


def test_a_track_against_itself_scores_at_least_95(tracks: dict[str, Any]) -> None:
    path = tracks["_paths"]["healthy"]
    reference = analyze_file(path)
    result = analyze_file(path, AnalysisOptions(reference=reference))
    assert result["reference"]["similarity"] >= 95
    assert result["score"]["overall"] >= 95
    assert result["targets"]["source"] == "reference"
    quiet = analyze_file(tracks["_paths"]["too_quiet"], AnalysisOptions(reference=reference))
    assert quiet["reference"]["similarity"] < result["reference"]["similarity"]
    loud = next(
        m for m in quiet["reference"]["metrics"] if m["metric"] == "loudness.integrated_lufs"
    )
    assert loud["delta"] == pytest.approx(14.0, abs=1.0)
    s = _suggestion(quiet, "loudness.integrated_lufs")
    assert s["delta"] > 0 and "(reference:" in s["message"]


def test_pt_br_suggestions_for_every_problem(tracks: dict[str, Any]) -> None:
    for name in PROBLEMS:
        path = tracks["_paths"][name]
        pt = analyze_file(path, AnalysisOptions(genre="trap", lang="pt-BR"))
        en = analyze_file(path, AnalysisOptions(genre="trap", lang="en"))
        assert [s["key"] for s in pt["suggestions"]] == [s["key"] for s in en["suggestions"]]
        assert pt["suggestions"], name
        for s_pt, s_en in zip(pt["suggestions"], en["suggestions"], strict=True):
            assert s_pt["message"] != s_en["message"]
            assert s_pt["action"] != s_en["action"]


def test_normalization_for_the_quiet_and_the_clipping_track(tracks: dict[str, Any]) -> None:
    quiet = {n["platform"]: n for n in tracks["too_quiet"]["normalization"]}
    lufs = tracks["too_quiet"]["loudness"]["integrated_lufs"]
    tp = tracks["too_quiet"]["peaks"]["true_peak_dbtp"]
    assert quiet["YouTube"]["gain_db"] == 0.0  # down only
    assert quiet["Spotify"]["gain_db"] == pytest.approx(min(-14 - lufs, -1 - tp), abs=0.01)
    assert quiet["Spotify"]["true_peak_after_dbtp"] <= -1.0 + 1e-9
    loud = tracks["clipping"]["normalization"]
    assert all(n["gain_db"] < 0 for n in loud)
