"""Suggestions: one concrete fix per metric that is off target, most severe first.

Each suggestion: ``{metric, severity, status, key, message, action, current, target, target_min,
target_max, delta, unit, source}`` with ``delta = target - current`` (positive: raise it) and
``source`` naming where the target comes from. Texts come from :mod:`soundy.compare.messages` in
the requested language. A narrow or wide image reported by both correlation and width yields one
suggestion (from width); a negative correlation is always its own "check phase" suggestion.

No action asks for an EQ move over :data:`EQ_MAX_DB`: a larger mismatch of a band, or a tilt
that would need more at either end, is reported as what it is, a balance far from the genre,
with the closest genres offered instead.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

from soundy.compare.messages import normalise_lang, number, render
from soundy.compare.metrics import BAND_EDGES_HZ, BAND_SPEC, metric_value, spec_for
from soundy.compare.nearest import band_distance_db
from soundy.compare.scoring import SEVERITY_RANK, MetricResult, codec_overshoot_samples
from soundy.compare.targets import STREAMING_LUFS, TRUE_PEAK_CEILING_DBTP, Targets
from soundy.compare.tonal import BAND_CENTRES_OCT
from soundy.result import NearestGenre, Suggestion

__all__ = [
    "EQ_MAX_DB",
    "TILT_EQ_POINTS_HZ",
    "band_eq_gains_db",
    "format_band_range",
    "make_suggestions",
    "tilt_eq_db",
]

_LOW_END_BANDS = ("sub", "bass")
#: An EQ move smaller than this (dB) is "leave this band alone".
_EQ_DEADBAND_DB = 1.0
#: An in-range band whose EQ move reaches this (dB) is suggested along with out-of-range ones.
_EQ_MOVE_DB = 3.0
#: No suggestion asks a broad EQ for more than this (dB): a larger mismatch is a balance far
#: from the genre (other sounds, arrangement, or another genre), not an EQ move.
EQ_MAX_DB = 6.0
#: Where a tilt suggestion states its EQ gains (Hz): the ends of the tilt fit's range.
TILT_EQ_POINTS_HZ = (50.0, 10000.0)
#: Another genre is offered instead of the chosen one only when it is this much closer (dB,
#: RMS over the bands; soundy.compare.nearest).
NEAREST_MARGIN_DB = 1.0
#: A platform that plays the track this much (LU) under its target leaves it audibly quieter
#: than the tracks around it (the 1 LU of STREAMING_LUFS_MIN).
PLAYBACK_SHORT_LU = 1.0
#: Below this side/mid ratio (-40 dB) the file is mono for practical purposes.
_MONO_WIDTH = 1e-4


def format_band_range(low_hz: float, high_hz: float) -> str:
    """ "20-60 Hz", "2-5 kHz", "150-500 Hz", "10-20 kHz"."""
    if low_hz >= 1000.0:
        return f"{low_hz / 1000:g}-{high_hz / 1000:g} kHz"
    if high_hz >= 1000.0:
        return f"{low_hz:g} Hz-{high_hz / 1000:g} kHz"
    return f"{low_hz:g}-{high_hz:g} Hz"


def band_eq_gains_db(current_db: dict[str, float], target_db: dict[str, float]) -> dict[str, float]:
    """The simplest EQ (dB per band) that moves every band to its target level.

    Levels are relative to the total, so gains ``g_i = (t_i - c_i) + K`` reach the targets for
    any common offset ``K`` (the total absorbs it); ``K = -median(t_i - c_i)`` leaves the
    median band untouched and so asks for the fewest and smallest moves. Too much low end then
    reads as "cut the low end", not as "boost every other band".
    """
    keys = [k for k in current_db if k in target_db]
    if not keys:
        return {}
    deltas = {k: target_db[k] - current_db[k] for k in keys}
    offset = -statistics.median(deltas.values())
    return {k: d + offset for k, d in deltas.items()}


def tilt_eq_db(tilt_difference_db_per_octave: float) -> tuple[float, float]:
    """The gains (dB) a tilt EQ pivoting at 1 kHz applies at 50 Hz and at 10 kHz to change a
    track's tilt by ``tilt_difference`` dB/octave."""
    low, high = TILT_EQ_POINTS_HZ
    return (
        tilt_difference_db_per_octave * math.log2(low / 1000.0),
        tilt_difference_db_per_octave * math.log2(high / 1000.0),
    )


def _signed(value_db: float, lang: str) -> str:
    """ "+3.6" / "-3.0" (one decimal, the language's separator)."""
    return ("+" if value_db >= 0.0 else "-") + number(abs(value_db), lang)


def _eq_note(
    band: str, gap_db: float, eq_gains: dict[str, float], gaps: dict[str, float], lang: str
) -> str:
    """Why a band's EQ move differs from its gap to the target (both in dB, positive = raise),
    in numbers the report shows: the EQ leaves the median band as it is, so every move is the
    band's gap plus that band's distance above its own target (band_eq_gains_db; levels are
    shares of the total). Empty when the two read the same, or for that median band itself."""
    move = eq_gains.get(band)
    if move is None or not gaps or _signed(move, lang) == _signed(gap_db, lang):
        return ""
    reference = min(eq_gains, key=lambda k: abs(eq_gains[k]))
    if reference == band:  # the band the EQ leaves as it is: no move to explain
        return ""
    offset = -gaps[reference]  # the common shift: move = gap + offset
    return render(
        "band.eq_note",
        lang,
        move=_signed(move, lang),
        gap=_signed(gap_db, lang),
        plus_less=render("word.plus" if offset >= 0.0 else "word.less", lang),
        offset=number(abs(offset), lang),
        reference=render(f"band.{reference}", lang),
        above_below=render("word.above" if offset >= 0.0 else "word.below", lang),
    )


def _playback_shortfalls(measurements: Mapping[str, Any]) -> list[tuple[str, float]]:
    """(platform, LU) for each platform whose default listening mode plays the track at least
    PLAYBACK_SHORT_LU under its target: it does not raise a quiet track (or not that far, for
    its true-peak rule). Only platforms that bring every track to a level at or under
    STREAMING_LUFS count: one that only lowers tracks over -7 LUFS leaves the tracks around a
    quiet one at their own levels. From ``playback`` (soundy.analysis.playback); [] without it."""
    out: list[tuple[str, float]] = []
    seen: set[str] = set()
    for entry in measurements.get("playback") or []:
        platform, target, after = (
            entry["platform"],
            entry["target_lufs"],
            entry["loudness_after_lufs"],
        )
        if platform in seen:
            continue
        seen.add(platform)  # the first row of a platform is its default mode
        if target is None or after is None or entry["rule"] in ("none", "limiter"):
            continue
        if target > STREAMING_LUFS:  # YouTube Music's -7 LUFS: it leaves the others as they are
            continue
        if target - after >= PLAYBACK_SHORT_LU:
            out.append((platform, target - after))
    return out


def _names(targets: Targets, lang: str) -> dict[str, str]:
    """What the track is compared with, as words: ``name``, the genre's label or "the reference
    track", and ``of_name``, the same after "from" ("de" in pt-BR, contracted with an article:
    "da faixa de referência")."""
    if targets.source == "reference":
        return {
            "name": render("name.reference", lang),
            "of_name": render("name.of.reference", lang),
        }
    if targets.label:
        return {"name": targets.label, "of_name": render("name.of.genre", lang, name=targets.label)}
    return {"name": render("name.targets", lang), "of_name": render("name.of.targets", lang)}


def _instead_text(
    nearest: list[NearestGenre], targets: Targets, lang: str, chosen: float | None
) -> str:
    """What to do when an EQ is not the fix: the genres clearly closer than the chosen one
    (``chosen``: its distance, dB; NEAREST_MARGIN_DB), or, when none is, a reference track. A
    genre as far as the chosen one is no advice (a dark orchestral piece is not "closer to
    funk"). Against a reference track, a genre is no advice either: another reference is."""
    if targets.source == "reference":
        return render("instead.other_reference", lang)
    closer = [
        n
        for n in nearest
        if n["genre"] != targets.genre
        and (chosen is None or n["distance_db"] <= chosen - NEAREST_MARGIN_DB)
    ]
    if not closer:
        return render("instead.reference", lang)
    listed = ", ".join(f"{n['label']} ({number(n['distance_db'], lang)} dB)" for n in closer)
    return render("instead.genres", lang, nearest=listed)


def source_text(metric: str, targets: Targets, lang: str) -> str:
    """Where ``metric``'s target comes from, as words (a suggestion's ``source``)."""
    origin = targets.origin(metric)
    if origin == "genre":
        return render("source.genre", lang, name=targets.label or targets.genre or "?")
    if origin == "stage":
        return render(f"source.stage.{targets.stage or 'master'}", lang)
    if origin == "destination":
        return render(f"source.destination.{targets.destination or 'streaming'}", lang)
    return render(f"source.{origin}", lang)


def _ceiling(targets: Targets) -> float:
    """The limiter ceiling to recommend: the true-peak target (never above 0 dBTP)."""
    tp = targets.metrics.get("peaks.true_peak_dbtp")
    if tp is not None:
        return min(tp.target, TRUE_PEAK_CEILING_DBTP)
    return TRUE_PEAK_CEILING_DBTP


def _texts(
    item: MetricResult,
    targets: Targets,
    lang: str,
    eq_gains: dict[str, float],
    nearest: list[NearestGenre],
    chosen_distance: float | None,
    gaps: dict[str, float],
    tilt_difference: float | None,
    measurements: Mapping[str, Any],
) -> tuple[str, str, str] | None:
    """(message key, message, action) for an off-target metric, or None for none. ``gaps``:
    each band's target minus its level (dB); ``tilt_difference``: the target tilt minus the
    track's (dB/octave) when a tilt suggestion asks for a tilt EQ, whose gain every band
    suggestion then adds to its own move."""
    metric, value, target = item.metric, item.value, item.target.target
    status = item.status
    source = "reference" if targets.source == "reference" else "target"
    against = render(f"against.{source}", lang)
    amount = abs(target - value)

    def n(value: float, digits: int = 1) -> str:
        return number(value, lang, digits)

    common = {
        "current": n(value),
        "target": n(target),
        "against": against,
        "the_against": render(f"against.the.{source}", lang),
        "against_subject": render(f"against.subject.{source}", lang),
        "amount": n(amount),
    }
    ceiling = n(_ceiling(targets))

    if metric == "loudness.integrated_lufs":
        key = f"loudness.{status}"
        message = render(f"{key}.message", lang, **common)
        if status != "low":
            return key, message, render(f"{key}.action", lang, amount=n(amount))
        short = (
            _playback_shortfalls(measurements) if targets.origin(metric) == "destination" else []
        )
        if short:  # what the platforms do with it, not the arithmetic against -14 LUFS
            listed = ", ".join(f"{name} ({n(lu)} LU)" for name, lu in short)
            message = render(
                "loudness.low_playback.message", lang,
                **{**common, "amount": n(max(lu for _, lu in short))}, platforms=listed,
            )  # fmt: skip
        peak = metric_value(measurements, "peaks.true_peak_dbtp")
        if peak is None:
            return key, message, render(f"{key}.action", lang, amount=n(amount), ceiling=ceiling,
                                         peak="?", limit="?")  # fmt: skip
        # The gain raises the peaks by as much; above the ceiling the limiter takes the rest.
        limit = peak + amount - _ceiling(targets)
        if limit <= 0.0:
            action = render("loudness.low_gain.action", lang, amount=n(amount),
                            ceiling=ceiling, peak=n(peak))  # fmt: skip
        else:
            action = render(f"{key}.action", lang, amount=n(amount), ceiling=ceiling,
                            peak=n(peak), limit=n(limit))  # fmt: skip
        return key, message, action
    if metric == "peaks.true_peak_dbtp":
        maximum = item.target.max if item.target.max is not None else TRUE_PEAK_CEILING_DBTP
        if status == "high":
            key = "true_peak.over" if value > 0.0 else "true_peak.high"
            message = render(f"{key}.message", lang, current=n(value), max=n(maximum))
            decoded = codec_overshoot_samples(measurements) if value > 0.0 else None
            if decoded is not None:  # the clipped samples of the decode are this same peak
                message = render(
                    "true_peak.over_decoded.message", lang, current=n(value), count=str(decoded)
                )
            return key, message, render("true_peak.high.action", lang, max=ceiling)
        message = render("true_peak.low.message", lang, **common)
        return "true_peak.low", message, render("true_peak.low.action", lang, amount=n(amount))
    if metric == "peaks.clipped_samples":
        message = render("clipping.message", lang, count=str(int(value)))
        return "clipping", message, render("clipping.action", lang, ceiling=ceiling)
    if metric in ("dynamics.dr", "loudness.range_lu"):
        key = f"{'dr' if metric == 'dynamics.dr' else 'lra'}.{status}"
        return (
            key,
            render(f"{key}.message", lang, **common),
            render(f"{key}.action", lang, amount=n(amount)),
        )
    if metric == "stereo.correlation":
        values = {**common, "current": n(value, 2), "target": n(target, 2)}
        key = "phase" if value < 0.0 else f"correlation.{status}"
        return key, render(f"{key}.message", lang, **values), render(f"{key}.action", lang)
    if metric == "stereo.width":
        if status == "low" and value < _MONO_WIDTH:
            return (
                "width.mono",
                render("width.mono.message", lang),
                render("correlation.high.action", lang),
            )
        spec = spec_for(metric)
        gain_db = abs(spec.coordinate(target) - spec.coordinate(value))
        key = f"width.{status}"
        values = {**common, "current": n(value, 3), "target": n(target, 3)}
        return (
            key,
            render(f"{key}.message", lang, **values),
            render(f"{key}.action", lang, amount=n(gain_db)),
        )
    if metric == "peaks.dc_offset_dbfs":
        key = "dc_offset.large" if item.severity == "critical" else "dc_offset.high"
        values = {**common, "max": n(target)}
        return key, render(f"{key}.message", lang, **values), render("dc_offset.action", lang)
    if metric == "stereo.balance_db":
        if item.severity == "critical":
            key = "channel.silent_right" if value > 0.0 else "channel.silent_left"
            message = render(f"{key}.message", lang, amount=n(abs(value)))
            return key, message, render("channel.silent.action", lang)
        key = "balance.left" if value > 0.0 else "balance.right"
        off = n(abs(value))
        return (
            key,
            render(f"{key}.message", lang, amount=off),
            render(f"{key}.action", lang, amount=off),
        )
    if metric == "spectrum.tilt_db_per_octave":
        key = f"tilt.{status}"
        values = {**common, "current": n(value, 2), "target": n(target, 2)}
        message = render(f"{key}.message", lang, **values, **_names(targets, lang))
        low, high = tilt_eq_db(target - value)
        if max(abs(low), abs(high)) > EQ_MAX_DB:
            action = render(
                "tilt.far.action", lang, max_eq=n(EQ_MAX_DB), **_names(targets, lang),
                instead=_instead_text(nearest, targets, lang, chosen_distance),
            )  # fmt: skip
            return "tilt.far", message, action
        return key, message, render(f"{key}.action", lang, high=n(abs(high)), low=n(abs(low)))
    if metric.startswith("spectrum.bands."):
        band = metric.removeprefix("spectrum.bands.")
        band_range = format_band_range(*BAND_EDGES_HZ[band])
        values = {**common, "band": render(f"band.{band}", lang), "range": band_range}
        gain = eq_gains.get(band, target - value)
        # With a tilt EQ asked, what is dialled at this band is the sum of the two.
        tilt_here = 0.0
        if tilt_difference is not None:
            # as the message writes it (0.1 dB), so that the sum it states adds up
            tilt_here = round(tilt_difference * BAND_CENTRES_OCT[band], 1)  # type: ignore[index]
        if status == "ok":  # in range, but the balance of the others needs it moved
            far = round(abs(gain + tilt_here), 1) > EQ_MAX_DB
            message = render(
                "band.move_far.message" if far else "band.move.message", lang, **values,
                cut=n(abs(gain)), **_names(targets, lang),
            )  # fmt: skip
        else:
            message = render(f"band.{status}.message", lang, **values)
        cut = n(abs(gain))
        # Every band's move, in range or not, shown as its gap to the quoted target plus the
        # common shift of the median band, so it follows from the table's numbers.
        note = _eq_note(band, gaps.get(band, target - value), eq_gains, gaps, lang)

        def noted(action: str) -> str:
            # (a "far" action has it already, before what to do instead)
            return f"{action} {note}" if note and note not in action else action

        # A "far" action explains its number before it says what to do instead.
        instead = _instead_text(nearest, targets, lang, chosen_distance)
        if note:
            instead = f"{note} {instead}"

        if abs(gain) < _EQ_DEADBAND_DB and tilt_difference is None:
            moves = sorted(
                (k for k, g in eq_gains.items() if _EQ_DEADBAND_DB <= abs(g) <= EQ_MAX_DB),
                key=lambda k: -abs(eq_gains[k]),
            )
            listed = ", ".join(
                f"{render(f'band.{k}', lang)} {'+' if eq_gains[k] > 0 else '-'}"
                f"{n(abs(eq_gains[k]))} dB"
                for k in moves
            )
            if any(abs(g) > EQ_MAX_DB for g in eq_gains.values()):
                action = render(
                    "band.follows_far.action", lang, **_names(targets, lang),
                    instead=instead,
                )  # fmt: skip
            else:
                action = render("band.follows.action", lang, moves=listed)
        elif abs(gain) > EQ_MAX_DB and tilt_difference is None:
            direction = "cut" if gain < 0 else "boost"
            action = render(
                f"band.far_{direction}.action",
                lang,
                range=band_range,
                cut=cut,
                max_eq=n(EQ_MAX_DB),
                **_names(targets, lang),
                instead=instead,
            )
            return "band.far", message, action
        elif tilt_difference is not None:
            # The tilt suggestion's EQ changes this band too: one number to dial, the sum.
            net = gain + tilt_here
            parts = {"range": band_range, "tilt": _signed(tilt_here, lang),
                     "move": _signed(gain, lang)}  # fmt: skip
            if round(abs(net), 1) > EQ_MAX_DB:  # as the amount reads
                action = render(
                    "band.with_tilt_far.action", lang, **parts, net=n(abs(net)),
                    max_eq=n(EQ_MAX_DB), **_names(targets, lang),
                    instead=instead,
                )  # fmt: skip
                return "band.far", message, action
            if abs(net) < _EQ_DEADBAND_DB:
                action = render(
                    "band.with_tilt_leave.action", lang, **parts, net=_signed(net, lang)
                )
            else:
                verb = "cut" if net < 0 else "boost"
                action = render(f"band.with_tilt_{verb}.action", lang, **parts, net=n(abs(net)))
        elif (
            gain < 0
            and band in _LOW_END_BANDS
            and all(eq_gains.get(k, 0.0) <= 0.0 for k in _LOW_END_BANDS)
        ):  # "the low end below 150 Hz" only when neither low band is to be raised
            action = render("band.low_end_cut.action", lang, range=band_range, cut=cut)
        elif gain < 0:
            action = render("band.cut.action", lang, range=band_range, cut=cut)
        else:
            action = render("band.boost.action", lang, range=band_range, cut=cut)
        return ("band.move" if status == "ok" else f"band.{status}"), message, noted(action)
    return None


def make_suggestions(
    evaluated: list[MetricResult],
    targets: Targets,
    lang: str = "en",
    nearest: list[NearestGenre] | None = None,
    measurements: Mapping[str, Any] | None = None,
) -> list[Suggestion]:
    """Suggestions for every metric whose severity is not ``ok`` (plus in-range bands that the
    tonal fix needs to move), most severe first. ``measurements`` (the track's) give the
    platform playback, the true peak a loudness change moves and a lossy decode's clipping."""
    lang = normalise_lang(lang)
    by_metric = {item.metric: item for item in evaluated}
    width = by_metric.get("stereo.width")
    correlation = by_metric.get("stereo.correlation")
    # Out of phase: the side outweighs the mid (width reads huge) and EQ or width moves made
    # before the polarity is fixed would be undone by it; the phase fix comes first, alone.
    phase = correlation is not None and correlation.severity == "critical"
    # One channel silent: the image and the balance of the bands read what is left of a broken
    # file; the silent channel is the only stereo fix worth giving.
    balance = by_metric.get("stereo.balance_db")
    silent = balance is not None and balance.severity == "critical"
    levels = {
        m.removeprefix("spectrum.bands."): item.value
        for m, item in by_metric.items()
        if m.startswith("spectrum.bands.")
    }
    # How far the chosen genre is, measured as nearest_genres measures every genre: on the
    # shape, against the band targets turned by the tilt difference (as evaluated).
    chosen_distance = None
    if targets.source == "genre":
        chosen_distance = band_distance_db(
            levels,
            {
                m.removeprefix("spectrum.bands."): item.target.target
                for m, item in by_metric.items()
                if m.startswith("spectrum.bands.")
            },
        )
    band_goals = {
        m.removeprefix("spectrum.bands."): item.target.target
        for m, item in by_metric.items()
        if m.startswith("spectrum.bands.")
    }
    # The moves from the levels and targets as the report writes them (0.1 dB), so that a
    # move, its gap and the median band's offset add up to the digit in what a producer reads.
    shown_levels = {k: round(v, 1) for k, v in levels.items()}
    shown_goals = {k: round(v, 1) for k, v in band_goals.items()}
    eq_gains = band_eq_gains_db(shown_levels, shown_goals)
    gaps = {k: shown_goals[k] - shown_levels[k] for k in shown_goals if k in shown_levels}
    # A tilt suggestion that asks for a tilt EQ: the band suggestions then state the sum of
    # that EQ and their own move at each band, so the two never point opposite ways unsaid.
    tilt = by_metric.get("spectrum.tilt_db_per_octave")
    tilt_difference = None
    if tilt is not None and tilt.severity != "ok" and not phase:
        difference = tilt.target.target - tilt.value
        if max(abs(g) for g in tilt_eq_db(difference)) <= EQ_MAX_DB:
            tilt_difference = difference
    # An in-range band whose EQ move is large is part of the fix for the bands that are out of
    # range (too much low end reads as every other band being low): it gets a suggestion too,
    # as severe as its move is large, never more severe than the out-of-range bands.
    band_severities = [
        SEVERITY_RANK[item.severity]
        for item in evaluated
        if item.metric.startswith("spectrum.bands.") and item.severity != "ok"
    ]
    tonal_severity = max(band_severities, default=0)
    out: list[tuple[tuple[int, bool, float], Suggestion]] = []
    for item in evaluated:
        severity = item.severity
        move_db = abs(eq_gains.get(item.metric.removeprefix("spectrum.bands."), 0.0))
        if (
            severity == "ok"
            and tonal_severity > 0
            and item.metric.startswith("spectrum.bands.")
            and move_db >= _EQ_MOVE_DB
        ):
            # as severe as the move is large (in band scales), never above the bands it fixes
            scale = BAND_SPEC.scale
            own = 1 if move_db <= scale else 2 if move_db <= 2 * scale else 3
            rank = min(tonal_severity, own)
            severity = next(k for k, v in SEVERITY_RANK.items() if v == rank)
        if severity == "ok":
            continue
        if (
            item.metric == "stereo.correlation"
            and item.value >= 0.0
            and width is not None
            and width.severity != "ok"
            and {item.status, width.status} == {"low", "high"}
        ):
            continue  # the same narrow/wide image, reported once by width
        if phase and (item.metric == "stereo.width" or item.metric.startswith("spectrum.")):
            continue
        if silent and item.metric in ("stereo.width", "stereo.correlation"):
            continue
        texts = _texts(
            item,
            targets,
            lang,
            eq_gains,
            nearest or [],
            chosen_distance,
            gaps,
            tilt_difference,
            measurements or {},
        )
        if texts is None:
            continue
        key, message, action = texts
        spec = spec_for(item.metric)
        suggestion: Suggestion = {
            "metric": item.metric,
            "severity": severity,
            "status": item.status,
            "key": key,
            "message": message,
            "action": action,
            "current": round(item.value, 4),
            **item.target.as_dict(digits=4),
            "delta": round(item.target.target - item.value, 4),
            "unit": spec.unit,
            "source": source_text(item.metric, targets, lang),
        }
        band = item.metric.removeprefix("spectrum.bands.")
        follows = band in eq_gains and abs(eq_gains[band]) < _EQ_DEADBAND_DB
        out.append(((-SEVERITY_RANK[severity], follows, item.score), suggestion))
    out.sort(key=lambda pair: pair[0])
    return [suggestion for _, suggestion in out]
