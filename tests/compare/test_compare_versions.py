"""Versions of a song on real music (tests/real_music.py): the rock mix exported quiet, then at
full scale, then driven into clipping; what moved each time and whether the score went up."""

from __future__ import annotations

import pytest

import real_music
from soundy.compare.versions import MEASURES, version_history
from soundy.report import AnalysisOptions, analyze_file
from soundy.result import AnalysisResult


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> list[AnalysisResult]:
    folder = tmp_path_factory.mktemp("versions")
    options = AnalysisOptions(destination="streaming")
    return [
        analyze_file(
            real_music.write_16bit(folder / f"v{i}.wav", "rock", gain, start_s=30.0, seconds=30.0),
            options,
        )
        for i, gain in enumerate((-12.0, -6.0, 9.0), start=1)
    ]


def _change(entry, metric):
    return next(c for c in entry["changes"] if c["metric"] == metric)


def test_each_version_against_the_previous_on_every_measure(
    versions: list[AnalysisResult],
) -> None:
    history = version_history(versions)
    first, louder, clipped = history
    assert first["previous_version"] is None and first["score_delta"] is None
    assert first["summary"] == "The first version: the ones after it are compared with it."
    assert [c["metric"] for c in louder["changes"]] == [m.metric for m in MEASURES]

    # v2 is the same mix 6 dB louder: loudness and true peak move 6, the shape does not.
    loud = _change(louder, "loudness.integrated_lufs")
    assert loud["delta"] == pytest.approx(6.0, abs=0.05) and loud["moved"]
    assert _change(louder, "peaks.true_peak_dbtp")["delta"] == pytest.approx(6.0, abs=0.05)
    assert not _change(louder, "dynamics.plr_db")["moved"]
    assert not _change(louder, "spectrum.tilt_db_per_octave")["moved"]
    assert set(louder["moved"]) >= {"loudness.integrated_lufs", "peaks.true_peak_dbtp"}
    # From -24 toward the -14 LUFS streaming target: the score went up, and it says so.
    assert louder["score"] > first["score"]
    assert louder["score_up"] is True
    assert louder["score_delta"] == pytest.approx(louder["score"] - first["score"], abs=0.01)
    assert louder["summary"].startswith("Score up")
    assert "loudness +6.0 LUFS" in louder["summary"]

    # v3 is driven 15 dB harder into a clipper: clipped samples, less PLR and DR, lower score.
    assert _change(clipped, "peaks.clipped_samples")["delta"] > 0
    assert (_change(clipped, "dynamics.plr_db")["delta"] or 0.0) < -3.0
    assert clipped["score_up"] is False and clipped["summary"].startswith("Score down")
    assert clipped["previous_version"] == 2


def test_a_version_without_a_result_is_skipped_and_portuguese(
    versions: list[AnalysisResult],
) -> None:
    history = version_history([versions[0], None, versions[1]], lang="pt-BR")
    assert history[1]["summary"] is None and history[1]["changes"] == []
    assert history[2]["previous_version"] == 1
    assert history[2]["summary"].startswith("A nota subiu")
    assert "loudness +6,0 LUFS" in history[2]["summary"]
    same = version_history([versions[0], versions[0]])
    assert same[1]["moved"] == [] and same[1]["score_up"] is False
    assert "Score unchanged" in same[1]["summary"] and "Nothing moved" in same[1]["summary"]
