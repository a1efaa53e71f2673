"""The score: 100 on target, lower off target, monotonic toward the target (hypothesis)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from compare_builders import on_target_result, with_changes
from hypothesis import given, settings
from hypothesis import strategies as st

from soundy.compare import compare, list_profiles
from soundy.compare.metrics import BAND_KEYS, PARTS
from soundy.compare.scoring import classify
from soundy.errors import InvalidRequest


def test_a_track_on_its_genres_targets_scores_100() -> None:
    for p in list_profiles():
        out = compare(on_target_result(p.key), genre=p.key)
        score = out["score"]
        assert score["overall"] == 100.0, p.key
        assert score["classification"] == "excellent"
        # a part is None only where the genre sets no target in it (orchestral: no DR or LRA)
        assert all(score["parts"][part] in (100.0, None) for part in PARTS), p.key
        assert all(score["parts"][part] == 100.0 for part in ("loudness", "tonal_balance"))
        assert all(m["status"] == "ok" and m["severity"] == "ok" for m in score["metrics"])
        assert out["suggestions"] == []


def test_missing_metrics_are_left_out_not_counted_as_zero() -> None:
    result = on_target_result("trap")
    result["stereo"] = {"correlation": None, "width": None, "balance_db": None}
    result["spectrum"] = {"bands": []}
    score = compare(result, genre="trap")["score"]
    assert score["overall"] == 100.0
    assert score["parts"]["stereo"] is None
    assert score["parts"]["tonal_balance"] is None
    assert not any(m["metric"].startswith(("stereo.", "spectrum.")) for m in score["metrics"])


def test_silence_has_no_loudness_score_and_no_normalization() -> None:
    result = on_target_result("trap")
    result["loudness"] = {"integrated_lufs": None, "range_lu": None}
    out = compare(result, genre="trap")
    assert out["normalization"] is None
    assert out["score"]["parts"]["loudness"] is None


def test_per_metric_rows_carry_target_range_unit_status_severity() -> None:
    result = with_changes(on_target_result("trap"), **{"loudness.integrated_lufs": -20.0})
    rows = {m["metric"]: m for m in compare(result, genre="trap")["score"]["metrics"]}
    row = rows["loudness.integrated_lufs"]
    assert row["value"] == -20.0
    assert (row["target"], row["target_min"], row["target_max"]) == (-10.5, -12.5, -8.5)
    assert row["unit"] == "LUFS"
    assert row["status"] == "low"
    assert row["severity"] == "warning"  # 7.5 LU out: far, but not damage, so never critical
    assert row["score"] == 0.0


@pytest.mark.parametrize(
    ("lufs", "severity"),
    [(-12.5, "ok"), (-13.5, "info"), (-15.5, "warning"), (-30.0, "warning")],
)
def test_severity_follows_distance_in_scales(lufs: float, severity: str) -> None:
    result = with_changes(on_target_result("trap"), **{"loudness.integrated_lufs": lufs})
    rows = {m["metric"]: m for m in compare(result, genre="trap")["score"]["metrics"]}
    assert rows["loudness.integrated_lufs"]["severity"] == severity


def test_classification_cut_offs() -> None:
    assert [classify(x) for x in (100, 90, 89.9, 75, 74.9, 50, 49.9, 0)] == [
        "excellent", "excellent", "good", "good", "fair", "fair", "poor", "poor",
    ]  # fmt: skip


def test_any_critical_problem_caps_the_score_below_good() -> None:
    result = with_changes(on_target_result("trap"), **{"peaks.clipped_samples": 3})
    score = compare(result, genre="trap")["score"]
    assert score["overall"] <= 74.0
    assert score["classification"] == "fair"
    assert score["capped_by_critical"] is True


def test_the_cap_keeps_two_damaged_tracks_apart() -> None:
    """The cap scales the score instead of clamping it, so damaged tracks do not pile up."""
    clipped = with_changes(on_target_result("trap"), **{"peaks.clipped_samples": 3})
    worse = with_changes(clipped, **{"loudness.integrated_lufs": -18.0, "dynamics.dr": 14.0})
    a, b = (compare(r, genre="trap")["score"]["overall"] for r in (clipped, worse))
    assert b < a <= 74.0


@pytest.mark.parametrize(
    "changes",
    [
        {"loudness.integrated_lufs": -40.0},
        {"loudness.range_lu": 25.0},
        {"stereo.width": 3.0, "stereo.correlation": 0.2},
        {"stereo.correlation": 0.0},
        {"dynamics.dr": 1.0},
        {"bands.sub": -60.0},
        {"spectrum.tilt_db_per_octave": -9.0},
    ],
)
def test_a_matter_of_taste_is_never_critical(changes: dict[str, float]) -> None:
    out = compare(with_changes(on_target_result("trap"), **changes), genre="trap")
    assert not out["score"]["capped_by_critical"]
    assert all(s["severity"] != "critical" for s in out["suggestions"])


@pytest.mark.parametrize(
    ("changes", "metric"),
    [
        ({"peaks.clipped_samples": 1}, "peaks.clipped_samples"),
        ({"peaks.true_peak_dbtp": 0.3}, "peaks.true_peak_dbtp"),
        ({"stereo.correlation": -0.7, "stereo.mono_loss_lu": 9.0}, "stereo.correlation"),
    ],
)
def test_damage_on_playback_is_critical(changes: dict[str, float], metric: str) -> None:
    out = compare(with_changes(on_target_result("trap"), **changes), genre="trap")
    rows = {m["metric"]: m for m in out["score"]["metrics"]}
    assert rows[metric]["severity"] == "critical"
    assert out["score"]["capped_by_critical"]


def test_wide_orchestral_stereo_is_not_phase_cancellation() -> None:
    """Spaced microphones read a slightly negative correlation and lose about 3 LU in mono
    (unrelated channels): worth a look, not damage."""
    result = with_changes(
        on_target_result("orchestral"),
        **{"stereo.correlation": -0.1, "stereo.width": 1.2, "stereo.mono_loss_lu": 3.4},
    )
    out = compare(result, genre="orchestral")
    phase = next(s for s in out["suggestions"] if s["metric"] == "stereo.correlation")
    assert phase["key"] == "phase" and phase["severity"] in ("info", "warning")


def test_stage_sets_loudness_peak_and_dr_and_the_genre_the_tonal_balance() -> None:
    result = on_target_result("trap")
    master = compare(result, genre="trap", destination="streaming", stage="master")["targets"]
    mix = compare(result, genre="trap", destination="streaming", stage="mix")["targets"]
    assert (master["stage"], mix["stage"]) == ("master", "mix")
    m_rows = {m["metric"]: m for m in master["metrics"]}
    x_rows = {m["metric"]: m for m in mix["metrics"]}
    assert m_rows["loudness.integrated_lufs"]["target"] == -14.0
    # a mix leaves the mastering limiter its headroom, whatever the destination
    assert x_rows["loudness.integrated_lufs"]["target"] == -20.0
    assert x_rows["peaks.true_peak_dbtp"]["target_max"] <= -1.0
    assert x_rows["dynamics.dr"]["target_min"] == 7.0
    # the tonal balance and the stereo image follow the genre at both stages
    assert master["bands"] == mix["bands"]
    assert m_rows["stereo.width"] == x_rows["stereo.width"]
    # a finished master at -14 LUFS is too loud for a mix: the stage changes the verdict
    out = compare(result, genre="trap", stage="mix")
    assert any(s["key"] == "loudness.high" for s in out["suggestions"])
    assert all(s["key"] != "loudness.high" for s in compare(result, genre="trap")["suggestions"])
    with pytest.raises(InvalidRequest, match="unknown stage"):
        compare(result, stage="premaster")


def test_no_genre_is_mix_only() -> None:
    """Every genre can be compared as a finished master: none tells a master it is too loud
    because its targets were a mix's."""
    for p in list_profiles():
        lufs = p.metrics.get("loudness.integrated_lufs")
        assert lufs is None or lufs.target >= -14.0, p.key
        out = compare(on_target_result(p.key), genre=p.key, stage="master")
        assert out["targets"]["stage"] == "master"
        assert not any(s["key"] == "loudness.high" for s in out["suggestions"]), p.key


def test_destinations_and_default() -> None:
    result = on_target_result("trap")
    streaming = compare(result, genre="trap", destination="streaming")["targets"]
    rows = {m["metric"]: m for m in streaming["metrics"]}
    assert rows["loudness.integrated_lufs"]["target"] == -14.0
    assert rows["peaks.true_peak_dbtp"]["target_max"] == -1.0
    assert streaming["genre"] == "trap" and streaming["destination"] == "streaming"

    club = compare(result, genre="trap", destination="club")["targets"]
    rows = {m["metric"]: m for m in club["metrics"]}
    assert rows["loudness.integrated_lufs"]["target"] == -10.5  # the genre's master target

    club_pop = compare(result, genre="pop", destination="club")["targets"]
    rows = {m["metric"]: m for m in club_pop["metrics"]}
    masters = sorted(
        p.metrics["loudness.integrated_lufs"].target for p in list_profiles()
        if "loudness.integrated_lufs" in p.metrics
    )  # fmt: skip
    assert rows["loudness.integrated_lufs"]["target"] == masters[len(masters) // 2]

    default = compare(result)["targets"]
    assert default["source"] == "destination" and default["destination"] == "streaming"
    with pytest.raises(InvalidRequest, match="unknown destination"):
        compare(result, destination="radio")


# ---- monotonicity (hypothesis) ---------------------------------------------------------

_METRIC_PATHS: dict[str, tuple[float, float]] = {
    "loudness.integrated_lufs": (-40.0, 0.0),
    "loudness.range_lu": (0.0, 25.0),
    "peaks.true_peak_dbtp": (-20.0, 3.0),
    "peaks.clipped_samples": (0.0, 5000.0),
    "dynamics.dr": (1.0, 25.0),
    "stereo.correlation": (-1.0, 1.0),
    "stereo.width": (0.0, 3.0),
    "stereo.balance_db": (-6.0, 6.0),
}


@st.composite
def _results(draw: st.DrawFn) -> dict[str, Any]:
    result = on_target_result("trap")
    for path, (low, high) in _METRIC_PATHS.items():
        section, name = path.split(".")
        result[section][name] = draw(st.floats(low, high, allow_nan=False))
    for band in result["spectrum"]["bands"]:
        band["level_db"] = draw(st.floats(-60.0, 0.0, allow_nan=False))
    # Drawn, not moved: the tilt and the band levels are one spectrum seen twice (a tilt EQ
    # moves both), so moving the tilt alone is no change a track can have.
    result["spectrum"]["tilt_db_per_octave"] = draw(st.floats(-8.0, 2.0, allow_nan=False))
    result["stereo"]["mono_loss_lu"] = draw(st.floats(0.0, 20.0, allow_nan=False))
    return result


def _target_of(out: dict[str, Any], metric: str) -> float | None:
    for row in out["score"]["metrics"]:
        if row["metric"] == metric:
            return float(row["target"])
    return None


def _move(result: dict[str, Any], metric: str, target: float, fraction: float) -> dict[str, Any]:
    if metric.startswith("spectrum.bands."):
        key = metric.removeprefix("spectrum.bands.")
        current = next(b["level_db"] for b in result["spectrum"]["bands"] if b["key"] == key)
        return with_changes(result, **{f"bands.{key}": current + fraction * (target - current)})
    section, name = metric.split(".")
    current = result[section][name]
    return with_changes(result, **{metric: current + fraction * (target - current)})


_MODES = st.sampled_from(
    [
        {"genre": "trap"},
        {"genre": "pop"},
        {"genre": "funk_consciente", "destination": "streaming"},
        {"genre": "edm", "destination": "club"},
        {"genre": "rock_indie", "stage": "mix"},
        {"genre": "orchestral"},
        {"destination": "streaming"},
        {"reference": True},
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    result=_results(),
    reference=_results(),
    mode=_MODES,
    metric=st.sampled_from([*_METRIC_PATHS, *(f"spectrum.bands.{k}" for k in BAND_KEYS)]),
    fraction=st.floats(0.01, 1.0),
)
def test_moving_a_metric_toward_its_target_never_lowers_any_score(
    result: dict[str, Any],
    reference: dict[str, Any],
    mode: dict[str, Any],
    metric: str,
    fraction: float,
) -> None:
    kwargs = {k: v for k, v in mode.items() if k != "reference"}
    if mode.get("reference"):
        kwargs["reference"] = reference
    before = compare(result, **kwargs)
    target = _target_of(before, metric)
    if target is None:
        return  # no target for this metric in this mode
    after = compare(_move(result, metric, target, fraction), **kwargs)
    assert after["score"]["overall"] >= before["score"]["overall"]
    for part in PARTS:
        b, a = before["score"]["parts"][part], after["score"]["parts"][part]
        if b is not None:
            assert a is not None and a >= b, part


def test_scores_are_finite_numbers() -> None:
    out = compare(with_changes(on_target_result("trap"), **{"stereo.width": 0.0}), genre="trap")
    for row in out["score"]["metrics"]:
        assert math.isfinite(row["score"])
