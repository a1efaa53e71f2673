"""The one function the worker and the CLI call: measure a file, then compare it with targets.

``analyze_file(path, options) -> dict`` returns the analysis result of docs/result.md
(schema_version 1): the measurements of :mod:`soundy.analysis` plus, when ``options`` ask for a
comparison, the ``targets``, ``score``, ``suggestions`` and ``normalization`` of
:mod:`soundy.compare`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["AnalysisOptions", "ProgressCallback", "analyze_file"]

# progress(stage, fraction 0..1); stage is one of "decoding", "measuring", "comparing".
ProgressCallback = Callable[[str, float], None]


@dataclass(frozen=True, kw_only=True)
class AnalysisOptions:
    """What to compare a track with, and the limits to enforce while decoding it."""

    genre: str | None = None
    # "streaming" | "club" | None
    destination: str | None = None
    # The full result dict of an earlier analysis of the reference track.
    reference_result: dict[str, Any] | None = None
    # Language of suggestion messages: "en" or "pt-BR".
    lang: str = "en"
    # Longer files fail with AudioTooLong (a permanent error).
    max_duration_s: float = 20 * 60
    # Display name put into result["file"]["name"]; None = the path's name.
    display_name: str | None = None


def analyze_file(
    path: str | Path,
    options: AnalysisOptions | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Measure ``path`` and, if asked, compare it; returns a JSON-safe dict (no NaN/Inf)."""
    # numpy loads on the first call, not on import: the worker's parent never needs it, and an
    # analysis process imports this module before it pins its BLAS threads (pipeline/_pool.py).
    from soundy.analysis import measure_file
    from soundy.compare import compare

    options = options or AnalysisOptions()
    result = measure_file(
        path,
        max_duration_s=options.max_duration_s,
        display_name=options.display_name,
        progress=progress,
    )
    if progress is not None:
        progress("comparing", 0.0)
    result.update(
        compare(
            result,
            genre=options.genre,
            destination=options.destination,
            reference_result=options.reference_result,
            lang=options.lang,
        )
    )
    if progress is not None:
        progress("comparing", 1.0)
    return result
