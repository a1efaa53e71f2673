"""Which genre is this? The genre profiles whose band targets a track's balance is closest to.

The distance is the root mean square, over the bands both have, of the track's band level minus
the profile's target (dB): 0 for a track on a profile's targets, about 3 dB for one whose
every band sits 3 dB off. The targets are first turned by the difference between the track's
tilt and the profile's (:func:`soundy.compare.tonal.tilted_targets`), exactly as the score
judges the bands: a track only brighter or darker than a genre is close to it on the shape, and
the tilt is judged once, as its own metric.

The genres are ranked by the tonal-balance part of the score the track would get against each
(tilt and bands, their ranges included), then by that distance: a genre listed first never
scores the track's balance lower than one listed after it (docs/scoring.md, "Nearest genres").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from soundy.compare.metrics import band_levels, metric_value
from soundy.compare.scoring import evaluate, score_targets, turn_db_per_octave
from soundy.compare.targets import Range, Targets
from soundy.compare.tonal import tilted_targets
from soundy.result import BandKey, NearestGenre

if TYPE_CHECKING:
    from soundy.compare.profiles import GenreProfile

__all__ = [
    "NEAREST_COUNT",
    "band_distance_db",
    "nearest_genres",
    "shape_distance_db",
    "tonal_score",
]

#: How many genres the comparison lists.
NEAREST_COUNT = 3


def band_distance_db(levels: Mapping[str, float], targets: Mapping[str, float]) -> float | None:
    """RMS of ``level - target`` over the common bands (dB); None without a common band."""
    common = [k for k in levels if k in targets]
    if not common:
        return None
    return math.sqrt(sum((levels[k] - targets[k]) ** 2 for k in common) / len(common))


def shape_distance_db(
    result: Mapping[str, Any],
    band_targets_db: Mapping[BandKey, float],
    tilt_target_db_per_octave: float | None,
) -> float | None:
    """:func:`band_distance_db` of the track's band levels from ``band_targets_db`` turned by
    the track's tilt minus ``tilt_target`` (dB/octave; not turned when either is missing): the
    distance on the shape the score judges the bands on."""
    tilt = metric_value(result, "spectrum.tilt_db_per_octave")
    targets = dict(band_targets_db)
    if tilt is not None and tilt_target_db_per_octave is not None and band_targets_db:
        turn = turn_db_per_octave(tilt, tilt_target_db_per_octave)
        targets = tilted_targets(band_targets_db, turn)
    return band_distance_db(band_levels(result), {str(k): v for k, v in targets.items()})


def tonal_score(result: Mapping[str, Any], profile: GenreProfile) -> float | None:
    """The tonal-balance part of the score ``result`` gets against ``profile`` (0-100), None
    without band levels: the same evaluation as :func:`soundy.compare.compare`'s."""
    tilt = profile.metrics.get("spectrum.tilt_db_per_octave")
    targets = Targets(
        version="",
        source="genre",
        genre=profile.key,
        metrics={}
        if tilt is None
        else {"spectrum.tilt_db_per_octave": Range(tilt.target, tilt.min, tilt.max)},
        bands={k: Range(b.target, b.target_min, b.target_max) for k, b in profile.bands.items()},
    )
    score = score_targets(evaluate(result, targets))
    return None if score is None else score["parts"]["tonal_balance"]


def nearest_genres(result: Mapping[str, Any], count: int = NEAREST_COUNT) -> list[NearestGenre]:
    """The ``count`` genre profiles the track's balance is closest to, best first: highest
    :func:`tonal_score`, then smallest :func:`shape_distance_db`, then key; empty when the
    track has no band levels (silence)."""
    # pydantic (the profiles) loads only when a comparison lists genres (soundy.compare).
    from soundy.compare.profiles import list_profiles

    ranked: list[tuple[float, float, str, str]] = []
    for profile in list_profiles():
        tilt = profile.metrics.get("spectrum.tilt_db_per_octave")
        distance = shape_distance_db(
            result,
            {k: b.target for k, b in profile.bands.items()},
            None if tilt is None else tilt.target,
        )
        score = tonal_score(result, profile)
        if distance is not None and score is not None:
            ranked.append((-score, distance, profile.key, profile.label))
    ranked.sort()
    return [
        {"genre": key, "label": label, "distance_db": round(distance, 2)}
        for _, distance, key, label in ranked[:count]
    ]
