"""Reference mode: how a track differs from a reference track, and how similar they are.

``reference`` key of the result::

    {"metrics": [{metric, current, reference, delta, unit}],
     "bands": [{key, current_db, reference_db, delta_db}],
     "similarity": 0-100}

``delta = reference - current`` (the change that would match the reference). Similarity uses the
score's scales: each metric or band contributes ``max(0, 1 - |difference| / (3 * scale))`` (the
difference on the metric's axis, dB for width); these are averaged within each part with the
metrics' weights, then over the parts with the score's part weights, times 100. A track compared
with itself has similarity 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from soundy.compare.metrics import (
    BAND_KEYS,
    BAND_SPEC,
    METRICS,
    PART_WEIGHTS,
    band_levels,
    metric_value,
)
from soundy.compare.scoring import ZERO_AT_SCALES
from soundy.result import ReferenceBand, ReferenceComparison, ReferenceMetric

__all__ = ["compare_reference"]


def _closeness(difference_scales: float) -> float:
    return max(0.0, 1.0 - abs(difference_scales) / ZERO_AT_SCALES)


def compare_reference(
    result: Mapping[str, Any], reference: Mapping[str, Any]
) -> ReferenceComparison:
    """Per-metric and per-band differences and the similarity (0-100)."""
    parts: dict[str, list[float]] = {}

    def add(part: str, weight: float, closeness: float) -> None:
        acc = parts.setdefault(part, [0.0, 0.0])
        acc[0] += weight * closeness
        acc[1] += weight

    metrics: list[ReferenceMetric] = []
    for metric, spec in METRICS.items():
        current, ref = metric_value(result, metric), metric_value(reference, metric)
        if current is None or ref is None:
            continue
        metrics.append(
            {
                "metric": metric,
                "current": round(current, 4),
                "reference": round(ref, 4),
                "delta": round(ref - current, 4),
                "unit": spec.unit,
            }
        )
        if metric != "peaks.clipped_samples":
            difference = spec.coordinate(ref) - spec.coordinate(current)
            add(spec.part, spec.weight, _closeness(difference / spec.scale))

    bands: list[ReferenceBand] = []
    current_levels, reference_levels = band_levels(result), band_levels(reference)
    for key in BAND_KEYS:
        if key not in current_levels or key not in reference_levels:
            continue
        current, ref = current_levels[key], reference_levels[key]
        bands.append(
            {
                "key": key,
                "current_db": round(current, 2),
                "reference_db": round(ref, 2),
                "delta_db": round(ref - current, 2),
            }
        )
        add(BAND_SPEC.part, BAND_SPEC.weight, _closeness((ref - current) / BAND_SPEC.scale))

    present = {p: acc[0] / acc[1] for p, acc in parts.items() if acc[1] > 0}
    similarity = None
    if present:
        total = sum(PART_WEIGHTS[p] for p in present)
        similarity = round(100.0 * sum(PART_WEIGHTS[p] * c for p, c in present.items()) / total, 1)
    return {"metrics": metrics, "bands": bands, "similarity": similarity}
