"""Targets, score, suggestions and streaming normalisation for an analysis result.

``compare(measurements, *, genre, destination, reference, lang, stage)`` takes the measurements
of :func:`soundy.analysis.measure_file` (and a reference track's) and returns the comparison keys
of the result, :class:`soundy.result.Comparison` (docs/scoring.md, docs/result.md). It is a pure
function of the measurements and those choices, so a stored result can be compared again.

* ``targets``: what the track was compared with (genre profile, reference or destination, and
  the stage: a mix before mastering or a finished master);
* ``score``: overall 0-100, parts, classification and one row per metric;
* ``suggestions``: concrete fixes, most severe first, in ``lang`` ("en" or "pt-BR"), with the
  codec check's when it was run and a platform's encoding pushes the peaks up;
* ``normalization``: the older per-platform view of the measured ``playback`` (None for
  silence, and for results measured before ``playback``);
* ``nearest_genres``: the three genre profiles the balance is closest to (with a genre or a
  reference; None otherwise, so that a plain measurement loads no profile);
* ``reference``: differences from the reference track and a similarity (reference mode only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from soundy.compare.codec import codec_suggestions
from soundy.compare.nearest import nearest_genres
from soundy.compare.normalization import normalization
from soundy.compare.reference import compare_reference
from soundy.compare.scoring import SEVERITY_RANK, evaluate, score_targets
from soundy.compare.suggestions import make_suggestions
from soundy.compare.targets import DESTINATIONS, STAGES, build_targets, targets_version
from soundy.result import Comparison, Measurements, Suggestion

if TYPE_CHECKING:
    from soundy.compare.profiles import GenreProfile, ProfileError, get_profile, list_profiles

__all__ = [
    "DESTINATIONS",
    "STAGES",
    "GenreProfile",
    "ProfileError",
    "compare",
    "get_profile",
    "list_profiles",
    "targets_version",
]

# The genre profiles are pydantic models: soundy.compare.profiles is imported on first use of
# these names (PEP 562), so that a comparison without a genre, the default of `soundy analyze`,
# never imports pydantic (~60 ms of start-up).
_PROFILE_NAMES = frozenset({"GenreProfile", "ProfileError", "get_profile", "list_profiles"})


def __getattr__(name: str) -> Any:
    if name in _PROFILE_NAMES:
        # On first use, not at import: pydantic's start-up (above).
        from soundy.compare import profiles

        return getattr(profiles, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _with_codec(
    suggestions: list[Suggestion], measurements: Measurements, lang: str
) -> list[Suggestion]:
    """The codec check's suggestion, if any, among the others by severity (most severe first,
    after those as severe)."""
    for extra in codec_suggestions(measurements, lang):
        rank = SEVERITY_RANK[extra["severity"]]
        at = next(
            (i for i, s in enumerate(suggestions) if SEVERITY_RANK[s["severity"]] < rank),
            len(suggestions),
        )
        suggestions = [*suggestions[:at], extra, *suggestions[at:]]
    return suggestions


def compare(
    measurements: Measurements,
    *,
    genre: str | None = None,
    destination: str | None = None,
    reference: Measurements | None = None,
    lang: str = "en",
    stage: str | None = None,
) -> Comparison:
    """Return the keys to add to ``result``: targets, score, suggestions, normalization,
    nearest_genres and, with a reference, reference. ``stage`` is ``"mix"`` or ``"master"``
    (None: master). An unknown genre, destination or stage raises ``InvalidRequest``."""
    targets = build_targets(
        genre=genre, destination=destination, reference_result=reference, stage=stage
    )
    evaluated = evaluate(measurements, targets)
    nearest = None
    if targets.source != "destination":
        nearest = nearest_genres(measurements)
    out: Comparison = {
        "targets": targets.to_dict(),
        "score": score_targets(evaluated),
        "suggestions": _with_codec(
            make_suggestions(evaluated, targets, lang, nearest, measurements), measurements, lang
        ),
        "normalization": normalization(measurements),
        "nearest_genres": nearest,
    }
    if reference is not None:
        out["reference"] = compare_reference(measurements, reference)
    return out
