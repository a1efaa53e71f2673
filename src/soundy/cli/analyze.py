"""``soundy analyze FILE...``: measure audio files and print a report (or JSON).

Only typer and the error classes (``soundy.errors``, which imports nothing) are imported at
module level: numpy, the decoders and rich load inside the command, PyAV only for the formats
libsndfile cannot read, and nothing of the service (FastAPI, SQLAlchemy, settings) at all, so the
command starts fast (cli/main.py imports every command module at start-up).
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from soundy.errors import SoundyError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from soundy.result import AnalysisResult, Measurements, Range

__all__ = ["analyze", "render_report"]

# Progress bars appear only for files still being measured after this long (seconds).
_PROGRESS_AFTER_S = 1.0
# Local files may be longer than the service's limit (SOUNDY_MAX_DURATION_S): a DJ mix is fine.
_DEFAULT_MAX_DURATION_S = 6 * 3600.0


def analyze(
    files: list[Path] = typer.Argument(
        ...,
        help="Audio files (WAV, AIFF, FLAC, MP3, OGG, Opus, M4A/AAC).",
        show_default=False,
        metavar="FILE...",
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print one JSON document per file (one per line)."
    ),
    genre: str | None = typer.Option(None, "--genre", help="Compare with a genre's targets."),
    destination: str | None = typer.Option(
        None, "--destination", help="Compare with a destination's targets: streaming or club."
    ),
    stage: str = typer.Option(
        "master",
        "--stage",
        help="What the file is: mix (before mastering) or master; sets the loudness, true-peak "
        "and DR targets.",
    ),
    reference: Path | None = typer.Option(
        None, "--reference", help="Compare with a reference track (analysed first)."
    ),
    lang: str = typer.Option(
        "en", "--lang", help="Language of the suggestions and of the tables: en or pt-BR."
    ),
    max_duration_s: float = typer.Option(
        _DEFAULT_MAX_DURATION_S, "--max-duration", help="Refuse files longer than this (seconds)."
    ),
    album: bool = typer.Option(
        False,
        "--album",
        help="Read the files as one album or EP, in the order given: each track against the "
        "album, outliers, album against track playback gain (with --json: one album document).",
    ),
    versions: bool = typer.Option(
        False,
        "--versions",
        help="Read the files as versions of one song, oldest first: for each version after the "
        "first, whether the score went up or down and what moved since the previous version, "
        "on every measure (with --json: one versions document).",
    ),
    codec_check: bool = typer.Option(
        False,
        "--codec-check",
        help="Also encode each file with the platforms' delivery codecs (Ogg Vorbis, AAC, Opus, "
        "MP3), decode it and measure the peaks, loudness and bands that come out (several "
        "seconds per minute of audio; Ogg Vorbis needs the ffmpeg command).",
    ),
) -> None:
    """Measure loudness, peaks, dynamics, stereo image and tonal balance of audio files.

    A file that cannot be analysed prints one line on stderr; the others are still analysed
    and the exit code is 1.
    """
    # A short command: the cycle collector's passes over the objects of the imports (numpy,
    # pydantic) find nothing and cost ~15 ms, and the interpreter's last collections at exit
    # ~50 ms (a third of what ffmpeg's whole run takes on a 4-minute file). So collection is
    # paused while the command runs (and restored after it, for a process that goes on, such
    # as a test run), and every object is frozen at exit, where nothing is left to collect.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
        _analyze(
            files, json_output, genre, destination, stage, reference, lang, max_duration_s, album,
            codec_check, versions,
        )  # fmt: skip
    finally:
        if gc_was_enabled:
            gc.enable()


def _analyze(
    files: list[Path],
    json_output: bool,
    genre: str | None,
    destination: str | None,
    stage: str,
    reference: Path | None,
    lang: str,
    max_duration_s: float,
    album: bool = False,
    codec_check: bool = False,
    versions: bool = False,
) -> None:
    # The meters' matrix products are small: BLAS threads only add overhead (and the engine
    # already runs its meters in two threads). Effective only before numpy is imported.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

    # Start-up path: the engine loads when this command runs, not at every `soundy` start.
    from soundy.report import AnalysisOptions, analyze_file

    if destination is not None and destination not in ("streaming", "club"):
        _fail_line(f"--destination must be streaming or club, not {destination!r}")
        raise typer.Exit(2)
    if stage not in ("mix", "master"):
        _fail_line(f"--stage must be mix or master, not {stage!r}")
        raise typer.Exit(2)
    if lang not in ("en", "pt-BR"):
        _fail_line(f"--lang must be en or pt-BR, not {lang!r}")
        raise typer.Exit(2)
    if album and len(files) < 2:
        _fail_line("--album needs at least two files (the album's tracks, in order)")
        raise typer.Exit(2)
    if versions and album:
        _fail_line("--versions and --album cannot be used together (a song's versions or an album)")
        raise typer.Exit(2)
    if versions and len(files) < 2:
        _fail_line("--versions needs at least two files (the song's versions, oldest first)")
        raise typer.Exit(2)

    if genre is not None:
        # Only with --genre: the profiles are pydantic models (~60 ms of start-up).
        from soundy.compare import get_profile

        try:
            get_profile(genre)
        except SoundyError as exc:
            _fail_line(exc.message)
            raise typer.Exit(2) from None

    stderr_tty = sys.stderr.isatty()
    failed = False
    reference_measurements: Measurements | None = None
    if reference is not None:
        try:
            reference_measurements = analyze_file(
                reference,
                AnalysisOptions(max_duration_s=max_duration_s, lang=lang),
                _progress_for(reference, stderr_tty),
            )
        except (SoundyError, OSError) as exc:
            _fail_line(f"reference {_reason(reference, exc)}")
            raise typer.Exit(1) from None

    options = AnalysisOptions(
        genre=genre,
        destination=destination,
        stage=stage,
        reference=reference_measurements,
        lang=lang,
        max_duration_s=max_duration_s,
        codec_check=codec_check,
    )
    console = None
    tracks: list[AnalysisResult] = []
    # --versions: one place per file, None for a file that could not be analysed (the next
    # version is then compared with the one before it, as the song's history does).
    song: list[AnalysisResult | None] = []
    for path in files:
        try:
            result = analyze_file(path, options, _progress_for(path, stderr_tty))
        except (SoundyError, OSError) as exc:
            _fail_line(_reason(path, exc))
            failed = True
            song.append(None)
            continue
        except Exception as exc:  # a bug: still one line, and go on with the other files
            _fail_line(f"{path}: internal error ({type(exc).__name__}: {exc})")
            failed = True
            song.append(None)
            continue
        if versions:
            song.append(result)
        elif album:
            tracks.append(result)
        elif json_output:
            import json  # start-up path: only --json needs it

            sys.stdout.write(json.dumps(result, allow_nan=False, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            if console is None:
                from rich.console import Console  # start-up path: only the tables need rich

                console = Console()
            render_report(result, console, lang)
    if album and tracks:
        from soundy.cli.album import print_album  # start-up path: only --album needs it

        print_album(tracks, json_output=json_output, lang=lang)
    if versions and any(r is not None for r in song):
        from soundy.cli.versions import print_versions  # start-up path: only --versions needs it

        print_versions([p.name for p in files], song, json_output=json_output, lang=lang)
    if failed:
        raise typer.Exit(1)


def _reason(path: Path, exc: BaseException) -> str:
    if isinstance(exc, SoundyError):
        message = exc.message
        # Decoder messages start with the file name; show the path the user typed instead.
        if message.startswith(f"{path.name}: "):
            message = message[len(path.name) + 2 :]
        return f"{path}: {message}"
    if isinstance(exc, FileNotFoundError):
        return f"{path}: no such file"
    if isinstance(exc, PermissionError):
        return f"{path}: permission denied"
    if isinstance(exc, OSError):
        return f"{path}: cannot read ({exc.strerror or exc})"
    return f"{path}: {exc}"


def _fail_line(message: str) -> None:
    """One line on stderr (newlines in the message are flattened)."""
    sys.stderr.write("soundy: " + " ".join(message.split()) + "\n")
    sys.stderr.flush()


class _ProgressBar:
    """A rich progress bar on stderr that shows up only once a file takes a while."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._started_s = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        if self._progress is None:
            if time.monotonic() - self._started_s < _PROGRESS_AFTER_S or fraction >= 1.0:
                return
            # Start-up path: rich loads only once a file takes a while.
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=1.0)
        assert self._task is not None
        self._progress.update(
            self._task, completed=fraction, description=f"{self._label} ({stage})"
        )
        if stage == "comparing" and fraction >= 1.0:
            self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _progress_for(path: Path, enabled: bool) -> _ProgressBar | None:
    return _ProgressBar(path.name) if enabled else None


# ---------------------------------------------------------------------------------------------
# The readable report.


def _num(value: Any, unit: str = "", digits: int = 1, lang: str = "en") -> str:
    """``value`` for a table cell: "-" for none, ``digits`` decimals (a comma in pt-BR)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(value, float):
            from soundy.compare.messages import number  # start-up path: only the tables

            text = number(value, lang, digits)
        else:
            text = str(value)
        return f"{text} {unit}".rstrip()
    return str(value)


def _duration(seconds: float | None, lang: str = "en") -> str:
    """``m:ss.sss`` (a decimal comma in pt-BR)."""
    if seconds is None:
        return "-"
    minutes, secs = divmod(seconds, 60)
    text = f"{int(minutes)}:{secs:06.3f}"
    return text.replace(".", ",") if lang == "pt-BR" else text


def _target(result: AnalysisResult, *metrics: str, lang: str = "en") -> str:
    """The comparison target of a metric ("target (min..max)"), numbers in ``lang``'s style:
    the one it is judged against (``score.metrics``: a band's target turned by the track's
    tilt, the one its suggestion quotes), else ``targets``."""
    targets = result["targets"]
    score = result.get("score")
    rows: list[tuple[str, Range, str]] = [
        (m["metric"], m, m["unit"]) for m in (score["metrics"] if score else [])
    ]
    rows += [(m["metric"], m, m["unit"]) for m in targets["metrics"]]
    rows += [(f"spectrum.bands.{b['key']}", b, "dB") for b in targets["bands"]]
    for metric, bounds, unit in rows:
        if metric not in metrics:
            continue
        target, low, high = bounds["target"], bounds["target_min"], bounds["target_max"]
        digits = 2 if abs(target) < 2 else 1
        if unit == "samples":  # a count: "0", not "0.00"
            digits = 0
        text = _num(target, digits=digits, lang=lang)
        if low is not None and high is not None and low != high:
            # A reference track's bounds are measured values (-20.9933): round them to the
            # target's decimals, and drop trailing zeros as a genre's -9..-6 is written.
            low_text, high_text = (f"{round(b, digits):g}" for b in (low, high))
            if lang == "pt-BR":  # the decimal points, not the ".." between the bounds
                low_text, high_text = low_text.replace(".", ","), high_text.replace(".", ",")
            text += f" ({low_text}..{high_text})"
        return text
    return ""


def _band_turn_db_per_octave(result: AnalysisResult) -> float | None:
    """How far (dB/octave) the band targets the report shows are turned from ``targets.bands``
    by the track's tilt (soundy.compare.scoring.band_targets_for): the tilt difference, capped;
    None when they are the same."""
    score, targets = result.get("score"), result.get("targets")
    if not score or not targets:
        return None
    judged = {m["metric"]: m["target"] for m in score["metrics"]}
    if not any(
        abs(judged.get(f"spectrum.bands.{b['key']}", b["target"]) - b["target"]) >= 0.05
        for b in targets["bands"]
    ):
        return None
    tilt = judged.get("spectrum.tilt_db_per_octave")
    value = next(
        (m["value"] for m in score["metrics"] if m["metric"] == "spectrum.tilt_db_per_octave"),
        None,
    )
    if tilt is None or value is None:
        return None
    from soundy.compare.scoring import turn_db_per_octave  # start-up path: only the tables

    return turn_db_per_octave(value, tilt)


def _signed_number(value: float, lang: str, digits: int = 1) -> str:
    """ "+0.44" / "-1.50" in ``lang``'s style."""
    from soundy.compare.messages import number  # start-up path: only the tables

    return ("+" if value >= 0.0 else "-") + number(abs(value), lang, digits)


def _key_name(tonic: str | None, mode: str | None, name: str, lang: str) -> str:
    """A key as the analysis names it ("A minor", "Bb major") in English; in pt-BR with the
    solfège note names Brazilian musicians read ("Lá menor", "Sib maior")."""
    from soundy.compare.messages import CATALOGUE, text  # start-up path: only the tables

    note_key, mode_key = f"cli.report.note.{(tonic or ' ')[0]}", f"cli.report.mode.{mode}"
    if lang == "en" or note_key not in CATALOGUE or mode_key not in CATALOGUE:
        return name
    assert tonic is not None
    return f"{text(note_key, lang)}{tonic[1:]} {text(mode_key, lang)}"


def _titled_table(key: str, lang: str, *, left: tuple[int, ...]) -> Table:
    """A table titled ``{key}.title`` with the columns of ``{key}.header`` ("|"-joined), in
    ``lang``; the columns numbered in ``left`` are left-aligned, the others (numbers) right."""
    from rich.table import Table  # start-up path: --json never loads rich

    from soundy.compare.messages import render  # start-up path: only the tables

    table = Table(
        title=render(f"{key}.title", lang), title_justify="left", show_edge=False, pad_edge=False
    )
    for i, name in enumerate(render(f"{key}.header", lang).split("|")):
        table.add_column(name, justify="left" if i in left else "right")
    return table


def _render_playback(result: AnalysisResult, console: Console, lang: str = "en") -> None:
    """The platforms' playback, one row per platform and mode (docs/scoring.md), in ``lang``."""
    from soundy.compare.messages import CATALOGUE, number, render  # start-up path: the tables

    entries = result.get("playback")
    if not entries:
        return
    table = _titled_table("cli.playback", lang, left=(0, 4))
    for e in entries:
        limiter = e["limiter"]
        touched = ""
        if limiter is not None and limiter["active_fraction"] > 0:
            touched = render(
                "cli.playback.limiter",
                lang,
                fraction=number(limiter["active_fraction"] * 100.0, lang, 0),
                max=limiter["max_reduction_db"],
                median=limiter["median_reduction_db"],
            )
        mode_key = f"cli.mode.{e['mode']}"
        mode = f" {render(mode_key, lang)}" if mode_key in CATALOGUE else ""
        evidence_key = f"cli.evidence.{e['evidence']}"
        table.add_row(
            e["platform"] + mode,
            _num(e["gain_db"], lang=lang),
            _num(e["loudness_after_lufs"], lang=lang),
            _num(e["true_peak_after_dbtp"], lang=lang),
            touched,
            render(evidence_key, lang) if evidence_key in CATALOGUE else e["evidence"],
        )
    console.print(table)


def _render_codec_check(result: AnalysisResult, console: Console, lang: str = "en") -> None:
    """The codec check, one row per delivery (docs/result.md), then the deliveries it could
    not encode and what would check them, in ``lang``."""
    # Start-up path: only the tables need these.
    from soundy.compare.codec import CODEC_LABELS
    from soundy.compare.messages import render

    entries = result.get("codec_check")
    skipped = result.get("codec_check_skipped") or []
    if entries:
        table = _titled_table("cli.codec", lang, left=(0, 1))
        for e in entries:
            table.add_row(
                e["platform"],
                f"{CODEC_LABELS.get(e['codec'], e['codec'])} {e['bitrate_kbps']}k",
                _num(e["true_peak_dbtp"], lang=lang),
                _num(e["true_peak_change_db"], "dB", lang=lang),
                _num(e["clipped_samples_after_gain"], lang=lang),
                _num(e["loudness_change_lu"], "LU", lang=lang),
            )
        console.print(table)
    for s in skipped:
        key = "cli.codec.skipped" if s["package"] else "cli.codec.skipped.reason"
        console.print(
            render(
                key,
                lang,
                platform=s["platform"],
                codec=CODEC_LABELS.get(s["codec"], s["codec"]),
                bitrate=s["bitrate_kbps"],
                encoder=s["encoder"],
                package=s["package"],
                reason=s["reason"],
            ),
            markup=False,
        )


def render_report(result: AnalysisResult, console: Console, lang: str = "en") -> None:
    """Print one file's result as rich tables: measurements, bands, score and suggestions, in
    ``lang`` (labels from soundy.compare.messages, decimal commas in pt-BR)."""
    # Start-up path: --json never loads rich nor the catalogue.
    from rich.table import Table

    from soundy.compare.messages import CATALOGUE, number, render, text

    def word(prefix: str, value: str) -> str:
        """The catalogue's ``{prefix}.{value}`` in ``lang``, or ``value`` when it has none."""
        key = f"{prefix}.{value}"
        return text(key, lang) if key in CATALOGUE else value

    file = result.get("file") or {}
    loud = result.get("loudness") or {}
    peaks = result.get("peaks") or {}
    dyn = result.get("dynamics") or {}
    stereo = result.get("stereo") or {}
    spectrum = result.get("spectrum") or {}
    musical = result.get("musical") or {}

    bits = render("cli.report.bits", lang, bits=file["bit_depth"]) if file.get("bit_depth") else ""
    title = render(
        "cli.report.title",
        lang,
        name=file.get("name", "?"),
        format=file.get("format", "?"),
        rate=file.get("sample_rate", "?"),
        channels=file.get("channels", "?"),
        bits=bits,
        duration=_duration(file.get("duration_s"), lang),
    )
    compared = isinstance(result.get("targets"), dict)
    header = text("cli.report.header", lang).split("|")
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column(header[0], style="bold")
    table.add_column(header[1])
    table.add_column(header[2], justify="right")
    if compared:
        table.add_column(header[3], justify="right", style="dim")

    def num(value: Any, unit: str = "", digits: int = 1) -> str:
        return _num(value, unit, digits, lang)

    def row(section: str, label: str, value: str, *target_keys: str) -> None:
        """A row; ``section`` and ``label`` name catalogue entries ("" = none, ``label`` may
        also be a text already made)."""
        cells = [
            text(f"cli.report.section.{section}", lang) if section else "",
            text(f"cli.report.row.{label}", lang)
            if f"cli.report.row.{label}" in CATALOGUE
            else label,
            value,
        ]
        if compared:
            cells.append(_target(result, *target_keys, lang=lang))
        table.add_row(*cells)

    row(
        "loudness",
        "integrated",
        num(loud.get("integrated_lufs"), "LUFS"),
        "loudness.integrated_lufs",
    )
    row("", "range", num(loud.get("range_lu"), "LU"), "loudness.range_lu")
    row("", "momentary_max", num(loud.get("momentary_max_lufs"), "LUFS"))
    row("", "short_term_max", num(loud.get("short_term_max_lufs"), "LUFS"))
    row("peaks", "true_peak", num(peaks.get("true_peak_dbtp"), "dBTP"), "peaks.true_peak_dbtp")
    row("", "sample_peak", num(peaks.get("sample_peak_dbfs"), "dBFS"))
    row("", "clipped", num(peaks.get("clipped_samples")), "peaks.clipped_samples")
    row("dynamics", "plr", num(dyn.get("plr_db"), "dB"), "dynamics.plr_db")
    row("", "crest", num(dyn.get("crest_db"), "dB"), "dynamics.crest_db")
    row("", "dr", num(dyn.get("dr"), digits=0), "dynamics.dr")
    row("", "psr_max", num(dyn.get("psr_max_db"), "dB"), "dynamics.psr_max_db")
    if file.get("channels", 0) >= 2:
        row("stereo", "correlation", num(stereo.get("correlation"), digits=2), "stereo.correlation")
        row("", "width", num(stereo.get("width"), digits=2), "stereo.width")
        row("", "balance", num(stereo.get("balance_db"), "dB"), "stereo.balance_db")
        row("", "mono_loss", num(stereo.get("mono_loss_lu"), "LU"), "stereo.mono_loss_lu")
    row("spectrum", "centroid", num(spectrum.get("centroid_hz"), "Hz", 0))
    row("", "rolloff", num(spectrum.get("rolloff_hz"), "Hz", 0))
    row(
        "",
        "tilt",
        num(spectrum.get("tilt_db_per_octave"), text("cli.report.unit.db_per_octave", lang), 2),
        "spectrum.tilt_db_per_octave",
    )
    for band in spectrum.get("bands") or []:
        key = band.get("key")
        # English shows the result's band key ("low_mid"), as before; pt-BR the band's name.
        name = key if lang == "en" else word("band", str(key))
        label = f"{name} {band.get('low_hz', 0):g}-{band.get('high_hz', 0):g} Hz"
        row("", label, num(band.get("level_db"), "dB"), f"spectrum.bands.{key}")
    if musical.get("tempo_bpm") is not None or musical.get("key") is not None:
        tempo = num(musical.get("tempo_bpm"), "BPM")
        if musical.get("tempo_confidence") is not None:
            sure = f"{musical['tempo_confidence']:.0%}"
            tempo += " " + render("cli.report.tempo_sure", lang, confidence=sure)
        row("musical", "tempo", tempo)
        # The half and double readings, so an octave slip shows as the doubt it is.
        others = [
            c
            for c in musical.get("tempo_candidates") or []
            if c["relation"] != "detected" and c["confidence"] >= 0.005  # 0 % is no reading
        ]
        if others:
            readings = ", ".join(
                f"{number(c['bpm'], lang)} BPM {word('cli.report.relation', c['relation'])}"
                f" ({c['confidence']:.0%})"
                for c in others
            )
            row("", "tempo_or", readings)
        key_text = num(musical.get("key"))
        if musical.get("key") is not None:
            key_text = _key_name(
                musical.get("key_tonic"), musical.get("key_mode"), str(musical["key"]), lang
            )
        key_r = musical.get("key_confidence")
        if key_r is not None:
            key_text += f" (r {number(key_r, lang, 2)})"
        row("", "key", key_text)
        if musical.get("key_relative") is not None:
            relative = next(
                (c for c in musical.get("key_candidates") or [] if c["relation"] == "relative"),
                None,
            )
            r = f" (r {number(relative['correlation'], lang, 2)})" if relative else ""
            relative_name = str(musical["key_relative"])
            if relative:
                relative_name = _key_name(relative["tonic"], relative["mode"], relative_name, lang)
            row("", "relative_key", f"{relative_name}{r}")
    console.print(table)
    turn = _band_turn_db_per_octave(result)
    if turn is not None:  # the band targets shown are not the genre's own: say by how much
        console.print(
            render("cli.report.band_targets", lang, turn=_signed_number(turn, lang, 2)),
            markup=False,
        )
    _render_playback(result, console, lang)
    _render_codec_check(result, console, lang)

    targets = result.get("targets")
    if isinstance(targets, dict):
        source = targets["source"]
        against = render(
            f"cli.report.against.{source}",
            lang,
            name=targets.get("label") or targets.get("genre"),
        )
        context = [
            render("cli.report.compared", lang, against=against),
            render(
                "cli.report.stage",
                lang,
                stage=word("cli.report.stage", targets.get("stage") or "master"),
            ),
        ]
        if targets.get("destination"):
            destination = word("cli.report.destination", str(targets["destination"]))
            context.append(render("cli.report.destination", lang, destination=destination))
        console.print(", ".join(context), markup=False)
    nearest = result.get("nearest_genres")
    if nearest:
        genres = ", ".join(f"{n['label']} ({number(n['distance_db'], lang)} dB)" for n in nearest)
        console.print(render("cli.report.nearest", lang, genres=genres), markup=False)

    score = result.get("score")
    if isinstance(score, dict) and score.get("overall") is not None:
        label = (
            word("cli.report.class", score["classification"]) if score.get("classification") else ""
        )
        heading = f"[bold]{text('cli.report.score', lang)}[/bold]"
        console.print(f"{heading} {score['overall']:.0f} / 100 {label}".rstrip())
        parts = score.get("parts")
        if isinstance(parts, dict):
            console.print(
                "  "
                + ", ".join(
                    f"{word('cli.report.part', k).replace('_', ' ')} {num(v, digits=0)}"
                    for k, v in parts.items()
                ),
                markup=False,
            )
    for suggestion in result.get("suggestions") or []:
        if not isinstance(suggestion, dict):
            continue
        severity = suggestion.get("severity", "")
        message = suggestion.get("message", "")
        action = suggestion.get("action")
        line = f"[{word('cli.report.severity', severity)}] {message}" if severity else str(message)
        source_text = suggestion.get("source")
        console.print(
            f"  - {line}"
            + (f" {action}" if action else "")
            + (" " + render("cli.report.source", lang, source=source_text) if source_text else ""),
            markup=False,
        )
    console.print()
