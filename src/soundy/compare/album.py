"""Albums and EPs: several tracks' measurements read as one release (pure: dicts in, a dict out).

:func:`album_report` takes each track's :class:`soundy.result.Measurements` in album order and
returns an :class:`soundy.result.AlbumReport`:

* **Deviation from the album.** For loudness (integrated, LUFS), PLR (dB), spectral tilt
  (dB/octave) and stereo width, each track's value minus the album's *median* track (the
  album's typical track: one odd track does not move it, as it would move a mean). A track whose
  deviation is over the measure's limit (:data:`OUTLIER_LIMITS`) is an outlier, with a sentence
  saying which way it stands out. With two tracks the median is their mean, so both stand out
  together or neither does.
* **The album's loudness** is the duration-weighted energy mean of the tracks' integrated
  loudness, ``10·log10(Σ dᵢ·10^(Lᵢ/10) / Σ dᵢ)``, with BS.1770's relative gate applied to whole
  tracks: the album played as one programme, up to the gating inside each track (the 400 ms
  blocks are not kept, so a quiet passage of a loud album is not gated out as a whole programme's
  meter would). Tests measure the difference against the joined tracks (docs/result.md).
* **Playback gain, album against track** (:data:`ALBUM_RULES`). In album mode every track gets
  the same gain, set so that the loudest track plays at the album target; in track mode each
  track gets its own gain to the track target. Positive gain is held so that the true peak (the
  album's highest, in album mode) stays at or under the ceiling, Spotify's rule for its default
  level. Sources and how sure each rule is: docs/scoring.md ("Albums").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Literal

from soundy.compare.messages import normalise_lang, render
from soundy.result import (
    SCHEMA_VERSION,
    AlbumMeasure,
    AlbumOutlier,
    AlbumPlayback,
    AlbumReport,
    AlbumTrack,
    AlbumTrackPlayback,
    AlbumValues,
    Measurements,
)

__all__ = ["ALBUM_RULES", "MEASURES", "OUTLIER_LIMITS", "AlbumRule", "album_report"]


@dataclass(frozen=True)
class _Measure:
    key: AlbumMeasure
    value_key: Literal["integrated_lufs", "plr_db", "tilt_db_per_octave", "width"]
    unit: str
    digits: int


MEASURES: tuple[_Measure, ...] = (
    _Measure("loudness", "integrated_lufs", "LU", 1),
    _Measure("plr", "plr_db", "dB", 1),
    _Measure("tilt", "tilt_db_per_octave", "dB/octave", 2),
    _Measure("width", "width", "", 2),
)

#: How far from the album's median track a track may be before it stands out, per measure.
#: Loudness 3 LU: the step a listener notices between consecutive songs without reaching for
#: the volume (albums keep intended differences smaller than that, ballads excepted). PLR 3 dB:
#: a clearly different limiter setting. Tilt 1 dB/octave: the genre targets' own half-range
#: (docs/scoring.md). Width 0.15: about the difference between correlation 0.6 and 0.4.
OUTLIER_LIMITS: AlbumValues = {
    "integrated_lufs": 3.0,
    "plr_db": 3.0,
    "tilt_db_per_octave": 1.0,
    "width": 0.15,
}


#: BS.1770's relative gate (LU under the ungated loudness), applied to whole tracks.
RELATIVE_GATE_LU = 10.0


@dataclass(frozen=True)
class AlbumRule:
    """An album normalisation: tracks alone to ``track_target_lufs``; an album as one gain that
    puts its loudest track at ``album_target_lufs``; positive gain held under the ceiling."""

    #: Also the catalogue's ``album.rule.{key}`` (its label) and ``album.playback.{key}``.
    key: str
    track_target_lufs: float
    album_target_lufs: float
    peak_ceiling_dbtp: float | None
    evidence: Literal["documented", "measured", "folklore"]
    sources: tuple[str, ...]


ALBUM_RULES: tuple[AlbumRule, ...] = (
    # Spotify documents one gain for a whole album and -14 LUFS; that the gain is set by the
    # loudest track was measured by third parties (Audio Accountability, 2021).
    AlbumRule(
        "spotify", -14.0, -14.0, -1.0, "measured",
        (
            "https://support.spotify.com/us/artists/article/loudness-normalization",
            "https://audioaccountability.com/audio-accountability-blog/new-spotify-normalization-revelations",
        ),
    ),
    # AES TD1008 (2021): tracks at -16 LUFS; in album normalisation the loudest track may reach
    # -14 LUFS and the others keep their relative level; peaks at most -1 dBTP.
    AlbumRule(
        "aes_td1008", -16.0, -14.0, -1.0, "documented",
        (
            "https://aes2.org/resources/audio-topics/loudness-project/loudness-normalization/",
        ),
    ),
)  # fmt: skip


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits) + 0.0


def _empty() -> AlbumValues:
    return {"integrated_lufs": None, "plr_db": None, "tilt_db_per_octave": None, "width": None}


def _rounded(values: AlbumValues, digits: int = 3) -> AlbumValues:
    return {
        "integrated_lufs": _round(values["integrated_lufs"], digits),
        "plr_db": _round(values["plr_db"], digits),
        "tilt_db_per_octave": _round(values["tilt_db_per_octave"], digits),
        "width": _round(values["width"], digits),
    }


def _values(track: Measurements) -> AlbumValues:
    loudness = track.get("loudness") or {}
    dynamics = track.get("dynamics") or {}
    spectrum = track.get("spectrum") or {}
    stereo = track.get("stereo") or {}
    channels = (track.get("file") or {}).get("channels", 2)
    return {
        "integrated_lufs": loudness.get("integrated_lufs"),
        "plr_db": dynamics.get("plr_db"),
        "tilt_db_per_octave": spectrum.get("tilt_db_per_octave"),
        # A mono file has no width to compare.
        "width": stereo.get("width") if channels >= 2 else None,
    }


def _gain_db(
    target_lufs: float, loudness_lufs: float, true_peak_dbtp: float | None, ceiling: float | None
) -> float:
    """Target minus loudness; a positive gain only up to where the true peak meets the ceiling."""
    gain = target_lufs - loudness_lufs
    if gain > 0.0 and ceiling is not None and true_peak_dbtp is not None:
        gain = max(0.0, min(gain, ceiling - true_peak_dbtp))
    return gain


def _energy_mean(levels: Sequence[tuple[float, float]]) -> float | None:
    """The loudness of (loudness LUFS, duration s) tracks played as one programme: their
    duration-weighted energy mean, with BS.1770's relative gate applied to whole tracks (a track
    more than 10 LU under the mean of all is left out, and the mean taken again)."""
    total_s = sum(d for _, d in levels)
    if not levels or total_s <= 0.0:
        return None

    def mean(pairs: Sequence[tuple[float, float]]) -> float:
        seconds = sum(d for _, d in pairs)
        return 10.0 * math.log10(sum(d * 10.0 ** (lufs / 10.0) for lufs, d in pairs) / seconds)

    ungated = mean(levels)
    kept = [(lufs, d) for lufs, d in levels if lufs >= ungated - RELATIVE_GATE_LU and d > 0.0]
    return mean(kept) if kept else ungated


def album_report(
    tracks: Sequence[Measurements], *, names: Sequence[str] | None = None, lang: str = "en"
) -> AlbumReport:
    """The album report of ``tracks`` in album order (at least one). ``names`` overrides the
    file names (e.g. to tell two uploads of one file apart); messages are in ``lang``."""
    if not tracks:
        raise ValueError("an album needs at least one track")
    language = normalise_lang(lang)
    labels = (
        list(names)
        if names is not None
        else [(t.get("file") or {}).get("name", "") for t in tracks]
    )
    labels = [label or f"#{i + 1}" for i, label in enumerate(labels)]
    values = [_values(t) for t in tracks]
    durations = [float((t.get("file") or {}).get("duration_s") or 0.0) for t in tracks]
    peaks = [(t.get("peaks") or {}).get("true_peak_dbtp") for t in tracks]

    medians = _empty()
    for m in MEASURES:
        known = [x for x in (v[m.value_key] for v in values) if x is not None]
        medians[m.value_key] = median(known) if known else None

    measured = [
        (i, v["integrated_lufs"]) for i, v in enumerate(values) if v["integrated_lufs"] is not None
    ]
    loudest = max(measured, key=lambda pair: pair[1])[0] if measured else None
    known_peaks = [p for p in peaks if p is not None]
    album_peak = max(known_peaks) if known_peaks else None

    rules: list[AlbumPlayback] = []
    album_gains: list[float | None] = []
    for rule in ALBUM_RULES:
        gain = None
        if loudest is not None:
            loudest_lufs = values[loudest]["integrated_lufs"]
            assert loudest_lufs is not None
            gain = _gain_db(
                rule.album_target_lufs, loudest_lufs, album_peak, rule.peak_ceiling_dbtp
            )
        album_gains.append(gain)
        if gain is None or loudest is None:
            message = render("album.playback.silent", language)
        else:
            message = render(
                f"album.playback.{rule.key}", language,
                gain=round(gain, 1) + 0.0, name=labels[loudest],
                loudest=float(values[loudest]["integrated_lufs"] or 0.0),
                target=rule.track_target_lufs, album_target=rule.album_target_lufs,
            )  # fmt: skip
        rules.append(
            {
                "rule": rule.key,
                "label": render(f"album.rule.{rule.key}", language),
                "track_target_lufs": rule.track_target_lufs,
                "album_target_lufs": rule.album_target_lufs,
                "peak_ceiling_dbtp": rule.peak_ceiling_dbtp,
                "gain_db": _round(gain),
                "loudest_index": loudest,
                "evidence": rule.evidence,
                "sources": list(rule.sources),
                "message": message,
            }
        )

    out_tracks: list[AlbumTrack] = []
    outliers: list[AlbumOutlier] = []
    for i, (track_values, duration_s, peak) in enumerate(
        zip(values, durations, peaks, strict=True)
    ):
        deviation = _empty()
        flagged: list[AlbumMeasure] = []
        for m in MEASURES:
            value, centre = track_values[m.value_key], medians[m.value_key]
            if value is None or centre is None:
                continue
            delta = value - centre
            deviation[m.value_key] = _round(delta, 3)
            limit = OUTLIER_LIMITS[m.value_key]
            assert limit is not None
            if abs(delta) <= limit:
                continue
            flagged.append(m.key)
            direction = "high" if delta > 0 else "low"
            outliers.append(
                {
                    "index": i,
                    "name": labels[i],
                    "measure": m.key,
                    "deviation": round(delta, 3) + 0.0,
                    "limit": limit,
                    "unit": m.unit,
                    "message": render(
                        f"album.{m.key}.{direction}",
                        language,
                        name=labels[i],
                        amount=abs(delta),
                        median=float(centre),
                        current=float(value),
                        limit=limit,
                        digits=m.digits,
                    ),
                }
            )
        playback: list[AlbumTrackPlayback] = []
        lufs = track_values["integrated_lufs"]
        for rule, album_gain in zip(ALBUM_RULES, album_gains, strict=True):
            own = (
                None
                if lufs is None
                else _gain_db(rule.track_target_lufs, lufs, peak, rule.peak_ceiling_dbtp)
            )
            playback.append(
                {
                    "rule": rule.key,
                    "track_gain_db": _round(own),
                    "album_gain_db": _round(album_gain),
                    "album_minus_track_db": (
                        _round(album_gain - own)
                        if own is not None and album_gain is not None
                        else None
                    ),
                    "loudness_track_mode_lufs": (
                        _round(lufs + own) if lufs is not None and own is not None else None
                    ),
                    "loudness_album_mode_lufs": (
                        _round(lufs + album_gain)
                        if lufs is not None and album_gain is not None
                        else None
                    ),
                    "true_peak_album_mode_dbtp": (
                        _round(peak + album_gain)
                        if peak is not None and album_gain is not None
                        else None
                    ),
                }
            )
        out_tracks.append(
            {
                "index": i,
                "name": labels[i],
                "duration_s": round(duration_s, 3),
                "values": _rounded(track_values),
                "deviation": deviation,
                "outliers": flagged,
                "true_peak_dbtp": _round(peak),
                "playback": playback,
            }
        )

    spread = None
    if measured:
        spread = max(v for _, v in measured) - min(v for _, v in measured)
    album_lufs = _energy_mean([(v, durations[i]) for i, v in measured])
    return {
        "schema_version": SCHEMA_VERSION,
        "lang": language,
        "album": {
            "tracks": len(tracks),
            "duration_s": round(sum(durations), 3),
            "integrated_lufs": _round(album_lufs),
            "loudest_index": loudest,
            "loudness_spread_lu": _round(spread),
            "true_peak_dbtp": _round(album_peak),
            "median": _rounded(medians),
        },
        "tracks": out_tracks,
        "outliers": outliers,
        "limits": _rounded(OUTLIER_LIMITS),
        "playback": rules,
    }
