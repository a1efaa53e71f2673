"""Versions of a song: what moved from one version to the next (pure: results in, entries out).

:func:`version_history` takes the results of a song's versions in upload order (None for a
version without a result: still running, or failed) and returns one
:class:`soundy.result.VersionEntry` per version: every measure of :data:`MEASURES` against the
previous version that has a result (value, previous, delta, and whether it *moved*: changed by
at least the measure's step), the score and its change, and a sentence ("Score up 4 points since
version 2 (61 → 65). What moved: loudness +1.2 LUFS, true peak +0.8 dBTP.").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from soundy.compare.messages import normalise_lang, number, render
from soundy.compare.metrics import metric_value
from soundy.result import BAND_KEYS, AnalysisResult, VersionChange, VersionEntry

__all__ = ["MEASURES", "SCORE_STEP", "Measure", "measure_label", "signed_number", "version_history"]


@dataclass(frozen=True)
class Measure:
    """A measure followed across versions; a change of at least ``step`` has *moved*."""

    metric: str
    unit: str
    step: float
    digits: int = 1


#: Every measure a version is compared on, in the report's order. The steps are about what a
#: listener or a meter tells apart: 0.5 LU or dB of level, 1 LU of range, one DR step, 0.05 of
#: correlation or width, 0.25 dB/octave of tilt, 1 dB in a band; one clipped sample.
MEASURES: tuple[Measure, ...] = (
    Measure("loudness.integrated_lufs", "LUFS", 0.5),
    Measure("loudness.range_lu", "LU", 1.0),
    Measure("peaks.true_peak_dbtp", "dBTP", 0.5),
    Measure("peaks.clipped_samples", "samples", 1.0, 0),
    Measure("dynamics.plr_db", "dB", 0.5),
    Measure("dynamics.crest_db", "dB", 0.5),
    Measure("dynamics.dr", "DR", 1.0, 0),
    Measure("stereo.correlation", "", 0.05, 2),
    Measure("stereo.width", "", 0.05, 2),
    Measure("stereo.balance_db", "dB", 0.5),
    Measure("stereo.mono_loss_lu", "LU", 0.5),
    Measure("spectrum.tilt_db_per_octave", "dB/oct", 0.25, 2),
    *(Measure(f"spectrum.bands.{key}", "dB", 1.0) for key in BAND_KEYS),
)

#: A score change smaller than this (points) is "unchanged".
SCORE_STEP = 0.5


def _score(result: AnalysisResult) -> float | None:
    score = result.get("score")
    return None if not score else score.get("overall")


def measure_label(metric: str, lang: str) -> str:
    """The measure's name in the language ("loudness", "low-mid")."""
    if metric.startswith("spectrum.bands."):
        return render("band." + metric.removeprefix("spectrum.bands."), lang)
    return render("measure." + metric, lang)


def signed_number(value: float, lang: str, digits: int) -> str:
    """``value`` in the language's style, with a "+" when it rounds to a positive number."""
    text = number(value, lang, digits)
    return "+" + text if value > 0 and any(c in "123456789" for c in text) else text


def version_history(
    results: Sequence[AnalysisResult | None], *, lang: str = "en"
) -> list[VersionEntry]:
    """One entry per version, in upload order; each against the previous version with a result."""
    language = normalise_lang(lang)
    entries: list[VersionEntry] = []
    previous: tuple[int, AnalysisResult] | None = None
    for index, result in enumerate(results):
        version = index + 1
        if result is None:
            entries.append(
                {
                    "version": version,
                    "previous_version": None,
                    "score": None,
                    "score_delta": None,
                    "score_up": None,
                    "changes": [],
                    "moved": [],
                    "summary": None,
                }
            )
            continue
        before = previous[1] if previous is not None else None
        changes: list[VersionChange] = []
        for m in MEASURES:
            value = metric_value(result, m.metric)
            old = None if before is None else metric_value(before, m.metric)
            delta = None if value is None or old is None else value - old
            changes.append(
                {
                    "metric": m.metric,
                    "unit": m.unit,
                    "value": None if value is None else round(value, 3) + 0.0,
                    "previous": None if old is None else round(old, 3) + 0.0,
                    "delta": None if delta is None else round(delta, 3) + 0.0,
                    "moved": delta is not None and abs(delta) >= m.step - 1e-9,
                }
            )
        moved = [c["metric"] for c in changes if c["moved"]]
        score = _score(result)
        old_score = None if before is None else _score(before)
        score_delta = None if score is None or old_score is None else score - old_score
        score_up = None if score_delta is None else score_delta >= SCORE_STEP
        summary: str | None
        if previous is None:
            summary = render("version.first", language)
        else:
            parts = []
            if score is not None and old_score is not None and score_delta is not None:
                key = (
                    "version.score.up"
                    if score_delta >= SCORE_STEP
                    else "version.score.down"
                    if score_delta <= -SCORE_STEP
                    else "version.score.same"
                )
                parts.append(
                    render(
                        key, language, amount=f"{abs(score_delta):.0f}", previous=previous[0],
                        before=f"{old_score:.0f}", after=f"{score:.0f}",
                    )
                )  # fmt: skip
            by_metric = {m.metric: m for m in MEASURES}
            if moved:
                moves = ", ".join(
                    f"{measure_label(c['metric'], language)} "
                    f"{signed_number(c['delta'] or 0.0, language, by_metric[c['metric']].digits)}"
                    f"{' ' + c['unit'] if c['unit'] else ''}"
                    for c in changes
                    if c["moved"]
                )
                parts.append(render("version.moved", language, moves=moves))
            else:
                parts.append(render("version.still", language))
            summary = " ".join(parts)
        entries.append(
            {
                "version": version,
                "previous_version": None if previous is None else previous[0],
                "score": None if score is None else round(score, 2),
                "score_delta": None if score_delta is None else round(score_delta, 2) + 0.0,
                "score_up": score_up,
                "changes": changes,
                "moved": moved,
                "summary": summary,
            }
        )
        previous = (version, result)
    return entries
