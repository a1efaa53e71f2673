"""The metrics Soundy compares, one registry: where each value lives in the result, its unit,
which score part it belongs to, and the scale that turns a distance into a score.

A metric is named by its dotted path in the analysis result (``loudness.integrated_lufs``,
``stereo.width``); a band is ``spectrum.bands.<key>``. ``scale`` is the distance (in the metric's
unit, or in dB for ``log`` metrics) that counts as one "tolerance unit" in the score and severity
formulas of docs/scoring.md. ``default_half_width`` is the half-width of the ok-range put around
a reference track's value in reference mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from soundy.result import BAND_KEYS, BANDS

__all__ = [
    "BAND_EDGES_HZ",
    "BAND_KEYS",
    "BAND_SPEC",
    "METRICS",
    "PARTS",
    "PART_WEIGHTS",
    "MetricSpec",
    "band_levels",
    "band_metric",
    "metric_value",
    "spec_for",
]

#: Score parts and their weights in the overall score (missing parts are left out and the
#: remaining weights renormalised).
PART_WEIGHTS: dict[str, float] = {
    "loudness": 0.25,
    "peaks": 0.20,
    "dynamics": 0.15,
    "stereo": 0.15,
    "tonal_balance": 0.25,
}
PARTS: tuple[str, ...] = tuple(PART_WEIGHTS)

#: The seven bands' edges (``soundy.result.BANDS``), Hz.
BAND_EDGES_HZ: dict[str, tuple[float, float]] = {b.key: (b.low_hz, b.high_hz) for b in BANDS}

#: A ratio read on a log scale is floored here (dB) so that 0 has a finite distance.
LOG_FLOOR_DB = -60.0


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """How one metric is scored."""

    key: str
    part: str
    unit: str
    #: One tolerance unit of distance (metric unit; dB of 10*log10(value) when ``log``).
    scale: float
    #: Weight inside its part.
    weight: float = 1.0
    #: Half-width of the ok-range around a reference value (reference mode), same unit as scale.
    default_half_width: float = 1.0
    #: Compare on 10*log10(value) (for power ratios such as stereo width).
    log: bool = False

    def coordinate(self, value: float) -> float:
        """The axis distances are measured on: the value, or 10*log10(value) for log metrics."""
        if not self.log:
            return value
        if value <= 0.0:
            return LOG_FLOOR_DB
        return max(LOG_FLOOR_DB, 10.0 * math.log10(value))

    def from_coordinate(self, coordinate: float) -> float:
        return 10.0 ** (coordinate / 10.0) if self.log else coordinate


METRICS: dict[str, MetricSpec] = {
    spec.key: spec
    for spec in (
        MetricSpec(
            key="loudness.integrated_lufs", part="loudness", unit="LUFS", scale=2.0,
            default_half_width=1.0,
        ),
        MetricSpec(
            key="peaks.true_peak_dbtp", part="peaks", unit="dBTP", scale=1.0,
            default_half_width=0.5,
        ),
        MetricSpec(
            key="peaks.clipped_samples", part="peaks", unit="samples", scale=10.0,
            default_half_width=0.0,
        ),
        # The larger DC offset of the channels (derived from ``peaks.channels``).
        MetricSpec(
            key="peaks.dc_offset_dbfs", part="peaks", unit="dBFS", scale=10.0, weight=0.5,
            default_half_width=10.0,
        ),
        MetricSpec(
            key="dynamics.dr", part="dynamics", unit="DR", scale=2.0, default_half_width=1.0,
        ),
        MetricSpec(
            key="loudness.range_lu", part="dynamics", unit="LU", scale=2.0, weight=0.5,
            default_half_width=1.5,
        ),
        MetricSpec(
            key="stereo.correlation", part="stereo", unit="", scale=0.1, default_half_width=0.05,
        ),
        MetricSpec(
            key="stereo.width", part="stereo", unit="", scale=3.0, default_half_width=1.5, log=True,
        ),
        MetricSpec(
            key="stereo.balance_db", part="stereo", unit="dB", scale=1.0, weight=0.5,
            default_half_width=1.0,
        ),
        # The overall tilt of the balance; the bands are judged on the shape around it.
        MetricSpec(
            key="spectrum.tilt_db_per_octave", part="tonal_balance", unit="dB/oct", scale=0.5,
            weight=2.0, default_half_width=0.5,
        ),
    )
}  # fmt: skip

#: Every band: level relative to the track's total power, dB.
BAND_SPEC = MetricSpec(
    key="spectrum.bands", part="tonal_balance", unit="dB", scale=3.0, default_half_width=1.5
)


def band_metric(key: str) -> str:
    """The metric name of band ``key``: ``spectrum.bands.<key>``."""
    return f"spectrum.bands.{key}"


def spec_for(metric: str) -> MetricSpec:
    """The spec of a metric name (bands share one spec)."""
    if metric.startswith("spectrum.bands."):
        return BAND_SPEC
    return METRICS[metric]


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def metric_value(result: Mapping[str, Any], metric: str) -> float | None:
    """The value of ``metric`` in an analysis result, or None when absent, null or not finite."""
    if metric.startswith("spectrum.bands."):
        return band_levels(result).get(metric.removeprefix("spectrum.bands."))
    if metric == "peaks.dc_offset_dbfs":
        return _largest_dc_offset_dbfs(result)
    node: Any = result
    for part in metric.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return _finite(node)


def _largest_dc_offset_dbfs(result: Mapping[str, Any]) -> float | None:
    """The largest of the channels' DC offsets (dBFS); None when no channel has one (a channel
    whose mean is exactly 0 has no dB value and no offset)."""
    peaks = result.get("peaks")
    channels = peaks.get("channels") if isinstance(peaks, dict) else None
    if not isinstance(channels, list):
        return None
    levels = [
        level
        for channel in channels
        if isinstance(channel, dict)
        and (level := _finite(channel.get("dc_offset_dbfs"))) is not None
    ]
    return max(levels, default=None)


def band_levels(result: Mapping[str, Any]) -> dict[str, float]:
    """``{band key: level_db}`` of the result's spectrum (bands with a finite level only)."""
    spectrum = result.get("spectrum")
    bands = spectrum.get("bands") if isinstance(spectrum, dict) else None
    levels: dict[str, float] = {}
    if isinstance(bands, list):
        for band in bands:
            if isinstance(band, dict) and band.get("key") in BAND_EDGES_HZ:
                level = _finite(band.get("level_db"))
                if level is not None:
                    levels[band["key"]] = level
    return levels
