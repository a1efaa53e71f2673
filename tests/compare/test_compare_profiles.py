"""Genre profiles: every shipped file loads, the conversion reproduces them, and their band
targets are the published mean spectrum of commercial music (Elowsson & Friberg 2017, its
slopes and the issue's band figures checked here, the integration recomputed independently)
with each genre's percussion and the documented tolerances."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import soundy.compare
from soundy.compare import list_profiles, tonal
from soundy.compare.metrics import BAND_KEYS
from soundy.compare.profiles import ProfileError, get_profile, load_profile_file
from soundy.errors import InvalidRequest
from soundy.result import BANDS

GENRES_DIR = Path(soundy.compare.__file__).parent / "genres"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "convert_original.py"


def _script() -> ModuleType:
    """scripts/convert_original.py (a repository tool, not part of the package)."""
    spec = importlib.util.spec_from_file_location("convert_original", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


convert_original = _script()
# The original system's data the shipped profiles were converted from (scripts/).
SOURCE = json.loads(
    (Path(__file__).resolve().parents[2] / "scripts" / "original_genre_targets.json").read_text()
)


def test_every_genre_ships_and_loads() -> None:
    profiles = {p.key: p for p in list_profiles()}
    assert set(profiles) == set(SOURCE["genres"]) | set(convert_original.EXTRA_GENRES)
    for key, raw in SOURCE["genres"].items():
        p = profiles[key]
        assert p.label == raw["label"]
        assert set(p.bands) == set(BAND_KEYS)
        assert p.schema_version == 2
        if raw["stage"] == "master":  # a master genre keeps its master targets
            assert p.metrics["loudness.integrated_lufs"].target == raw["lufs"]["target"]
            assert p.metrics["peaks.true_peak_dbtp"].target == raw["true_peak"]["target"]
        else:  # a pre-master genre's loudness was a mix's: the stage sets it now
            assert "loudness.integrated_lufs" not in p.metrics
            assert "dynamics.dr" not in p.metrics


def test_band_levels_sum_to_the_total_power() -> None:
    for p in list_profiles():
        total = sum(10 ** (b.target / 10) for b in p.bands.values())
        assert 10 * math.log10(total) == pytest.approx(0.0, abs=0.01), p.key


# ---- the published curve ------------------------------------------------------------------

#: Elowsson & Friberg (2017): the mean LTAS's slope at each frequency, dB/octave.
PUBLISHED_SLOPES = {200: -2.35, 400: -3.67, 800: -4.99, 1600: -6.30, 3200: -7.62, 6400: -8.94}
#: Issue 9's reading of that curve over our seven bands (dB of the total).
ISSUE_FIGURES = {"sub": -11, "bass": -7, "low_mid": -4, "mid": -6, "high_mid": -13,
                 "presence": -20, "air": -27}  # fmt: skip


def test_the_mean_curve_has_the_published_slopes_and_peak() -> None:
    for f_hz, slope in PUBLISHED_SLOPES.items():
        step = 0.01  # octaves: a central difference of the curve itself
        up, down = f_hz * 2**step, f_hz * 2**-step
        measured = (tonal.mean_density_db(up) - tonal.mean_density_db(down)) / (2 * step)
        # the six slopes fall by 1.32 dB/octave per octave, to within their rounding
        assert measured == pytest.approx(slope, abs=0.015), f_hz
    grid = np.geomspace(20, 20000, 4000)
    assert grid[np.argmax([tonal.mean_density_db(f) for f in grid])] == pytest.approx(94, rel=0.01)


def _band_levels_numpy(density: Any) -> dict[str, float]:
    """An independent integration: numpy's trapezoid rule on a fine linear grid of Hz."""
    f = np.linspace(20.0, 20000.0, 2_000_001)
    power = 10 ** (np.array([density(x) for x in f[::100]]) / 10)
    power = np.interp(f, f[::100], power)
    total = np.trapezoid(power, f)
    out = {}
    for key, low, high in ((b.key, b.low_hz, b.high_hz) for b in BANDS):
        m = (f >= low) & (f <= high)
        out[key] = 10 * math.log10(np.trapezoid(power[m], f[m]) / total)
    return out


def test_band_targets_integrate_the_published_curve() -> None:
    """The mean curve over our bands: within 0.6 dB of the issue's figures (sub, whose level
    depends on the assumed rise below 94 Hz, within 1 dB), and the same by another method."""
    ours = tonal.band_levels_db(tonal.mean_density_db)
    reference = _band_levels_numpy(tonal.mean_density_db)
    for key, figure in ISSUE_FIGURES.items():
        assert ours[key] == pytest.approx(reference[key], abs=0.05), key
        assert ours[key] == pytest.approx(figure, abs=1.0 if key == "sub" else 0.6), key


def test_each_genre_is_the_curve_with_its_percussion_and_its_tolerances() -> None:
    for p in list_profiles():
        assert p.percussion_db is not None
        assert abs(p.percussion_db) <= convert_original.MAX_PERCUSSION_DB
        expected = tonal.band_levels_db(tonal.genre_density_db(p.percussion_db))
        for key, band in p.bands.items():
            assert band.target == pytest.approx(expected[key], abs=0.01), (p.key, key)
            half = convert_original.BAND_HALF_WIDTH_DB[key]
            assert band.target_min == pytest.approx(band.target - half, abs=0.01)
            assert band.target_max == pytest.approx(min(0.0, band.target + half), abs=0.01)
        tilt = p.metrics["spectrum.tilt_db_per_octave"]
        assert tilt.target == pytest.approx(
            tonal.third_octave_tilt_db_per_octave(tonal.genre_density_db(p.percussion_db)),
            abs=0.01,
        )
    half = convert_original.BAND_HALF_WIDTH_DB
    # the real spread: widest below 150 Hz, narrowest in the mids
    assert min(half["sub"], half["bass"]) > max(half["low_mid"], half["mid"], half["high_mid"])


def test_more_percussion_means_more_low_end_and_highs() -> None:
    less = tonal.band_levels_db(tonal.genre_density_db(-3.0))
    more = tonal.band_levels_db(tonal.genre_density_db(3.0))
    for key in ("sub", "bass", "presence", "air"):
        assert more[key] > less[key], key
    for key in ("low_mid", "mid"):
        assert more[key] < less[key], key


def test_percussion_of_a_genre_is_recovered_from_its_differences() -> None:
    """A made-up original whose genres differ only by the percussion pattern: the projection
    gives each genre's percussion back (relative to their mean)."""
    base = tonal.band_levels_db(tonal.mean_density_db)

    def density(levels: dict[str, float]) -> dict[str, Any]:
        # invert original_band_levels (plain dB): e = level - 10 log10(bw), bass split evenly
        out: dict[str, Any] = {}
        for key, level in levels.items():
            names = {"bass": ("low_bass", "upper_bass")}.get(key, (key,))
            for name in names:
                bw = convert_original.ORIGINAL_BANDWIDTH_HZ[name]
                out[name] = {"target": level - 10 * math.log10(90.0 if key == "bass" else bw)}
        return out

    genres = {}
    for name, k in (("a", -2.0), ("b", 0.0), ("c", 2.0)):
        levels = tonal.band_levels_db(tonal.genre_density_db(k))
        genres[name] = {"band_density_db": density(levels)}
    found = convert_original.percussion_of_genres(genres)
    assert found["c"] - found["a"] == pytest.approx(4.0, abs=0.2)
    assert found["b"] == pytest.approx(0.0, abs=0.2)
    assert all(math.isfinite(v) for v in base.values())


def test_a_schema_version_1_operator_file_still_loads(tmp_path: Path) -> None:
    v1 = {
        "schema_version": 1, "key": "old_mix", "label": "Old mix", "stage": "pre-master mix",
        "metrics": {"loudness.integrated_lufs": {"target": -20.0, "min": -26.0, "max": -13.0},
                    "stereo.correlation": {"target": 0.8, "min": 0.7, "max": 0.9}},
        "bands": {"sub": {"target_db": -10.0, "min_db": -16.0, "max_db": -4.0}},
    }  # fmt: skip
    path = tmp_path / "old_mix.json"
    path.write_text(json.dumps(v1))
    p = load_profile_file(path)
    assert (p.bands["sub"].target, p.bands["sub"].target_min) == (-10.0, -16.0)
    assert set(p.metrics) == {"stereo.correlation"}  # a mix's loudness is the stage's now


def test_stereo_targets_map_correlation_and_derived_width() -> None:
    raw = SOURCE["genres"]["trap"]["stereo"]
    p = get_profile("trap")
    corr = p.metrics["stereo.correlation"]
    assert corr.target == raw["target"]
    assert corr.min == pytest.approx(raw["target"] - raw["tol"])
    width = p.metrics["stereo.width"]
    assert width.min < width.target < width.max  # higher correlation = narrower


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
        assert (
            len(list_profiles()) == len(SOURCE["genres"]) + len(convert_original.EXTRA_GENRES) + 1
        )
    finally:
        monkeypatch.delenv("SOUNDY_GENRES_DIR")
        get_settings.cache_clear()
    with pytest.raises(InvalidRequest):
        get_profile("deep_house")
