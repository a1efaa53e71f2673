"""Build a genre profile from reference tracks an operator trusts (``soundy targets build``).

Every audio file in a folder is measured with :func:`soundy.analysis.measure_file` in a process
pool; the profile's target for each metric and band is the median over the tracks, its ok-range
the 10th to 90th percentile (linear interpolation between ranks, numpy's default). The tracks
are taken to be finished masters: their loudness, true peak and DR become the genre's master
targets. Metrics a track does not have (stereo of a mono file, loudness of silence) are left
out for that track.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from soundy.analysis import measure_file
from soundy.compare.metrics import BAND_KEYS, band_levels, metric_value
from soundy.compare.profiles import SCHEMA_VERSION, GenreProfile, ProfileError
from soundy.result import Measurements

__all__ = ["AUDIO_SUFFIXES", "audio_files", "measure_directory", "profile_from_results"]

AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".aif", ".aiff", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac"}
)
#: Metrics a built profile carries (what the shipped profiles have, plus balance).
PROFILE_METRICS: tuple[str, ...] = (
    "loudness.integrated_lufs",
    "peaks.true_peak_dbtp",
    "dynamics.dr",
    "loudness.range_lu",
    "stereo.correlation",
    "stereo.width",
    "spectrum.tilt_db_per_octave",
)
LOW_PERCENTILE = 10.0
HIGH_PERCENTILE = 90.0


def audio_files(directory: Path) -> list[Path]:
    """Audio files directly inside ``directory`` (by suffix, hidden files skipped), sorted."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in AUDIO_SUFFIXES
    )


def _measure(path: str, max_duration_s: float) -> Measurements:
    return measure_file(path, max_duration_s=max_duration_s)


def measure_directory(
    files: Iterable[Path],
    *,
    max_duration_s: float,
    workers: int,
    on_done: Callable[[Path, str | None], None] | None = None,
) -> tuple[list[Measurements], dict[Path, str]]:
    """Measure ``files`` in ``workers`` processes; returns (results, {failed file: reason})."""
    results: list[Measurements] = []
    failures: dict[Path, str] = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_measure, str(path), max_duration_s): path for path in files}
        for future in as_completed(futures):
            path = futures[future]
            try:
                results.append(future.result())
                error = None
            except Exception as exc:  # a bad file is reported, the others still count
                error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
                failures[path] = error
            if on_done is not None:
                on_done(path, error)
    return results, failures


def _summary(values: list[float], *, ceiling: float | None = None) -> dict[str, float] | None:
    if not values:
        return None
    target = statistics.median(values)
    low, high = np.percentile(values, [LOW_PERCENTILE, HIGH_PERCENTILE])
    low, high = min(float(low), target), max(float(high), target)
    if ceiling is not None:
        high = min(high, ceiling)
    return {"target": round(target, 4), "min": round(low, 4), "max": round(high, 4)}


def profile_from_results(results: list[Measurements], *, key: str, label: str) -> GenreProfile:
    """A validated profile from analysis results (medians and 10-90 % ranges)."""
    if not results:
        raise ProfileError("no track could be measured; a profile needs at least one")
    metrics: dict[str, Any] = {}
    for metric in PROFILE_METRICS:
        values = [v for r in results if (v := metric_value(r, metric)) is not None]
        summary = _summary(values)
        if summary is not None:
            metrics[metric] = summary
    bands: dict[str, Any] = {}
    for band in BAND_KEYS:
        values = [levels[band] for r in results if band in (levels := band_levels(r))]
        summary = _summary(values, ceiling=0.0)
        if summary is not None:
            bands[band] = {
                "target": summary["target"],
                "target_min": summary["min"],
                "target_max": summary["max"],
            }
    today = dt.datetime.now(dt.UTC).date().isoformat()
    raw = {
        "schema_version": SCHEMA_VERSION,
        "key": key,
        "label": label,
        "source": f"soundy targets build, {len(results)} tracks, {today}",
        "notes": [
            f"Targets are medians over {len(results)} tracks; ranges are the "
            f"{LOW_PERCENTILE:g}th to {HIGH_PERCENTILE:g}th percentiles."
        ],
        "metrics": metrics,
        "bands": bands,
    }
    try:
        return GenreProfile.model_validate(raw)
    except Exception as exc:
        raise ProfileError(f"the built profile does not validate: {exc}") from exc
