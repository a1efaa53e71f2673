"""Which genre is this? The genre profiles whose band targets a track's balance is closest to.

The distance is the root mean square, over the bands both have, of the track's band level minus
the profile's target (dB): 0 for a track on a profile's targets, about 3 dB for one whose
every band sits 3 dB off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from soundy.compare.metrics import band_levels
from soundy.result import NearestGenre

__all__ = ["NEAREST_COUNT", "band_distance_db", "nearest_genres"]

#: How many genres the comparison lists.
NEAREST_COUNT = 3


def band_distance_db(levels: Mapping[str, float], targets: Mapping[str, float]) -> float | None:
    """RMS of ``level - target`` over the common bands (dB); None without a common band."""
    common = [k for k in levels if k in targets]
    if not common:
        return None
    return math.sqrt(sum((levels[k] - targets[k]) ** 2 for k in common) / len(common))


def nearest_genres(result: Mapping[str, Any], count: int = NEAREST_COUNT) -> list[NearestGenre]:
    """The ``count`` closest genre profiles to the track's band levels, closest first (ties by
    key); empty when the track has no band levels (silence)."""
    # pydantic (the profiles) loads only when a comparison lists genres (soundy.compare).
    from soundy.compare.profiles import list_profiles

    levels = band_levels(result)
    ranked: list[tuple[float, str, str]] = []
    for profile in list_profiles():
        distance = band_distance_db(levels, {k: b.target for k, b in profile.bands.items()})
        if distance is not None:
            ranked.append((distance, profile.key, profile.label))
    ranked.sort()
    return [
        {"genre": key, "label": label, "distance_db": round(distance, 2)}
        for distance, key, label in ranked[:count]
    ]
