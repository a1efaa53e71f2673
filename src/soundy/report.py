"""The one function the CLI calls: measure a file, then compare it with targets.

``analyze_file(path, options)`` returns the analysis result, :class:`soundy.result.AnalysisResult`
(docs/result.md): the measurements of :mod:`soundy.analysis` and their comparison by
:mod:`soundy.compare` (``targets``, ``score``, ``suggestions``, ``normalization`` and, against a
reference track, ``reference``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from soundy.result import AnalysisResult, Measurements

__all__ = ["AnalysisOptions", "ProgressCallback", "analyze_file"]

# progress(stage, fraction 0..1); stage is one of "decoding", "measuring", "codec_check" (only
# when asked for), "comparing".
ProgressCallback = Callable[[str, float], None]


@dataclass(frozen=True, kw_only=True)
class AnalysisOptions:
    """What to compare a track with, and the limits to enforce while decoding it."""

    genre: str | None = None
    # "streaming" | "club" | None
    destination: str | None = None
    # "mix" (before mastering) | "master" | None (= master): sets loudness, true-peak, DR targets
    stage: str | None = None
    # The measurements of an earlier analysis of the reference track.
    reference: Measurements | None = None
    # Language of suggestion messages: "en" or "pt-BR".
    lang: str = "en"
    # Longer files fail with AudioTooLong (a permanent error).
    max_duration_s: float = 20 * 60
    # More samples (frames x channels) fail with AudioTooLong; more channels or a higher rate
    # with UnsupportedFormat. None = no limit (the service sets them from its settings).
    max_samples: int | None = None
    max_channels: int | None = None
    max_sample_rate_hz: int | None = None
    # Display name put into result["file"]["name"]; None = the path's name.
    display_name: str | None = None
    # Also encode with the platforms' delivery codecs and measure the decoded audio
    # (soundy.analysis.codec; stage "codec_check", several times the measurement's cost).
    codec_check: bool = False


def analyze_file(
    path: str | Path,
    options: AnalysisOptions | None = None,
    progress: ProgressCallback | None = None,
) -> AnalysisResult:
    """Measure ``path`` and compare it; returns a JSON-safe document (no NaN/Inf)."""
    # numpy loads on the first call, not on import: `soundy --help` and the other commands
    # never need it.
    from soundy.analysis import measure_file
    from soundy.compare import compare

    options = options or AnalysisOptions()
    measurements = measure_file(
        path,
        max_duration_s=options.max_duration_s,
        max_samples=options.max_samples,
        max_channels=options.max_channels,
        max_sample_rate_hz=options.max_sample_rate_hz,
        display_name=options.display_name,
        progress=progress,
        codec_check=options.codec_check,
    )
    if progress is not None:
        progress("comparing", 0.0)
    comparison = compare(
        measurements,
        genre=options.genre,
        destination=options.destination,
        reference=options.reference,
        lang=options.lang,
        stage=options.stage,
    )
    if progress is not None:
        progress("comparing", 1.0)
    return {**measurements, **comparison}
