"""Convert the original system's 17 genre targets into Soundy profiles (``genres/*.json``).

A tool for the repository, not part of the package: run ``python scripts/convert_original.py``
from a checkout to (re)write the shipped ``src/soundy/compare/genres/*.json`` from
``scripts/original_genre_targets.json`` (a copy of the original system's data of 2025-12-27);
``--check`` only reports whether the shipped files match. docs/scoring.md explains every step.

Band levels. The original stored per band ``e = -40 + 5*log10(mean FFT bin power)`` of the raw
signal, so ``2*(e_a - e_b) = 10*log10(meanpow_a / meanpow_b)``. A band's total power is its mean
bin power times its number of bins, which is proportional to its bandwidth in Hz, so in dB, up to
one constant shared by all bands::

    u_a = 2*e_a + 10*log10(bw_a / 1 Hz)

Soundy's ``level_db`` is band power over the total 20 Hz-20 kHz power. The seven bands tile that
range, so the constant ``C`` is fixed by ``10*log10(sum_a 10^((u_a + C)/10)) = 0`` on the target
values, and ``level_a = u_a + C``. Range ends (min, max) use the same ``C``. The original's
``low_bass`` and ``upper_bass`` both cover our ``bass`` (60-150 Hz); we assume the split at
100 Hz (low_bass 60-100 Hz, upper_bass 100-150 Hz) and add their powers:
``u_bass = 10*log10(10^(u_low_bass/10) + 10^(u_upper_bass/10))``. Where the two carry the same
density (16 of 17 genres) the result does not depend on the split.

Stereo. The original's stereo target is the Pearson correlation of left and right (its data files
call it ``stereo_correlation`` and its target normaliser gives the unit "correlation"), so it maps
to ``stereo.correlation`` directly. A ``stereo.width`` (side/mid energy) target is derived from
it: for equal-power channels ``r = (m - s)/(m + s)`` exactly, so ``width = (1 - r)/(1 + r)``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "BAND_HALF_WIDTH_WITHOUT_RANGE_DB",
    "GENRES_DIR",
    "ORIGINAL_BANDWIDTH_HZ",
    "SOURCE_FILE",
    "convert_all",
    "convert_genre",
    "correlation_to_width",
    "render_profile",
]

#: The original system's targets, and the shipped profiles this script writes.
SOURCE_FILE = Path(__file__).resolve().with_name("original_genre_targets.json")
GENRES_DIR = Path(__file__).resolve().parents[1] / "src" / "soundy" / "compare" / "genres"

#: Bandwidth (Hz) of each band of the original, as used for the bin count. low_bass/upper_bass
#: split at 100 Hz is our assumption (the original only says "together 60-150").
ORIGINAL_BANDWIDTH_HZ: dict[str, float] = {
    "sub": 60.0 - 20.0,
    "low_bass": 100.0 - 60.0,
    "upper_bass": 150.0 - 100.0,
    "low_mid": 500.0 - 150.0,
    "mid": 2000.0 - 500.0,
    "high_mid": 5000.0 - 2000.0,
    "presence": 10000.0 - 5000.0,
    "air": 20000.0 - 10000.0,
}
#: Our bands, each made of the original's bands listed.
_OUR_BANDS: dict[str, tuple[str, ...]] = {
    "sub": ("sub",),
    "bass": ("low_bass", "upper_bass"),
    "low_mid": ("low_mid",),
    "mid": ("mid",),
    "high_mid": ("high_mid",),
    "presence": ("presence",),
    "air": ("air",),
}
#: The one genre without band ranges (funk_consciente) gets target +-this, dB.
BAND_HALF_WIDTH_WITHOUT_RANGE_DB = 3.0
_DECIMALS = 2
_SOURCE = (
    "original-genre-targets.json (the original system's data of 2025-12-27), "
    "converted by soundy.compare.convert_original"
)


def _db_sum(levels_db: list[float]) -> float:
    return 10.0 * math.log10(sum(10.0 ** (level / 10.0) for level in levels_db))


def _unnormalised(density: dict[str, dict[str, Any]], field: str) -> dict[str, float]:
    """u for each of our bands from the original's densities (``field``: target, min or max)."""
    u: dict[str, float] = {}
    for ours, originals in _OUR_BANDS.items():
        parts = [
            2.0 * float(density[name][field]) + 10.0 * math.log10(ORIGINAL_BANDWIDTH_HZ[name])
            for name in originals
        ]
        u[ours] = _db_sum(parts)
    return u


def convert_bands(density: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """Our band targets (level relative to total power, dB) from the original's densities."""
    notes: list[str] = []
    u_target = _unnormalised(density, "target")
    offset_db = -_db_sum(list(u_target.values()))
    has_range = all(
        density[name].get("min") is not None and density[name].get("max") is not None
        for name in ORIGINAL_BANDWIDTH_HZ
    )
    if has_range:
        u_min = _unnormalised(density, "min")
        u_max = _unnormalised(density, "max")
    else:
        notes.append(
            "The original gives no band ranges for this genre; each band's range is its target "
            f"+-{BAND_HALF_WIDTH_WITHOUT_RANGE_DB:g} dB."
        )
    bands: dict[str, Any] = {}
    for key in _OUR_BANDS:
        target = u_target[key] + offset_db
        if has_range:
            low, high = u_min[key] + offset_db, u_max[key] + offset_db
        else:
            low = target - BAND_HALF_WIDTH_WITHOUT_RANGE_DB
            high = target + BAND_HALF_WIDTH_WITHOUT_RANGE_DB
        high = min(high, 0.0)
        bands[key] = {
            "target_db": round(target, _DECIMALS),
            "min_db": round(min(low, target), _DECIMALS),
            "max_db": round(max(high, target), _DECIMALS),
        }
    return bands, notes


def correlation_to_width(correlation: float) -> float:
    """Side/mid energy ratio of two equal-power channels with Pearson correlation ``r``."""
    r = min(max(correlation, -0.999), 1.0)
    return (1.0 - r) / (1.0 + r)


def _range(entry: dict[str, Any], name: str, notes: list[str]) -> dict[str, float] | None:
    target = entry.get("target")
    if target is None:
        return None
    low, high = entry.get("min"), entry.get("max")
    tol = entry.get("tol")
    if low is None and tol is not None:
        low = target - tol
    if high is None and tol is not None:
        high = target + tol
    if low is not None and high is not None and not low <= target <= high:
        notes.append(
            f"{name}: the original's target {target:g} lies outside its own range "
            f"{low:g}..{high:g}; the range is widened to include the target."
        )
        low, high = min(low, target), max(high, target)
    out = {"target": round(float(target), 4)}
    if low is not None:
        out["min"] = round(float(low), 4)
    if high is not None:
        out["max"] = round(float(high), 4)
    return out


def convert_genre(key: str, raw: dict[str, Any]) -> dict[str, Any]:
    """One profile (a JSON-ready dict) from one genre of the original file."""
    notes: list[str] = []
    metrics: dict[str, Any] = {}
    for ours, theirs in (
        ("loudness.integrated_lufs", "lufs"),
        ("peaks.true_peak_dbtp", "true_peak"),
        ("dynamics.dr", "dr"),
        ("loudness.range_lu", "lra"),
    ):
        converted = _range(raw[theirs], ours, notes)
        if converted is not None:
            metrics[ours] = converted
    if "dynamics.dr" in metrics:
        notes.append(
            "dynamics.dr: the original's DR (max minus mean RMS of 300 ms windows) is carried "
            "over as the target for Soundy's TT DR; the two are different measures that read "
            "in the same region for masters (see docs/scoring.md)."
        )
    stereo = raw["stereo"]
    if stereo.get("target") is not None:
        r = float(stereo["target"])
        tol = float(stereo.get("tol") or 0.0)
        r_min, r_max = max(-1.0, r - tol), min(1.0, r + tol)
        metrics["stereo.correlation"] = {
            "target": round(r, 4),
            "min": round(r_min, 4),
            "max": round(r_max, 4),
        }
        metrics["stereo.width"] = {
            "target": round(correlation_to_width(r), 4),
            "min": round(correlation_to_width(r_max), 4),
            "max": round(correlation_to_width(r_min), 4),
        }
    bands, band_notes = convert_bands(raw["band_density_db"])
    notes.extend(band_notes)
    return {
        "schema_version": 1,
        "key": key,
        "label": raw["label"],
        "stage": raw["stage"],
        "source": _SOURCE,
        "notes": notes,
        "metrics": metrics,
        "bands": bands,
    }


def render_profile(profile: dict[str, Any]) -> str:
    """The exact text of a profile file (stable, so re-running reproduces the files)."""
    return json.dumps(profile, indent=2, ensure_ascii=False) + "\n"


def convert_all(source: Path | None = None) -> dict[str, str]:
    """``{file name: text}`` for every genre of the original file."""
    data = json.loads((source or SOURCE_FILE).read_text(encoding="utf-8"))
    return {
        f"{key}.json": render_profile(convert_genre(key, raw))
        for key, raw in data["genres"].items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="original targets JSON")
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument("--check", action="store_true", help="only compare with the files")
    args = parser.parse_args(argv)
    out_dir: Path = args.out or GENRES_DIR
    files = convert_all(args.source)
    stale = [
        name
        for name, text in files.items()
        if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != text
    ]
    if args.check:
        for name in stale:
            print(f"differs: {out_dir / name}", file=sys.stderr)
        return 1 if stale else 0
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} profiles to {out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
