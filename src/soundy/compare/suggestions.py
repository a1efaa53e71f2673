"""Suggestions: one concrete fix per metric that is off target, most severe first.

Each suggestion: ``{metric, severity, status, key, message, action, current, target, target_min,
target_max, delta, unit}`` with ``delta = target - current`` (positive: raise it). Texts come from
:mod:`soundy.compare.messages` in the requested language. A narrow or wide image reported by both
correlation and width yields one suggestion (from width); a negative correlation is always its
own critical "check phase" suggestion.
"""

from __future__ import annotations

import math
from typing import Any

from soundy.compare.messages import normalise_lang, number, render
from soundy.compare.metrics import BAND_EDGES_HZ, spec_for
from soundy.compare.scoring import SEVERITY_RANK, MetricResult
from soundy.compare.targets import TRUE_PEAK_CEILING_DBTP, Targets

__all__ = ["band_eq_gain_db", "format_band_range", "make_suggestions"]

_LOW_END_BANDS = ("sub", "bass")


def format_band_range(low_hz: float, high_hz: float) -> str:
    """ "20-60 Hz", "2-5 kHz", "150-500 Hz", "10-20 kHz"."""
    if low_hz >= 1000.0:
        return f"{low_hz / 1000:g}-{high_hz / 1000:g} kHz"
    if high_hz >= 1000.0:
        return f"{low_hz:g} Hz-{high_hz / 1000:g} kHz"
    return f"{low_hz:g}-{high_hz:g} Hz"


def band_eq_gain_db(current_db: float, target_db: float) -> float:
    """EQ gain on one band that moves its level relative to the total from current to target.

    With p = 10^(level/10) the band's share of the total power, a gain G on the band gives the
    share p*G / (1 - p + p*G); solving for the target share q: G = q(1 - p) / (p(1 - q)).
    Boosting a band also raises the total, so the gain is larger than the change in level.
    """
    p = min(10.0 ** (current_db / 10.0), 0.999)
    q = min(10.0 ** (target_db / 10.0), 0.999)
    return 10.0 * math.log10(q * (1.0 - p) / (p * (1.0 - q)))


def _ceiling(targets: Targets) -> float:
    """The limiter ceiling to recommend: the true-peak target (never above 0 dBTP)."""
    tp = targets.metrics.get("peaks.true_peak_dbtp")
    if tp is not None:
        return min(tp.target, TRUE_PEAK_CEILING_DBTP)
    return TRUE_PEAK_CEILING_DBTP


def _texts(item: MetricResult, targets: Targets, lang: str) -> tuple[str, str, str] | None:
    """(message key, message, action) for an off-target metric, or None for none."""
    metric, value, target = item.metric, item.value, item.target.target
    status = item.status
    against = render(f"against.{'reference' if targets.source == 'reference' else 'target'}", lang)
    amount = abs(target - value)
    n = lambda v, d=1: number(v, lang, d)  # noqa: E731
    common = {"current": n(value), "target": n(target), "against": against, "amount": n(amount)}
    ceiling = n(_ceiling(targets))

    if metric == "loudness.integrated_lufs":
        key = f"loudness.{status}"
        action = render(f"{key}.action", lang, amount=n(amount), ceiling=ceiling)
        return key, render(f"{key}.message", lang, **common), action
    if metric == "peaks.true_peak_dbtp":
        maximum = item.target.max if item.target.max is not None else TRUE_PEAK_CEILING_DBTP
        if status == "high":
            key = "true_peak.over" if value > 0.0 else "true_peak.high"
            message = render(f"{key}.message", lang, current=n(value), max=n(maximum))
            return key, message, render("true_peak.high.action", lang, max=ceiling)
        message = render("true_peak.low.message", lang, **common)
        return "true_peak.low", message, render("true_peak.low.action", lang, amount=n(amount))
    if metric == "peaks.clipped_samples":
        message = render("clipping.message", lang, count=str(int(value)))
        return "clipping", message, render("clipping.action", lang, ceiling=ceiling)
    if metric in ("dynamics.dr", "loudness.range_lu"):
        key = f"{'dr' if metric == 'dynamics.dr' else 'lra'}.{status}"
        return (
            key,
            render(f"{key}.message", lang, **common),
            render(f"{key}.action", lang, amount=n(amount)),
        )
    if metric == "stereo.correlation":
        values = {**common, "current": n(value, 2), "target": n(target, 2)}
        key = "phase" if value < 0.0 else f"correlation.{status}"
        return key, render(f"{key}.message", lang, **values), render(f"{key}.action", lang)
    if metric == "stereo.width":
        spec = spec_for(metric)
        gain_db = abs(spec.coordinate(target) - spec.coordinate(value))
        key = f"width.{status}"
        values = {**common, "current": n(value, 3), "target": n(target, 3)}
        return (
            key,
            render(f"{key}.message", lang, **values),
            render(f"{key}.action", lang, amount=n(gain_db)),
        )
    if metric == "stereo.balance_db":
        key = "balance.left" if value > 0.0 else "balance.right"
        off = n(abs(value))
        return (
            key,
            render(f"{key}.message", lang, amount=off),
            render(f"{key}.action", lang, amount=off),
        )
    if metric.startswith("spectrum.bands."):
        band = metric.removeprefix("spectrum.bands.")
        band_range = format_band_range(*BAND_EDGES_HZ[band])
        cut = n(abs(band_eq_gain_db(value, target)))
        values = {**common, "band": render(f"band.{band}", lang), "range": band_range}
        message = render(f"band.{status}.message", lang, **values)
        if status == "high" and band in _LOW_END_BANDS:
            action = render("band.low_end_high.action", lang, range=band_range, cut=cut)
        else:
            action = render(f"band.{status}.action", lang, range=band_range, cut=cut)
        return f"band.{status}", message, action
    return None


def make_suggestions(
    evaluated: list[MetricResult], targets: Targets, lang: str = "en"
) -> list[dict[str, Any]]:
    """Suggestions for every metric whose severity is not ``ok``, most severe first."""
    lang = normalise_lang(lang)
    by_metric = {item.metric: item for item in evaluated}
    width = by_metric.get("stereo.width")
    out: list[tuple[tuple[float, float], dict[str, Any]]] = []
    for item in evaluated:
        if item.severity == "ok":
            continue
        if (
            item.metric == "stereo.correlation"
            and item.value >= 0.0
            and width is not None
            and width.severity != "ok"
            and {item.status, width.status} == {"low", "high"}
        ):
            continue  # the same narrow/wide image, reported once by width
        texts = _texts(item, targets, lang)
        if texts is None:
            continue
        key, message, action = texts
        spec = spec_for(item.metric)
        suggestion = {
            "metric": item.metric,
            "severity": item.severity,
            "status": item.status,
            "key": key,
            "message": message,
            "action": action,
            "current": round(item.value, 4),
            "target": round(item.target.target, 4),
            "target_min": None if item.target.min is None else round(item.target.min, 4),
            "target_max": None if item.target.max is None else round(item.target.max, 4),
            "delta": round(item.target.target - item.value, 4),
            "unit": spec.unit,
        }
        out.append(((-SEVERITY_RANK[item.severity], item.score), suggestion))
    out.sort(key=lambda pair: pair[0])
    return [suggestion for _, suggestion in out]
