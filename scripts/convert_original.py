"""Build the shipped genre profiles (``genres/*.json``) from the original system's 17 genres and
the published mean spectrum of commercial music.

A tool for the repository, not part of the package: run ``python scripts/convert_original.py``
from a checkout to (re)write the shipped ``src/soundy/compare/genres/*.json`` from
``scripts/original_genre_targets.json`` (a copy of the original system's data of 2025-12-27);
``--check`` only reports whether the shipped files match. docs/scoring.md explains every step.

Band targets. The original's own band levels cannot be right (four genres put three quarters of
the power below 60 Hz; presence 25 to 37 dB below the total, where real masters measure 14 to
26), so they are not copied. Each genre's bands are :mod:`soundy.compare.tonal`'s mean spectrum
plus the genre's *percussion*: the one difference between genres the evidence supports (more
percussion, more energy below 100 Hz and above 2-4.5 kHz). A genre's percussion is the
projection of the original's genre-to-genre differences on that pattern, read in plain dB
(``u_a = e_a + 10*log10(bw_a / 1 Hz)``; the stated factor 2 implies slopes no real master has),
limited to +-:data:`MAX_PERCUSSION_DB`. The rest of the original's differences is dropped.
Ranges are the target +- :data:`BAND_HALF_WIDTH_DB` (wider below 150 Hz, where real tracks
differ most), and ``spectrum.tilt_db_per_octave`` gets the curve's own tilt +-
:data:`TILT_HALF_WIDTH_DB_PER_OCTAVE`.

Loudness, true peak and DR. A master genre's are its master targets; the four "pre-master mix"
genres' are a mix's, and the stage sets those for every genre now (soundy.compare.targets), so
they are left out of the profile.

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

from soundy.compare import tonal
from soundy.compare.profiles import SCHEMA_VERSION
from soundy.result import BAND_KEYS, BandKey

__all__ = [
    "BAND_HALF_WIDTH_DB",
    "EXTRA_GENRES",
    "GENRES_DIR",
    "MAX_PERCUSSION_DB",
    "ORIGINAL_BANDWIDTH_HZ",
    "SOURCE_FILE",
    "TILT_HALF_WIDTH_DB_PER_OCTAVE",
    "convert_all",
    "convert_genre",
    "correlation_to_width",
    "genre_bands",
    "original_band_levels",
    "percussion_of_genres",
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
_OUR_BANDS: dict[BandKey, tuple[str, ...]] = {
    "sub": ("sub",),
    "bass": ("low_bass", "upper_bass"),
    "low_mid": ("low_mid",),
    "mid": ("mid",),
    "high_mid": ("high_mid",),
    "presence": ("presence",),
    "air": ("air",),
}
#: Half-width of each band's ok-range around its target (dB). Real tracks differ from the mean
#: most below 150 Hz (deviations of up to 10 dB are common there) and above 10 kHz (lossy
#: encoders' low-pass, production era), least in the mids.
BAND_HALF_WIDTH_DB: dict[BandKey, float] = {
    "sub": 7.0,
    "bass": 5.0,
    "low_mid": 4.0,
    "mid": 3.5,
    "high_mid": 4.0,
    "presence": 5.0,
    "air": 6.0,
}
#: Half-width of the tilt's ok-range (dB/octave of 1/3-octave levels).
TILT_HALF_WIDTH_DB_PER_OCTAVE = 1.0
#: Genres' percussion is kept within +-this (dB): beyond it the original's unit question
#: outweighs its evidence.
MAX_PERCUSSION_DB = 3.0
#: Genres whose original band data is not used at all, and why.
_PRE_MASTER = (
    "was measured on pre-master mixes that put three quarters of the power below 60 Hz, which "
    "no finished track does; the genre takes the mean spectrum of commercial music, which pop "
    "and rock dominate"
)
_NO_BAND_DATA: dict[str, str] = {
    "funk_consciente": "comes from an older data format (no band ranges, loudness -14, "
    "correlation 0.18) that differs from every other genre",
    "pop": _PRE_MASTER,
    "rock_indie": _PRE_MASTER,
    "sertanejo": _PRE_MASTER,
    "piseiro_forro": _PRE_MASTER,
}
#: Loudness-range targets (LU: target, min, max) that replace the original's for the four
#: pre-master genres, whose 10 +- 4 LU was a pre-master mix's figure and sits above real masters
#: of the genre: published figures put rock and pop masters near 5-6 LU, country 6-8 LU (Craig
#: Anderton, "Mastering: What LRA Means to You", PreSonus blog; 4-8 LU for pop, 5-10 LU for rock:
#: mixingandmastering.ai, "Loudness Range (LRA) in Mastering"), and Debian's real rock masters
#: (fretsonfire-songs-sectoid, bench/real_music.py) measure 2.6-8.3 LU, median 4.0
#: (docs/scoring.md).
LRA_OVERRIDES: dict[str, tuple[float, float, float]] = {
    "pop": (6.0, 3.0, 9.0),
    "rock_indie": (6.0, 3.0, 10.0),
    "sertanejo": (7.0, 4.0, 10.0),
    "piseiro_forro": (7.0, 4.0, 10.0),
}
_LRA_NOTE = (
    "loudness.range_lu: the original's 10 +- 4 LU was a pre-master mix's; the target is the "
    'published range of finished masters of the genre (docs/scoring.md, "Loudness range").'
)
#: Genres the original does not have: key -> (label, percussion dB, note).
EXTRA_GENRES: dict[str, tuple[str, float, str]] = {
    "orchestral": (
        "Orchestral / soundtrack",
        -MAX_PERCUSSION_DB,
        "Not in the original data: the mean spectrum with the least percussion any genre gets "
        "(orchestras have little), and no stereo, DR or master loudness targets of its own.",
    ),
}
_DECIMALS = 2
_SOURCE = (
    "bands: mean spectrum of commercial music (Elowsson & Friberg, AES 142nd Convention, 2017, "
    "paper 9762) with the genre's percussion; other targets: original-genre-targets.json (the "
    "original system's data of 2025-12-27); built by soundy.compare.convert_original"
)
_SOURCE_EXTRA = (
    "bands: mean spectrum of commercial music (Elowsson & Friberg, AES 142nd Convention, 2017, "
    "paper 9762) with the genre's percussion; built by soundy.compare.convert_original"
)


def _db_sum(levels_db: list[float]) -> float:
    return 10.0 * math.log10(sum(10.0 ** (level / 10.0) for level in levels_db))


def original_band_levels(density: dict[str, dict[str, Any]]) -> dict[BandKey, float]:
    """The original's band targets as levels relative to the total (dB), read in plain dB."""
    u = {
        ours: _db_sum(
            [
                float(density[name]["target"]) + 10.0 * math.log10(ORIGINAL_BANDWIDTH_HZ[name])
                for name in originals
            ]
        )
        for ours, originals in _OUR_BANDS.items()
    }
    offset = -_db_sum(list(u.values()))
    return {k: v + offset for k, v in u.items()}


def _centred(values: dict[BandKey, float]) -> dict[BandKey, float]:
    mean = sum(values.values()) / len(values)
    return {k: v - mean for k, v in values.items()}


def percussion_of_genres(genres: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each genre's percussion (dB): its difference from the mean of all genres' original band
    levels, projected (least squares, levels centred) on what one dB of percussion does to the
    band levels; limited to +-MAX_PERCUSSION_DB, 0 for a genre whose data is not used."""
    levels = {key: original_band_levels(raw["band_density_db"]) for key, raw in genres.items()}
    used = [key for key in levels if key not in _NO_BAND_DATA]
    mean = {b: sum(levels[g][b] for g in used) / len(used) for b in BAND_KEYS}
    base = tonal.band_levels_db(tonal.mean_density_db)
    one = tonal.band_levels_db(tonal.genre_density_db(1.0))
    pattern = _centred({b: one[b] - base[b] for b in BAND_KEYS})
    norm = sum(v * v for v in pattern.values())
    out: dict[str, float] = {}
    for key, genre_levels in levels.items():
        if key in _NO_BAND_DATA:
            out[key] = 0.0
            continue
        difference = _centred({b: genre_levels[b] - mean[b] for b in BAND_KEYS})
        k = sum(difference[b] * pattern[b] for b in BAND_KEYS) / norm
        out[key] = round(max(-MAX_PERCUSSION_DB, min(MAX_PERCUSSION_DB, k)), _DECIMALS)
    return out


def genre_bands(percussion: float) -> tuple[dict[str, Any], dict[str, float]]:
    """A genre's band targets and tilt target (``{target, min, max}``) from its percussion."""
    curve = tonal.genre_density_db(percussion)
    bands: dict[str, Any] = {}
    for key, level in tonal.band_levels_db(curve).items():
        half = BAND_HALF_WIDTH_DB[key]
        bands[key] = {
            "target": round(level, _DECIMALS),
            "target_min": round(level - half, _DECIMALS),
            "target_max": round(min(level + half, 0.0), _DECIMALS),
        }
    tilt = tonal.third_octave_tilt_db_per_octave(curve)
    half = TILT_HALF_WIDTH_DB_PER_OCTAVE
    return bands, {
        "target": round(tilt, _DECIMALS),
        "min": round(tilt - half, _DECIMALS),
        "max": round(tilt + half, _DECIMALS),
    }


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


def _tonal_part(percussion: float, notes: list[str]) -> tuple[dict[str, Any], dict[str, float]]:
    bands, tilt = genre_bands(percussion)
    notes.append(
        f"bands and spectrum.tilt_db_per_octave: the mean spectrum of commercial music with "
        f"{percussion:+.2f} dB of percussion (docs/scoring.md)."
    )
    return bands, tilt


def convert_genre(key: str, raw: dict[str, Any], percussion: float) -> dict[str, Any]:
    """One profile (a JSON-ready dict) from one genre of the original file."""
    notes: list[str] = []
    metrics: dict[str, Any] = {}
    master = raw["stage"] == "master"
    for ours, theirs in (
        ("loudness.integrated_lufs", "lufs"),
        ("peaks.true_peak_dbtp", "true_peak"),
        ("dynamics.dr", "dr"),
        ("loudness.range_lu", "lra"),
    ):
        if not master and ours != "loudness.range_lu":
            continue
        converted = _range(raw[theirs], ours, notes)
        if ours == "loudness.range_lu" and key in LRA_OVERRIDES:
            target, low, high = LRA_OVERRIDES[key]
            converted = {"target": target, "min": low, "max": high}
            notes.append(_LRA_NOTE)
        if converted is not None:
            metrics[ours] = converted
    if not master:
        notes.append(
            "The original gave this genre a pre-master mix's loudness, true-peak and DR targets; "
            "the stage sets those for every genre now, so they are not the genre's."
        )
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
    if key in _NO_BAND_DATA:
        notes.append(f"The original's band data is not used: it {_NO_BAND_DATA[key]}.")
    bands, tilt = _tonal_part(percussion, notes)
    metrics["spectrum.tilt_db_per_octave"] = tilt
    return {
        "schema_version": SCHEMA_VERSION,
        "key": key,
        "label": raw["label"],
        "source": _SOURCE,
        "notes": notes,
        "percussion_db": percussion,
        "metrics": metrics,
        "bands": bands,
    }


def extra_genre(key: str) -> dict[str, Any]:
    """A profile of :data:`EXTRA_GENRES` (not in the original data)."""
    label, percussion, note = EXTRA_GENRES[key]
    notes = [note]
    bands, tilt = _tonal_part(percussion, notes)
    return {
        "schema_version": SCHEMA_VERSION,
        "key": key,
        "label": label,
        "source": _SOURCE_EXTRA,
        "notes": notes,
        "percussion_db": percussion,
        "metrics": {"spectrum.tilt_db_per_octave": tilt},
        "bands": bands,
    }


def render_profile(profile: dict[str, Any]) -> str:
    """The exact text of a profile file (stable, so re-running reproduces the files)."""
    return json.dumps(profile, indent=2, ensure_ascii=False) + "\n"


def convert_all(source: Path | None = None) -> dict[str, str]:
    """``{file name: text}`` for every genre of the original file."""
    data = json.loads((source or SOURCE_FILE).read_text(encoding="utf-8"))
    percussion = percussion_of_genres(data["genres"])
    files = {
        f"{key}.json": render_profile(convert_genre(key, raw, percussion[key]))
        for key, raw in data["genres"].items()
    }
    files |= {f"{key}.json": render_profile(extra_genre(key)) for key in EXTRA_GENRES}
    return files


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
