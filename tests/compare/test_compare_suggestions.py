"""Suggestions on hand-built results: right metric, sign, order, language; the catalogue."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from compare_builders import on_target_result, with_changes

from soundy.compare import compare
from soundy.compare.messages import CATALOGUE, LANGS, normalise_lang, number, placeholders
from soundy.compare.nearest import shape_distance_db
from soundy.compare.profiles import get_profile, list_profiles
from soundy.compare.suggestions import band_eq_gains_db, format_band_range


def _by_metric(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["metric"]: s for s in out["suggestions"]}


def _renormalised(levels: dict[str, float]) -> dict[str, float]:
    total = 10 * math.log10(sum(10 ** (v / 10) for v in levels.values()))
    return {k: v - total for k, v in levels.items()}


def test_every_catalogue_entry_has_both_languages_with_the_same_placeholders() -> None:
    for key, entry in CATALOGUE.items():
        assert set(entry) == set(LANGS), key
        assert all(entry[lang].strip() for lang in LANGS), key
        assert placeholders(entry["en"]) == placeholders(entry["pt-BR"]), key


def test_language_codes_and_numbers() -> None:
    assert [normalise_lang(x) for x in ("pt-BR", "pt_br", "pt", "en", "fr", None)] == [
        "pt-BR", "pt-BR", "pt-BR", "en", "en", "en",
    ]  # fmt: skip
    assert number(-1.25, "pt-BR", 2) == "-1,25"
    assert number(-0.04, "en") == "0.0"


def test_suggestion_fields_and_delta_sign() -> None:
    result = with_changes(on_target_result("trap"), **{"loudness.integrated_lufs": -16.0})
    s = _by_metric(compare(result, genre="trap"))["loudness.integrated_lufs"]
    assert set(s) >= {"metric", "severity", "message", "action", "current", "target",
                      "target_min", "target_max", "delta", "unit"}  # fmt: skip
    assert s["current"] == -16.0 and s["target"] == -10.5 and s["delta"] == 5.5
    assert (s["target_min"], s["target_max"], s["unit"]) == (-12.5, -8.5, "LUFS")
    assert "Raise the loudness by about 5.5 dB" in s["action"]

    loud = with_changes(on_target_result("trap"), **{"loudness.integrated_lufs": -5.0})
    s = _by_metric(compare(loud, genre="trap"))["loudness.integrated_lufs"]
    assert s["delta"] == -5.5 and "Lower the gain into the limiter by about 5.5 dB" in s["action"]


def test_true_peak_over_the_ceiling_asks_for_the_target_ceiling() -> None:
    result = with_changes(on_target_result("trap"), **{"peaks.true_peak_dbtp": 0.8})
    s = _by_metric(compare(result, genre="trap", destination="streaming"))["peaks.true_peak_dbtp"]
    assert s["severity"] == "critical" and s["delta"] < 0
    assert s["action"] == "Lower the limiter ceiling to -1.0 dBTP (true-peak mode) and re-export."


def test_unused_headroom_is_only_info() -> None:
    result = with_changes(on_target_result("trap"), **{"peaks.true_peak_dbtp": -9.0})
    s = _by_metric(compare(result, genre="trap"))["peaks.true_peak_dbtp"]
    assert s["severity"] == "info" and s["delta"] > 0


def test_most_severe_first() -> None:
    result = with_changes(
        on_target_result("trap"),
        **{"loudness.integrated_lufs": -13.0, "peaks.clipped_samples": 40, "dynamics.dr": 13.5},
    )
    severities = [s["severity"] for s in compare(result, genre="trap")["suggestions"]]
    ranks = {"critical": 3, "warning": 2, "info": 1}
    assert severities == sorted(severities, key=lambda x: -ranks[x])
    assert severities[0] == "critical"


def test_narrow_image_is_reported_once_and_mono_is_named() -> None:
    result = with_changes(
        on_target_result("trap"), **{"stereo.correlation": 1.0, "stereo.width": 0.0}
    )
    out = _by_metric(compare(result, genre="trap"))
    assert "stereo.correlation" not in out
    assert out["stereo.width"]["key"] == "width.mono" and out["stereo.width"]["delta"] > 0
    assert out["stereo.width"]["action"].startswith("Widen")


def test_wide_image_gets_narrow() -> None:
    result = with_changes(
        on_target_result("trap"), **{"stereo.correlation": 0.5, "stereo.width": 0.33}
    )
    s = _by_metric(compare(result, genre="trap"))["stereo.width"]
    assert s["status"] == "high" and s["delta"] < 0 and s["action"].startswith("Narrow")


def test_negative_correlation_is_critical_phase_and_hides_derived_advice() -> None:
    levels = {b["key"]: b["level_db"] for b in on_target_result("trap")["spectrum"]["bands"]}
    levels["sub"] -= 30  # what cancels in the mono fold-down
    result = with_changes(
        on_target_result("trap"),
        **{"stereo.correlation": -0.6, "stereo.width": 4.0, "stereo.mono_loss_lu": 8.0},
        **{f"bands.{k}": v for k, v in _renormalised(levels).items()},
    )
    out = compare(result, genre="trap")
    s = _by_metric(out)["stereo.correlation"]
    assert s["severity"] == "critical" and s["key"] == "phase" and s["delta"] > 0
    assert s["action"].startswith("Check phase")
    assert not any(x["metric"].startswith("spectrum.") for x in out["suggestions"])
    assert out["suggestions"][0]["key"] == "phase"


def test_balance_names_the_louder_side() -> None:
    left = with_changes(on_target_result("trap"), **{"stereo.balance_db": 2.5})
    s = _by_metric(compare(left, genre="trap"))["stereo.balance_db"]
    assert "left channel is 2.5 dB louder" in s["message"] and s["delta"] == -2.5
    right = with_changes(on_target_result("trap"), **{"stereo.balance_db": -2.5})
    s = _by_metric(compare(right, genre="trap", lang="pt-BR"))["stereo.balance_db"]
    assert "direito" in s["message"] and "2,5 dB" in s["message"]


def test_a_low_end_far_too_strong_is_far_from_the_genre_not_a_huge_cut() -> None:
    levels = {b["key"]: b["level_db"] for b in on_target_result("trap")["spectrum"]["bands"]}
    levels["sub"] += 10.0
    levels["bass"] += 10.0
    result = with_changes(
        on_target_result("trap"), **{f"bands.{k}": v for k, v in _renormalised(levels).items()}
    )
    out = compare(result, genre="trap")
    by = _by_metric(out)
    for metric in ("spectrum.bands.sub", "spectrum.bands.bass"):
        s = by[metric]
        assert s["key"] == "band.far" and s["delta"] < 0
        assert "10.0 dB too strong for Trap" in s["action"]
        assert "closer to" in s["action"] or "No other genre is closer" in s["action"]
    for s in by.values():  # other bands read low, but are not to be boosted
        if s["metric"].startswith("spectrum.bands.") and s["key"] != "band.far":
            assert s["action"].startswith("Leave this band")
    assert all(s["severity"] != "critical" for s in out["suggestions"])


def _far_advice(result: dict[str, Any], genre: str, lang: str = "en") -> tuple[list[str], float]:
    """(the labels a "far" suggestion offers instead, the chosen genre's band distance)."""
    out = compare(result, genre=genre, lang=lang)
    far = [s for s in out["suggestions"] if s["key"] in ("band.far", "tilt.far")]
    assert far, [s["key"] for s in out["suggestions"]]
    profile = get_profile(genre)
    tilt = profile.metrics["spectrum.tilt_db_per_octave"].target
    chosen = shape_distance_db(result, {k: b.target for k, b in profile.bands.items()}, tilt)
    assert chosen is not None
    named: set[str] = set()
    for s in far:
        listed = re.search(r"(?:It is closer to|Ela está mais perto de) (.+?); ", s["action"])
        if listed:
            named |= {re.sub(r" \([0-9.,]+ dB\)$", "", x) for x in listed[1].split(", ")}
    labels = {p.label for p in list_profiles()}
    assert named <= labels, named
    if not named:
        for s in far:
            assert ("No other genre" if lang == "en" else "Nenhum outro") in s["action"]
    distances = {n["label"]: n["distance_db"] for n in out["nearest_genres"]}
    assert all(distances[label] <= chosen - 1.0 for label in named), (named, distances, chosen)
    return sorted(named), chosen


def test_far_advice_names_only_genres_clearly_closer_than_the_chosen_one() -> None:
    # Every band 12 dB off in turn: far from every genre alike, so no genre is offered, only a
    # reference track (not "closer to <another genre at the same distance>").
    levels = {b["key"]: b["level_db"] for b in on_target_result("orchestral")["spectrum"]["bands"]}
    for i, key in enumerate(levels):
        levels[key] += 12.0 if i % 2 else -12.0
    scattered = with_changes(
        on_target_result("orchestral"),
        **{f"bands.{k}": v for k, v in _renormalised(levels).items()},
    )
    for lang in ("en", "pt-BR"):
        named, _ = _far_advice(scattered, "orchestral", lang)
        assert named == []
    # A percussive track (sub 6 dB and presence 8 dB over Brazilian phonk's) is far from
    # Orchestral, and genres with more percussion are clearly closer: they are offered.
    levels = {
        b["key"]: b["level_db"] for b in on_target_result("brazilian_phonk")["spectrum"]["bands"]
    }
    levels["sub"] += 6.0
    levels["presence"] += 8.0
    bright = with_changes(
        on_target_result("brazilian_phonk"),
        **{f"bands.{k}": v for k, v in _renormalised(levels).items()},
    )
    named, chosen = _far_advice(bright, "orchestral")
    assert named and chosen > 4.0


def test_a_bass_cut_beside_a_sub_boost_does_not_say_the_whole_low_end() -> None:
    # Orchestral pieces read like this: little sub, much bass. "Reduce the low end below
    # 150 Hz" would contradict the sub's advice; the bass cut names its own range.
    levels = {b["key"]: b["level_db"] for b in on_target_result("orchestral")["spectrum"]["bands"]}
    levels["sub"] -= 12.0
    levels["bass"] += 5.0
    result = with_changes(
        on_target_result("orchestral"),
        **{f"bands.{k}": v for k, v in _renormalised(levels).items()},
    )
    by = _by_metric(compare(result, genre="orchestral"))
    assert by["spectrum.bands.sub"]["delta"] > 0
    bass = by["spectrum.bands.bass"]["action"]
    assert bass.startswith("Cut 60-150 Hz by about"), bass
    assert "low end below 150 Hz" not in bass


def test_joint_eq_gains_reach_the_targets_exactly() -> None:
    current = {"sub": -3.0, "bass": -4.0, "mid": -9.0, "air": -12.0}
    target = _renormalised({"sub": -6.0, "bass": -5.0, "mid": -7.0, "air": -14.0})
    gains = band_eq_gains_db(current, target)
    after = _renormalised({k: current[k] + gains[k] for k in current})
    for key in current:
        assert after[key] == pytest.approx(target[key], abs=1e-9)


def test_band_ranges_read_like_an_eq() -> None:
    assert format_band_range(2000, 5000) == "2-5 kHz"
    assert format_band_range(20, 60) == "20-60 Hz"
    assert format_band_range(500, 2000) == "500 Hz-2 kHz"


@pytest.mark.parametrize("lang", ["en", "pt-BR"])
def test_every_kind_of_suggestion_renders_in_both_languages(lang: str) -> None:
    base = on_target_result("trap")
    cases = [
        {"loudness.integrated_lufs": -20.0}, {"loudness.integrated_lufs": -3.0},
        {"peaks.true_peak_dbtp": 1.0}, {"peaks.true_peak_dbtp": -0.1},
        {"peaks.true_peak_dbtp": -9.0}, {"peaks.clipped_samples": 7},
        {"dynamics.dr": 2.0}, {"dynamics.dr": 16.0},
        {"loudness.range_lu": 0.5}, {"loudness.range_lu": 20.0},
        {"stereo.correlation": -0.5}, {"stereo.correlation": 0.3, "stereo.width": 0.07},
        {"stereo.correlation": 0.99, "stereo.width": 0.005},
        {"stereo.width": 0.0}, {"stereo.width": 0.5},
        {"stereo.balance_db": 3.0}, {"stereo.balance_db": -3.0},
        {"bands.sub": -20.0}, {"bands.air": -1.0}, {"bands.mid": -30.0},
        {"bands.mid": -9.5},
        {"spectrum.tilt_db_per_octave": -3.4}, {"spectrum.tilt_db_per_octave": -0.8},
        {"spectrum.tilt_db_per_octave": -6.0},
    ]  # fmt: skip
    keys = set()
    for changes in cases:
        destination = "streaming" if changes.get("peaks.true_peak_dbtp") == -0.1 else None
        out = compare(
            with_changes(base, **changes), genre="trap", lang=lang, destination=destination
        )
        for s in out["suggestions"]:
            assert s["message"] and s["action"]
            assert "{" not in s["message"] + s["action"]
            keys.add(s["key"])
    assert keys >= {
        "loudness.low", "loudness.high", "true_peak.over", "true_peak.high", "true_peak.low",
        "clipping", "dr.low", "dr.high", "lra.low", "lra.high", "phase", "correlation.low",
        "width.low", "width.mono", "width.high", "balance.left", "balance.right",
        "band.low", "band.high", "band.far", "tilt.low", "tilt.high", "tilt.far",
    }  # fmt: skip


def test_portuguese_differs_from_english_for_the_same_problem() -> None:
    result = with_changes(on_target_result("trap"), **{"loudness.integrated_lufs": -16.0})
    en = _by_metric(compare(result, genre="trap"))["loudness.integrated_lufs"]
    pt = _by_metric(compare(result, genre="trap", lang="pt-BR"))["loudness.integrated_lufs"]
    assert pt["action"].startswith("Aumente a loudness em cerca de 5,5 dB")
    assert en["delta"] == pt["delta"]


def test_in_range_band_moves_are_as_severe_as_they_are_large() -> None:
    base = on_target_result("trap")
    levels = {b["key"]: b["level_db"] for b in base["spectrum"]["bands"]}
    targets = dict(levels)
    levels["presence"] += 14.0  # far above its range
    levels["bass"] -= 4.0  # inside its range, but part of the balance
    current = _renormalised(levels)
    result = with_changes(base, **{f"bands.{k}": v for k, v in current.items()})
    out = _by_metric(compare(result, genre="trap"))
    assert out["spectrum.bands.presence"]["severity"] == "warning"  # taste, never critical
    gains = band_eq_gains_db(current, targets)
    ranks = {"info": 1, "warning": 2}
    moves = [s for s in out.values() if s["key"] == "band.move"]
    assert moves
    for s in moves:
        move = abs(gains[s["metric"].removeprefix("spectrum.bands.")])
        expected = 1 if move <= 3 else 2
        assert ranks[s["severity"]] == expected, (s["metric"], move, s["severity"])


def test_a_band_too_far_off_for_an_eq_asks_for_other_sounds_not_a_huge_move() -> None:
    # A pure 1 kHz tone: every band but mid is ~100 dB below the total. Asking for a 100 dB EQ move
    # would be nonsense; the action names the range and caps the EQ move instead.
    levels = {k: -100.0 for k in ("sub", "bass", "low_mid", "high_mid", "presence", "air")}
    levels["mid"] = 0.0
    changes = {f"bands.{k}": v for k, v in _renormalised(levels).items()}
    result = with_changes(on_target_result("trap"), **changes)
    for lang, words in (("en", "more than an EQ should fix"), ("pt-BR", "mais do que um EQ")):
        bands = [s for s in compare(result, genre="trap", lang=lang)["suggestions"]
                 if s["metric"].startswith("spectrum.bands.")]  # fmt: skip
        far = [s for s in bands if words in s["action"]]
        assert "spectrum.bands.mid" in [s["metric"] for s in far]
        assert all(s["key"] == "band.far" for s in far)
        assert "6" in far[0]["action"]
        for s in bands:  # no action asks for an EQ move beyond the cap
            # (its last sentence explains a move by the gaps it adds up from, asks for nothing)
            action = re.split(
                r" (?:This band's own move|O ajuste próprio desta banda), ", s["action"]
            )[0]
            amounts = re.findall(r"(?:by about|em cerca de) ([0-9.,]+) dB", action)
            assert all(float(a.replace(",", ".")) <= 6.0 for a in amounts), s["action"]
            moves = re.findall(r"[+-]([0-9.,]+) dB", action)
            assert all(float(a.replace(",", ".")) <= 6.0 for a in moves), s["action"]


def test_a_brighter_track_gets_one_tilt_suggestion_not_seven() -> None:
    """The same track turned brighter by a tilt EQ (+1.3 dB/octave around 1 kHz): one tilt
    suggestion, with a tilt EQ of at most 6 dB at either end, and no band suggestion."""
    from soundy.compare.tonal import BAND_CENTRES_OCT

    base = on_target_result("rock_indie")
    levels = {b["key"]: b["level_db"] + 1.3 * BAND_CENTRES_OCT[b["key"]]
              for b in base["spectrum"]["bands"]}  # fmt: skip
    target_tilt = base["spectrum"]["tilt_db_per_octave"]
    result = with_changes(
        base,
        **{"spectrum.tilt_db_per_octave": target_tilt + 1.3},
        **{f"bands.{k}": v for k, v in _renormalised(levels).items()},
    )
    out = compare(result, genre="rock_indie")
    tonal = [s for s in out["suggestions"] if s["metric"].startswith("spectrum.")]
    assert [s["key"] for s in tonal] == ["tilt.high"]
    assert tonal[0]["delta"] == pytest.approx(-1.3, abs=1e-3)
    assert "Darken" in tonal[0]["action"] and "10 kHz" in tonal[0]["action"]
    assert tonal[0]["severity"] in ("info", "warning")


def test_every_suggestion_names_where_its_target_comes_from() -> None:
    result = with_changes(
        on_target_result("trap"),
        **{"loudness.integrated_lufs": -20.0, "peaks.clipped_samples": 4, "stereo.width": 0.5},
    )
    out = _by_metric(compare(result, genre="trap", destination="streaming"))
    assert "streaming" in out["loudness.integrated_lufs"]["source"]
    assert "full scale" in out["peaks.clipped_samples"]["source"]
    assert "Trap" in out["stereo.width"]["source"]
    mix = _by_metric(compare(result, genre="trap", stage="mix", lang="pt-BR"))
    assert (
        "mixagem" in mix["peaks.clipped_samples"]["source"]
        or "fundo" in mix["peaks.clipped_samples"]["source"]
    )


def test_nearest_genres_name_the_genre_a_track_sits_on() -> None:
    out = compare(on_target_result("house"), genre="rock_indie")
    nearest = out["nearest_genres"]
    assert nearest is not None and len(nearest) == 3
    assert nearest[0]["genre"] == "house" and nearest[0]["distance_db"] == 0.0
    assert [n["distance_db"] for n in nearest] == sorted(n["distance_db"] for n in nearest)
    assert all(n["label"] for n in nearest)
    assert compare(on_target_result("house"))["nearest_genres"] is None  # no genre: not loaded
