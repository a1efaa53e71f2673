"""Targets, score, suggestions and streaming normalisation for an analysis result.

``compare(result, *, genre, destination, reference_result, lang)`` returns the keys to merge into
the result (docs/scoring.md, docs/result.md):

* ``targets``: what the track was compared with (genre profile, reference or destination);
* ``score``: overall 0-100, parts, classification and one row per metric;
* ``suggestions``: concrete fixes, most severe first, in ``lang`` ("en" or "pt-BR");
* ``normalization``: what each streaming platform will do to the track (None for silence);
* ``reference``: differences from the reference track and a similarity (reference mode only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from soundy.compare.metrics import metric_value
from soundy.compare.normalization import normalization
from soundy.compare.reference import compare_reference
from soundy.compare.scoring import evaluate, score_targets
from soundy.compare.suggestions import make_suggestions
from soundy.compare.targets import DESTINATIONS, build_targets

if TYPE_CHECKING:
    from soundy.compare.profiles import GenreProfile, ProfileError, get_profile, list_profiles

__all__ = [
    "DESTINATIONS",
    "GenreProfile",
    "ProfileError",
    "compare",
    "get_profile",
    "list_profiles",
]

# The genre profiles are pydantic models: soundy.compare.profiles is imported on first use of
# these names (PEP 562), so that a comparison without a genre, the default of `soundy analyze`,
# never imports pydantic (~60 ms of start-up).
_PROFILE_NAMES = frozenset({"GenreProfile", "ProfileError", "get_profile", "list_profiles"})


def __getattr__(name: str) -> Any:
    if name in _PROFILE_NAMES:
        from soundy.compare import profiles

        return getattr(profiles, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def compare(
    result: dict[str, Any],
    *,
    genre: str | None = None,
    destination: str | None = None,
    reference_result: dict[str, Any] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Return the keys to add to ``result``: targets, score, suggestions, normalization and,
    with a reference, reference. An unknown genre or destination raises ``InvalidRequest``."""
    targets = build_targets(genre=genre, destination=destination, reference_result=reference_result)
    evaluated = evaluate(result, targets)
    out: dict[str, Any] = {
        "targets": targets.to_dict(),
        "score": score_targets(evaluated),
        "suggestions": make_suggestions(evaluated, targets, lang),
        "normalization": normalization(
            metric_value(result, "loudness.integrated_lufs"),
            metric_value(result, "peaks.true_peak_dbtp"),
        ),
    }
    if reference_result is not None:
        out["reference"] = compare_reference(result, reference_result)
    return out
