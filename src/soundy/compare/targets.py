"""What a track is compared with: a genre profile, a stage, a destination or a reference track.

``build_targets`` returns a :class:`Targets`: per metric a target value and an ok-range, per band
the same in dB relative to the total, and for each where it comes from (``origins``).
Precedence (docs/scoring.md):

1. a reference track sets every metric and band it has (range = its value +- the metric's
   ``default_half_width``); a genre given as well is then ignored;
2. otherwise the genre's profile sets the tonal balance, stereo and loudness-range targets;
3. the stage sets loudness, true peak and DR. A ``mix`` (before mastering) gets the mix targets
   (:data:`MIX_TARGETS`) whatever the genre or destination. A ``master`` (the default) gets the
   destination's: ``streaming`` -> -14 LUFS, at least -15 and no upper limit (the platforms
   turn a loud master down: soundy.analysis.playback), true peak at most -1 dBTP;
   ``club`` -> the genre's master targets, or, for a genre without them or no genre, the median
   of the shipped genres' master loudness, true peak and DR targets; no destination -> the
   genre's master targets, else ``streaming``.

Absolute limits hold in every mode: no clipped samples, true peak at most 0 dBTP, correlation at
least 0 (a reference that clips or is out of phase is not a target to match), and left/right
balance within +-1 dB when nothing else sets it.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from soundy import result
from soundy.compare.metrics import BAND_KEYS, METRICS, band_levels, metric_value, spec_for
from soundy.errors import InvalidRequest

if TYPE_CHECKING:
    from soundy.compare.profiles import GenreProfile

__all__ = [
    "DESTINATIONS",
    "MIX_TARGETS",
    "STAGES",
    "Origin",
    "Range",
    "Targets",
    "build_targets",
    "targets_version",
]

DESTINATIONS: tuple[str, ...] = tuple(d.value for d in result.Destination)
STAGES: tuple[str, ...] = tuple(s.value for s in result.Stage)
#: Where a target comes from (a suggestion's ``source`` names it).
#: The largest DC offset (dBFS) a finished file should carry.
DC_OFFSET_MAX_DBFS = -50.0

Origin = Literal["genre", "stage", "destination", "reference", "limit"]

STREAMING_LUFS = -14.0
#: The quietest master the platforms that do not raise quiet tracks (YouTube, Tidal, Amazon at
#: -14 LUFS) play within 1 LU of the tracks around it. No upper limit: every normalising
#: platform turns a louder master down (soundy.analysis.playback), so loud is no fault there.
STREAMING_LUFS_MIN = -15.0
STREAMING_TRUE_PEAK_MAX_DBTP = -1.0
#: Physical ceiling: above 0 dBTP the track clips on any converter.
TRUE_PEAK_CEILING_DBTP = 0.0


@dataclass(frozen=True)
class Range:
    """A target and its ok-range (None = unbounded on that side)."""

    target: float
    min: float | None = None
    max: float | None = None

    def distance(self, value: float) -> float:
        """How far ``value`` lies outside the range (0 inside), in the same axis."""
        if self.min is not None and value < self.min:
            return self.min - value
        if self.max is not None and value > self.max:
            return value - self.max
        return 0.0

    def as_dict(self, digits: int | None = None) -> result.Range:
        """The result's one range shape, ``{target, target_min, target_max}``."""

        def rounded(value: float | None) -> float | None:
            return value if value is None or digits is None else round(value, digits)

        return {
            "target": self.target if digits is None else round(self.target, digits),
            "target_min": rounded(self.min),
            "target_max": rounded(self.max),
        }

    def status(self, value: float) -> result.Status:
        if self.min is not None and value < self.min:
            return "low"
        if self.max is not None and value > self.max:
            return "high"
        return "ok"


@lru_cache(maxsize=1)
def _rules_digest() -> bytes:
    """SHA-256 of the comparison code itself (every module of this package): any change to a
    rule, constant or message gives stored analyses a new version, so their advice is computed
    again."""
    package = resources.files("soundy.compare")
    digest = hashlib.sha256()
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.digest()


def targets_version(*, profiles: bool) -> str:
    """The version of the targets and rules a comparison used (12 hex digits).

    It changes when the comparison code changes and, with ``profiles`` (a comparison with a
    genre or a reference, which lists the nearest genres), when any genre profile changes; so
    a comparison cached or stored under it is current exactly while it is equal.
    """
    digest = hashlib.sha256(_rules_digest())
    if profiles:
        from soundy.compare.profiles import profiles_digest  # pydantic: only with a genre

        digest.update(profiles_digest().encode())
    return digest.hexdigest()[:12]


#: A mix before mastering, whatever its genre: the original system's pre-master targets, which
#: its four pre-master genres shared (loudness -20 LUFS, -26..-13; true peak -4.5 dBTP, -12..-1,
#: headroom for the mastering limiter; DR at least 7, more is never a fault before mastering).
MIX_TARGETS: dict[str, Range] = {
    "loudness.integrated_lufs": Range(-20.0, -26.0, -13.0),
    "peaks.true_peak_dbtp": Range(-4.5, -12.0, -1.0),
    "dynamics.dr": Range(15.0, 7.0, None),
}
_STAGE_METRICS = tuple(MIX_TARGETS)


@dataclass
class Targets:
    """Targets for one comparison."""

    version: str
    source: result.TargetSource
    genre: str | None = None
    label: str | None = None
    stage: result.Stage | None = None
    destination: result.Destination | None = None
    metrics: dict[str, Range] = field(default_factory=dict)
    bands: dict[result.BandKey, Range] = field(default_factory=dict)
    #: Where each metric's target comes from (bands: the genre or the reference).
    origins: dict[str, Origin] = field(default_factory=dict)

    def origin(self, metric: str) -> Origin:
        """Where ``metric``'s target comes from."""
        if metric.startswith("spectrum.bands."):
            return "reference" if self.source == "reference" else "genre"
        return self.origins.get(metric, "genre")

    def to_dict(self) -> result.Targets:
        """The ``targets`` key of the result."""
        return {
            "version": self.version,
            "source": self.source,
            "genre": self.genre,
            "label": self.label,
            "stage": self.stage,
            "destination": self.destination,
            "metrics": [
                {"metric": metric, **r.as_dict(), "unit": spec_for(metric).unit}
                for metric, r in self.metrics.items()
            ],
            "bands": [{"key": key, **r.as_dict()} for key, r in self.bands.items()],
        }


def _profile_targets(
    profile: GenreProfile,
) -> tuple[dict[str, Range], dict[result.BandKey, Range]]:
    """The genre's own targets (its master loudness, true peak and DR included)."""
    metrics: dict[str, Range] = {
        str(k): Range(v.target, v.min, v.max) for k, v in profile.metrics.items()
    }
    bands = {k: Range(v.target, v.target_min, v.target_max) for k, v in profile.bands.items()}
    return metrics, {k: bands[k] for k in BAND_KEYS if k in bands}


def _median_master(metric: str) -> Range | None:
    # pydantic (the profiles) loads only when a club target needs the master genres.
    from soundy.compare.profiles import list_profiles

    values = [p.metrics[metric] for p in list_profiles() if metric in p.metrics]
    if not values:
        return None
    target = statistics.median(v.target for v in values)
    lows = [v.min for v in values if v.min is not None]
    highs = [v.max for v in values if v.max is not None]
    low = statistics.median(lows) if lows else None
    high = statistics.median(highs) if highs else None
    return Range(
        round(target, 2),
        None if low is None else round(min(low, target), 2),
        None if high is None else round(max(high, target), 2),
    )


def _reference_targets(
    reference: Mapping[str, Any],
) -> tuple[dict[str, Range], dict[result.BandKey, Range]]:
    metrics: dict[str, Range] = {}
    for metric, spec in METRICS.items():
        value = metric_value(reference, metric)
        if value is None or metric in ("peaks.clipped_samples", "peaks.dc_offset_dbfs"):
            continue  # absolute limits, whatever the reference carries
        centre = spec.coordinate(value)
        half = spec.default_half_width
        metrics[metric] = Range(
            value, spec.from_coordinate(centre - half), spec.from_coordinate(centre + half)
        )
    half_db = spec_for("spectrum.bands.sub").default_half_width
    bands = {
        key: Range(level, level - half_db, min(0.0, level + half_db))
        for key, level in band_levels(reference).items()
    }
    return metrics, {k: bands[k] for k in BAND_KEYS if k in bands}


def _apply_absolute_limits(metrics: dict[str, Range], origins: dict[str, Origin]) -> None:
    metrics["peaks.clipped_samples"] = Range(0.0, 0.0, 0.0)
    origins["peaks.clipped_samples"] = "limit"
    tp = metrics.get("peaks.true_peak_dbtp")
    if tp is not None and (tp.target > TRUE_PEAK_CEILING_DBTP or (tp.max or 0.0) > 0.0):
        target = min(tp.target, TRUE_PEAK_CEILING_DBTP)
        low = None if tp.min is None else min(tp.min, target)
        metrics["peaks.true_peak_dbtp"] = Range(target, low, TRUE_PEAK_CEILING_DBTP)
    elif tp is None:
        ceiling = TRUE_PEAK_CEILING_DBTP
        metrics["peaks.true_peak_dbtp"] = Range(ceiling, None, ceiling)
        origins["peaks.true_peak_dbtp"] = "limit"
    corr = metrics.get("stereo.correlation")
    if corr is None:
        metrics["stereo.correlation"] = Range(0.0, 0.0, None)
        origins["stereo.correlation"] = "limit"
    elif corr.target < 0.0 or (corr.min is not None and corr.min < 0.0):
        target = max(corr.target, 0.0)
        high = None if corr.max is None else max(corr.max, target)
        metrics["stereo.correlation"] = Range(target, 0.0, high)
    # A DC offset over 1/300 of full scale (-50 dBFS) wastes headroom and clicks at edits; no
    # genre or reference asks for one.
    metrics["peaks.dc_offset_dbfs"] = Range(DC_OFFSET_MAX_DBFS, None, DC_OFFSET_MAX_DBFS)
    origins["peaks.dc_offset_dbfs"] = "limit"
    if "stereo.balance_db" not in metrics:
        metrics["stereo.balance_db"] = Range(0.0, -1.0, 1.0)
        origins["stereo.balance_db"] = "limit"


def _order(metrics: dict[str, Range]) -> dict[str, Range]:
    return {k: metrics[k] for k in METRICS if k in metrics}


def build_targets(
    *,
    genre: str | None = None,
    destination: str | None = None,
    reference_result: Mapping[str, Any] | None = None,
    stage: str | None = None,
) -> Targets:
    """Targets for a comparison; an unknown genre, destination or stage is an InvalidRequest."""
    if destination is not None and destination not in DESTINATIONS:
        raise InvalidRequest(
            f"unknown destination {destination!r}; use one of: {', '.join(DESTINATIONS)}"
        )
    if stage is not None and stage not in STAGES:
        raise InvalidRequest(f"unknown stage {stage!r}; use one of: {', '.join(STAGES)}")
    chosen_stage = result.Stage(stage) if stage is not None else result.Stage.MASTER
    profile = None
    if genre:
        # The profiles (pydantic models) load only when a genre is asked for: a comparison
        # with a destination alone imports no pydantic (~60 ms of `soundy analyze`'s start).
        from soundy.compare.profiles import get_profile

        profile = get_profile(genre)
    chosen = None if destination is None else result.Destination(destination)
    genre_master = profile is not None and "loudness.integrated_lufs" in profile.metrics
    if reference_result is None and not genre_master and chosen is None:
        chosen = result.Destination.STREAMING

    origins: dict[str, Origin] = {}
    if reference_result is not None:
        metrics, bands = _reference_targets(reference_result)
        targets = Targets(
            targets_version(profiles=True),
            source="reference",
            stage=chosen_stage,
            destination=chosen,
        )
        origins = dict.fromkeys(metrics, "reference")
    elif profile is not None:
        metrics, bands = _profile_targets(profile)
        targets = Targets(
            targets_version(profiles=True), source="genre", genre=profile.key, label=profile.label,
            stage=chosen_stage,
            destination=chosen,
        )  # fmt: skip
        origins = dict.fromkeys(metrics, "genre")
    else:
        metrics, bands = {}, {}
        targets = Targets(
            targets_version(profiles=False),
            source="destination",
            stage=chosen_stage,
            destination=chosen,
        )

    if chosen_stage is result.Stage.MIX:
        for metric, target in MIX_TARGETS.items():
            metrics[metric] = target
            origins[metric] = "stage"
    elif chosen is result.Destination.STREAMING:
        metrics["loudness.integrated_lufs"] = Range(STREAMING_LUFS, STREAMING_LUFS_MIN, None)
        tp = metrics.get("peaks.true_peak_dbtp")
        tp_min = None if tp is None or tp.min is None else min(tp.min, STREAMING_TRUE_PEAK_MAX_DBTP)
        metrics["peaks.true_peak_dbtp"] = Range(
            STREAMING_TRUE_PEAK_MAX_DBTP, tp_min, STREAMING_TRUE_PEAK_MAX_DBTP
        )
        origins["loudness.integrated_lufs"] = origins["peaks.true_peak_dbtp"] = "destination"
    elif chosen is result.Destination.CLUB and reference_result is None and not genre_master:
        for metric in _STAGE_METRICS:
            median = _median_master(metric)
            if median is not None:
                metrics[metric] = median
                origins[metric] = "destination"

    _apply_absolute_limits(metrics, origins)
    targets.metrics = _order(metrics)
    targets.bands = bands
    targets.origins = {k: origins.get(k, "limit") for k in targets.metrics}
    return targets
