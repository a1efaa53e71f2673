"""``soundy analyze A B C --album``: the album report (:func:`soundy.compare.album.album_report`)
as a table on the terminal, or one JSON document with ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from soundy.compare.album import album_report
from soundy.compare.messages import number, render

if TYPE_CHECKING:
    from rich.console import Console

    from soundy.result import AlbumReport, Measurements

__all__ = ["print_album", "render_album"]

# Width of the loudness bars (characters) and the LUFS the bars start from.
_BAR_WIDTH = 24
_BAR_FLOOR_LUFS = -30.0


def _fmt(value: float | None, digits: int = 1, signed: bool = False, lang: str = "en") -> str:
    """``value`` with ``digits`` decimals in ``lang``'s style, "+" when ``signed`` and above
    zero as written, never "-0.0"; "-" for none."""
    if value is None:
        return "-"
    text = number(value, lang, digits)
    return f"+{text}" if signed and value > 0 and text.strip("0.,") else text


def _bar(lufs: float | None, loudest: float | None) -> str:
    """The track's loudness as a bar from -30 LUFS to the loudest track (the track-order chart)."""
    if lufs is None or loudest is None or loudest <= _BAR_FLOOR_LUFS:
        return ""
    share = (lufs - _BAR_FLOOR_LUFS) / (loudest - _BAR_FLOOR_LUFS)
    return "█" * max(1, round(_BAR_WIDTH * min(1.0, max(0.0, share))))


def render_album(report: AlbumReport, console: Console, lang: str = "en") -> None:
    """Print the report in ``lang``: one row per track in album order, then outliers and
    playback."""
    from rich.table import Table  # start-up path: loaded only when an album is printed

    album = report["album"]
    title = render(
        "cli.album.title",
        lang,
        tracks=album["tracks"],
        minutes=number(album["duration_s"] / 60, lang),
        lufs=_fmt(album["integrated_lufs"], lang=lang),
        spread=_fmt(album["loudness_spread_lu"], lang=lang),
        peak=_fmt(album["true_peak_dbtp"], lang=lang),
    )
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for i, name in enumerate(render("cli.album.header", lang).split("|")):
        table.add_column(name, justify="left" if i in (1, 2) else "right")
    loudest_index = album["loudest_index"]
    loudest = (
        None
        if loudest_index is None
        else report["tracks"][loudest_index]["values"]["integrated_lufs"]
    )
    for track in report["tracks"]:
        values, deviation = track["values"], track["deviation"]
        spotify = next(p for p in track["playback"] if p["rule"] == "spotify")
        mark = "!" if track["outliers"] else ""
        table.add_row(
            f"{track['index'] + 1}{mark}",
            track["name"],
            _bar(values["integrated_lufs"], loudest),
            *(
                _fmt(value, digits, signed, lang)
                for value, digits, signed in (
                    (values["integrated_lufs"], 1, False),
                    (deviation["integrated_lufs"], 1, True),
                    (values["plr_db"], 1, False),
                    (deviation["plr_db"], 1, True),
                    (values["tilt_db_per_octave"], 2, False),
                    (deviation["tilt_db_per_octave"], 2, True),
                    (values["width"], 2, False),
                    (deviation["width"], 2, True),
                    (spotify["track_gain_db"], 1, True),
                    (spotify["album_gain_db"], 1, True),
                    (spotify["album_minus_track_db"], 1, True),
                )
            ),
        )
    console.print(table)
    console.print(render("cli.album.delta", lang), markup=False)
    for outlier in report["outliers"]:
        console.print(f"  - [{outlier['measure']}] {outlier['message']}", markup=False)
    if not report["outliers"]:
        console.print("  " + render("cli.album.no_outliers", lang), markup=False)
    for rule in report["playback"]:
        console.print(f"{rule['label']}: {rule['message']}", markup=False)


def print_album(
    tracks: Sequence[Measurements], *, json_output: bool = False, lang: str = "en"
) -> None:
    """Print the album report of ``tracks`` (album order) to stdout."""
    report = album_report(tracks, lang=lang)
    if json_output:
        sys.stdout.write(json.dumps(report, allow_nan=False, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        from rich.console import Console  # start-up path: --json never loads rich

        render_album(report, Console(), lang)
