"""``soundy analyze V1 V2 V3 --versions``: the files as versions of one song, oldest first
(:func:`soundy.compare.versions.version_history`, the history ``GET /api/songs/{song}`` and the
page show): each version's score and its move, what moved since the previous version, and every
measure of every version; or one JSON document with ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from soundy.compare.messages import number, render
from soundy.compare.versions import MEASURES, measure_label, signed_number, version_history

if TYPE_CHECKING:
    from rich.console import Console

    from soundy.result import AnalysisResult, VersionEntry

__all__ = ["print_versions", "render_versions", "versions_document"]

_DIGITS = {m.metric: m.digits for m in MEASURES}


def versions_document(
    names: Sequence[str], results: Sequence[AnalysisResult | None], *, lang: str = "en"
) -> dict[str, Any]:
    """``{"lang", "versions": [{"file", "result", "history"}]}``, oldest first; a file that could
    not be analysed has a null ``result`` and a history entry without changes."""
    history = version_history(results, lang=lang)
    return {
        "lang": lang,
        "versions": [
            {"file": name, "result": result, "history": entry}
            for name, result, entry in zip(names, results, history, strict=True)
        ],
    }


def _score(entry: VersionEntry, lang: str) -> str:
    if entry["score"] is None:
        return "-"
    text = number(entry["score"], lang, 0)
    delta = entry["score_delta"]
    if delta is None:
        return text
    arrow = "▲ " if entry["score_up"] else "▼ " if delta <= -0.5 else ""
    return f"{text} {arrow}{signed_number(delta, lang, 0)}"


def render_versions(document: dict[str, Any], console: Console) -> None:
    """The versions as on the page: one row per version, then every measure of every version."""
    from rich.table import Table  # start-up path: loaded only when versions are printed

    lang = document["lang"]
    versions = document["versions"]
    table = Table(
        title=render("cli.versions.title", lang, count=len(versions)),
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for i, name in enumerate(render("cli.versions.header", lang).split("|")):
        table.add_column(name, justify="right" if i in (0, 2) else "left")
    for version in versions:
        entry = version["history"]
        table.add_row(
            f"v{entry['version']}",
            version["file"],
            _score(entry, lang),
            entry["summary"] or render("version.failed", lang),
        )
    console.print(table)

    with_results = [v["history"] for v in versions if v["history"]["changes"]]
    if not with_results:
        return
    matrix = Table(
        title=render("cli.versions.matrix", lang),
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    matrix.add_column(render("cli.versions.measure", lang))
    for entry in with_results:
        matrix.add_column(f"v{entry['version']}", justify="right")
    for row, change in enumerate(with_results[0]["changes"]):
        metric, unit = change["metric"], change["unit"]
        digits = _DIGITS[metric]
        shown_unit = unit if unit not in ("", "samples", "DR") else ""  # "DR (DR)": no
        cells = [f"{measure_label(metric, lang)}{' (' + shown_unit + ')' if shown_unit else ''}"]
        for entry in with_results:
            c = entry["changes"][row]
            text = "-" if c["value"] is None else number(c["value"], lang, digits)
            if c["delta"] is not None:
                text += f" ({signed_number(c['delta'], lang, digits)})"
            cells.append(text + (" *" if c["moved"] else ""))
        matrix.add_row(*cells)
    console.print(matrix)


def print_versions(
    names: Sequence[str],
    results: Sequence[AnalysisResult | None],
    *,
    json_output: bool = False,
    lang: str = "en",
) -> None:
    """Print the history of the versions ``results`` (oldest first) to stdout."""
    document = versions_document(names, results, lang=lang)
    if json_output:
        sys.stdout.write(json.dumps(document, allow_nan=False, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        from rich.console import Console  # start-up path: --json never loads rich

        render_versions(document, Console())
