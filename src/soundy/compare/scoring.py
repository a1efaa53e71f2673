"""The score: one formula for every metric, part and mode (docs/scoring.md).

For a metric with value ``v``, ok-range ``[min, max]`` and scale ``s`` (``metrics.METRICS``)::

    d     = distance of v outside [min, max] / s        (0 inside; log metrics in dB)
    score = 100 * max(0, 1 - d / 3)                      (100 inside, 0 at three scales out)

severity: ``ok`` when d = 0, ``info`` when d <= 1, else ``warning``. ``critical`` is kept for
damage on playback and nothing else (:func:`is_damage`): clipped samples, a true peak over
0 dBTP, left and right cancelling in mono (negative correlation with a mono loss over
:data:`PHASE_MONO_LOSS_LU`), a silent channel (:data:`SILENT_CHANNEL_DB`) and a large DC offset
(:data:`DC_OFFSET_DAMAGE_DBFS`). A matter of taste (tonal balance, width, loudness range against a
genre) is never critical. A true peak below its range (unused headroom) is at most ``info``.

Bands are judged on the shape of the balance, not its tilt: when the track has a
``spectrum.tilt_db_per_octave`` and the targets one, the band targets are first turned by the
difference (:func:`soundy.compare.tonal.tilted_targets`); the tilt itself is one metric.

A part is the weighted mean of its metrics' scores; ``overall`` is the weighted mean of the
parts present (``metrics.PART_WEIGHTS``), scaled by ``CRITICAL_CAP / 100`` while any metric is
critical (so it stays below "good" and still tells two damaged tracks apart). A metric without a
value or without a target is left out, never counted as zero; so are the clipped samples of a
lossy decode that are only the codec's overshoot (:func:`codec_overshoot_samples`): they are the
true peak over 0 dBTP, judged once as that. Every step is monotonic in d, so
moving a metric toward its target never lowers any score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from soundy.compare.metrics import PART_WEIGHTS, band_metric, metric_value, spec_for
from soundy.compare.targets import Range, Targets
from soundy.compare.tonal import tilted_targets
from soundy.result import Classification, MetricScore, Score, ScoreParts, Severity, Status

__all__ = [
    "CLASSIFICATION",
    "CRITICAL_CAP",
    "DC_OFFSET_DAMAGE_DBFS",
    "PHASE_MONO_LOSS_LU",
    "SEVERITY_RANK",
    "SILENT_CHANNEL_DB",
    "MetricResult",
    "band_targets_for",
    "classify",
    "codec_overshoot_samples",
    "evaluate",
    "is_damage",
    "score_targets",
    "turn_db_per_octave",
]

#: Scales outside the range at which a metric's score reaches 0.
ZERO_AT_SCALES = 3.0
#: While any metric is critical the overall score is scaled by this / 100 ("fair" at best).
CRITICAL_CAP = 74.0
#: Folded to mono, unrelated channels lose 3 LU; a negative correlation that loses more than
#: this cancels audibly (for broadband channels of equal level: correlation below -0.5).
PHASE_MONO_LOSS_LU = 6.0
#: The band targets are turned by at most this tilt difference (dB/octave): about what a tilt
#: EQ of 6 dB at 50 Hz does (soundy.compare.suggestions.EQ_MAX_DB).
MAX_TURN_DB_PER_OCTAVE = 1.5
#: Without a mono loss, a correlation below this is taken as cancelling.
PHASE_CORRELATION = -0.5
#: A channel this much (dB) below the other is silent on playback: one speaker plays nothing
#: you would hear over the other (the measured balance stops at 70 dB, digital silence).
SILENT_CHANNEL_DB = 40.0
#: A DC offset over this (dBFS, about 3 % of full scale) takes that much headroom from every
#: peak on one side, thumps at every start, stop and edit, and pushes a woofer off centre.
DC_OFFSET_DAMAGE_DBFS = -30.0
#: In a lossy decode, samples over full scale in runs of this many or more on average are flat
#: tops clipped before encoding (the 3 samples of the PCM clipping rule, soundy.analysis.
#: dynamics); shorter runs may be the codec's overshoot of peaks at full scale or clipping the
#: codec has smeared, which one file cannot tell apart: both are the true peak over 0 dBTP.
CODEC_OVERSHOOT_RUN_SAMPLES = 3.0
#: (lowest overall score, classification), best first.
CLASSIFICATION: tuple[tuple[float, Classification], ...] = (
    (90.0, "excellent"),
    (75.0, "good"),
    (50.0, "fair"),
    (0.0, "poor"),
)
SEVERITY_RANK: dict[Severity, int] = {"ok": 0, "info": 1, "warning": 2, "critical": 3}


@dataclass(frozen=True)
class MetricResult:
    """One metric measured against its target."""

    metric: str
    value: float
    target: Range
    distance_scales: float
    score: float
    status: Status
    severity: Severity

    @property
    def part(self) -> str:
        return spec_for(self.metric).part

    def to_dict(self) -> MetricScore:
        return {
            "metric": self.metric,
            "part": self.part,
            "value": round(self.value, 4),
            **self.target.as_dict(digits=4),
            "unit": spec_for(self.metric).unit,
            "status": self.status,
            "severity": self.severity,
            "score": round(self.score, 1),
        }


def _parts(scores: dict[str, float]) -> ScoreParts:
    """Every part, None where none of its metrics was scored."""
    return {
        "loudness": scores.get("loudness"),
        "peaks": scores.get("peaks"),
        "dynamics": scores.get("dynamics"),
        "stereo": scores.get("stereo"),
        "tonal_balance": scores.get("tonal_balance"),
    }


def _distance_scales(metric: str, target: Range, value: float) -> float:
    spec = spec_for(metric)
    axis = Range(
        spec.coordinate(target.target),
        None if target.min is None else spec.coordinate(target.min),
        None if target.max is None else spec.coordinate(target.max),
    )
    return axis.distance(spec.coordinate(value)) / spec.scale


def is_damage(metric: str, value: float, mono_loss_lu: float | None = None) -> bool:
    """Damage on playback: clipped samples, a true peak over 0 dBTP, left and right that cancel
    in mono (negative correlation and a mono loss over PHASE_MONO_LOSS_LU), a silent channel or
    a large DC offset."""
    if metric == "peaks.clipped_samples":
        return value > 0
    if metric == "peaks.dc_offset_dbfs":
        return value > DC_OFFSET_DAMAGE_DBFS
    if metric == "stereo.balance_db":
        return abs(value) >= SILENT_CHANNEL_DB
    if metric == "peaks.true_peak_dbtp":
        return value > 0.0
    if metric == "stereo.correlation" and value < 0.0:
        if mono_loss_lu is not None:
            return mono_loss_lu > PHASE_MONO_LOSS_LU
        return value < PHASE_CORRELATION
    return False


def codec_overshoot_samples(result: Mapping[str, Any]) -> int | None:
    """The clipped samples of a lossy decode (no bit depth, not float) that are no flat tops:
    samples over full scale in runs under CODEC_OVERSHOOT_RUN_SAMPLES on average, which are
    there because the true peak is over 0 dBTP. They are that true peak, already critical on
    its own, so they are reported with it (its message gives the count) and not scored twice;
    None otherwise (no lossy decode, no clipped sample, or flat tops: clipping, its own
    critical finding)."""
    info = result.get("file")
    peaks = result.get("peaks")
    if not isinstance(info, dict) or not isinstance(peaks, dict):
        return None
    if info.get("bit_depth") is not None or info.get("is_float", False):
        return None
    clipped, events = peaks.get("clipped_samples"), peaks.get("clip_events")
    true_peak = metric_value(result, "peaks.true_peak_dbtp")
    if not clipped or not events or true_peak is None or true_peak <= 0.0:
        return None
    if clipped >= CODEC_OVERSHOOT_RUN_SAMPLES * events:
        return None
    return int(clipped)


def _severity(metric: str, distance_scales: float, status: Status, damage: bool) -> Severity:
    if damage:
        return "critical"
    if distance_scales <= 0.0:
        return "ok"
    if distance_scales <= 1.0 or (metric == "peaks.true_peak_dbtp" and status == "low"):
        return "info"  # unused headroom below the true-peak target is never a fault
    return "warning"


def turn_db_per_octave(tilt_db_per_octave: float, target_db_per_octave: float) -> float:
    """How far the band targets are turned for a track of this tilt (dB/octave): the tilt
    difference, at most MAX_TURN_DB_PER_OCTAVE either way (one broad tilt EQ's worth). A track
    tilted further is far from the genre in its bands too, not only in its tilt."""
    difference = tilt_db_per_octave - target_db_per_octave
    return max(-MAX_TURN_DB_PER_OCTAVE, min(MAX_TURN_DB_PER_OCTAVE, difference))


def band_targets_for(result: Mapping[str, Any], targets: Targets) -> dict[str, Range]:
    """The band ranges a track is judged against: the targets turned by the difference between
    the track's tilt and the target tilt (when both exist), so the bands judge the shape."""
    tilt_target = targets.metrics.get("spectrum.tilt_db_per_octave")
    tilt = metric_value(result, "spectrum.tilt_db_per_octave")
    if tilt_target is None or tilt is None or not targets.bands:
        return {str(k): r for k, r in targets.bands.items()}
    turned = tilted_targets(
        {k: r.target for k, r in targets.bands.items()},
        turn_db_per_octave(tilt, tilt_target.target),
    )
    out: dict[str, Range] = {}
    for key, r in targets.bands.items():
        shift = turned[key] - r.target
        out[key] = Range(
            turned[key],
            None if r.min is None else r.min + shift,
            None if r.max is None else min(0.0, max(r.max + shift, turned[key])),
        )
    return out


def evaluate(result: Mapping[str, Any], targets: Targets) -> list[MetricResult]:
    """Every metric that has both a value in ``result`` and a target, in registry order."""
    pairs: list[tuple[str, Range]] = list(targets.metrics.items())
    pairs += [(band_metric(key), r) for key, r in band_targets_for(result, targets).items()]
    mono_loss = metric_value(result, "stereo.mono_loss_lu")
    overshoot = codec_overshoot_samples(result) is not None
    out: list[MetricResult] = []
    for metric, target in pairs:
        if overshoot and metric == "peaks.clipped_samples":
            continue  # the true peak over 0 dBTP, judged once as that (codec_overshoot_samples)
        value = metric_value(result, metric)
        if value is None:
            continue
        d = _distance_scales(metric, target, value)
        status = target.status(value)
        out.append(
            MetricResult(
                metric=metric,
                value=value,
                target=target,
                distance_scales=d,
                score=100.0 * max(0.0, 1.0 - d / ZERO_AT_SCALES),
                status=status,
                severity=_severity(metric, d, status, is_damage(metric, value, mono_loss)),
            )
        )
    return out


def classify(overall: float) -> Classification:
    for lowest, name in CLASSIFICATION:
        if overall >= lowest:
            return name
    return CLASSIFICATION[-1][1]


def score_targets(evaluated: list[MetricResult]) -> Score | None:
    """``score``: overall, parts, classification and per-metric rows; None if nothing scored."""
    if not evaluated:
        return None
    sums: dict[str, list[float]] = {}
    for item in evaluated:
        weight = spec_for(item.metric).weight
        acc = sums.setdefault(item.part, [0.0, 0.0])
        acc[0] += weight * item.score
        acc[1] += weight
    parts = {part: sums[part][0] / sums[part][1] for part in PART_WEIGHTS if part in sums}
    total_weight = sum(PART_WEIGHTS[p] for p in parts)
    overall = sum(PART_WEIGHTS[p] * s for p, s in parts.items()) / total_weight
    capped = any(item.severity == "critical" for item in evaluated)
    if capped:
        overall *= CRITICAL_CAP / 100.0
    overall = round(overall, 1)
    return {
        "overall": overall,
        "classification": classify(overall),
        "parts": _parts({p: round(score, 1) for p, score in parts.items()}),
        "capped_by_critical": capped,
        "metrics": [item.to_dict() for item in evaluated],
    }
