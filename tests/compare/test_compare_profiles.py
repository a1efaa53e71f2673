"""Genre profiles: every shipped file loads, and its values agree with the original system's data
by the relation the original's unit defines (independently recomputed here). The conversion
script itself is tested in tests/scripts/test_convert_original.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import soundy.compare
from soundy.compare import list_profiles
from soundy.compare.metrics import BAND_KEYS
from soundy.compare.profiles import ProfileError, get_profile, load_profile_file
from soundy.errors import InvalidRequest

GENRES_DIR = Path(soundy.compare.__file__).parent / "genres"
# The original system's data the shipped profiles were converted from (scripts/).
SOURCE = json.loads(
    (Path(__file__).resolve().parents[2] / "scripts" / "original_genre_targets.json").read_text()
)


def test_all_17_genres_ship_and_load() -> None:
    profiles = {p.key: p for p in list_profiles()}
    assert set(profiles) == set(SOURCE["genres"])
    assert len(profiles) == 17
    for key, raw in SOURCE["genres"].items():
        p = profiles[key]
        assert p.label == raw["label"]
        assert p.stage == raw["stage"]
        assert set(p.bands) == set(BAND_KEYS)
        assert p.metrics["loudness.integrated_lufs"].target == raw["lufs"]["target"]
        assert p.metrics["peaks.true_peak_dbtp"].target == raw["true_peak"]["target"]
    stages = {p.stage for p in profiles.values()}
    assert stages == {"master", "pre-master mix"}


def test_band_levels_sum_to_the_total_power() -> None:
    for p in list_profiles():
        total = sum(10 ** (b.target_db / 10) for b in p.bands.values())
        assert 10 * math.log10(total) == pytest.approx(0.0, abs=0.01), p.key


def test_band_differences_follow_the_originals_unit() -> None:
    """level_a - level_b = 2 (e_a - e_b) + 10 log10(bw_a / bw_b) for single original bands."""
    bandwidth = {"sub": 40, "low_mid": 350, "mid": 1500, "high_mid": 3000, "presence": 5000,
                 "air": 10000}  # fmt: skip
    for key, raw in SOURCE["genres"].items():
        e = {b: v["target"] for b, v in raw["band_density_db"].items()}
        bands = get_profile(key).bands
        for a, b in (("sub", "mid"), ("mid", "high_mid"), ("low_mid", "presence"), ("mid", "air")):
            expected = 2 * (e[a] - e[b]) + 10 * math.log10(bandwidth[a] / bandwidth[b])
            got = bands[a].target_db - bands[b].target_db
            assert got == pytest.approx(expected, abs=0.02), (key, a, b)


def test_bass_combines_the_two_original_sub_bands_by_power() -> None:
    raw = SOURCE["genres"]["funk_consciente"]["band_density_db"]  # the one with lb != ub
    assert raw["low_bass"]["target"] != raw["upper_bass"]["target"]
    bands = get_profile("funk_consciente").bands
    power = (
        10 ** (2 * raw["low_bass"]["target"] / 10) * 40
        + 10 ** (2 * raw["upper_bass"]["target"] / 10) * 50
    )
    sub_power = 10 ** (2 * raw["sub"]["target"] / 10) * 40
    expected = 10 * math.log10(power / sub_power)
    assert bands["bass"].target_db - bands["sub"].target_db == pytest.approx(expected, abs=0.02)


def test_equal_densities_make_bass_independent_of_the_split() -> None:
    raw = SOURCE["genres"]["trap"]["band_density_db"]
    e = raw["low_bass"]["target"]
    assert raw["upper_bass"]["target"] == e
    bands = get_profile("trap").bands
    expected = 2 * (e - raw["sub"]["target"]) + 10 * math.log10(90 / 40)
    assert bands["bass"].target_db - bands["sub"].target_db == pytest.approx(expected, abs=0.02)


def test_stereo_targets_map_correlation_and_derived_width() -> None:
    raw = SOURCE["genres"]["trap"]["stereo"]
    p = get_profile("trap")
    corr = p.metrics["stereo.correlation"]
    assert corr.target == raw["target"]
    assert corr.min == pytest.approx(raw["target"] - raw["tol"])
    width = p.metrics["stereo.width"]
    assert width.min < width.target < width.max  # higher correlation = narrower


def test_dr_target_outside_its_range_is_widened_and_noted() -> None:
    raw = SOURCE["genres"]["pop"]["dr"]
    assert not raw["min"] <= raw["target"] <= raw["max"]  # the original's own inconsistency
    dr = get_profile("pop").metrics["dynamics.dr"]
    assert dr.min == raw["min"] and dr.max == raw["target"]
    assert any("outside its own range" in n for n in get_profile("pop").notes)


def test_bad_profile_names_file_and_field(tmp_path: Path) -> None:
    good = json.loads((GENRES_DIR / "trap.json").read_text())
    bad = dict(good, metrics=dict(good["metrics"]))
    bad["metrics"]["loudness.integrated_lufs"] = {"target": -10.0, "min": -5.0, "max": -4.0}
    path = tmp_path / "trap.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ProfileError) as info:
        load_profile_file(path)
    assert "trap.json" in info.value.message
    assert "metrics.loudness.integrated_lufs" in info.value.message

    path.write_text(json.dumps(dict(good, stage="mastered")))
    with pytest.raises(ProfileError, match=r"trap\.json: stage"):
        load_profile_file(path)

    other = tmp_path / "house.json"
    other.write_text(json.dumps(good))
    with pytest.raises(ProfileError, match="does not match the file name"):
        load_profile_file(other)

    broken = tmp_path / "x.json"
    broken.write_text("{not json")
    with pytest.raises(ProfileError, match=r"x\.json: not valid JSON"):
        load_profile_file(broken)


def test_unknown_genre_is_a_clear_invalid_request() -> None:
    with pytest.raises(InvalidRequest, match=r"unknown genre 'polka'.*trap"):
        get_profile("polka")


def test_operator_directory_adds_genres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from soundy.config import get_settings

    good = json.loads((GENRES_DIR / "trap.json").read_text())
    (tmp_path / "deep_house.json").write_text(
        json.dumps(dict(good, key="deep_house", label="Deep House"))
    )
    monkeypatch.setenv("SOUNDY_GENRES_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert get_profile("deep_house").label == "Deep House"
        assert len(list_profiles()) == 18
    finally:
        monkeypatch.delenv("SOUNDY_GENRES_DIR")
        get_settings.cache_clear()
    with pytest.raises(InvalidRequest):
        get_profile("deep_house")
