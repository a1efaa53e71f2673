"""The codec check's advice: when a platform's encoding pushes the peaks up, say it plainly.

The measurements (``codec_check``, :mod:`soundy.analysis.codec`) give each platform's decoded
true peak. One suggestion names the platform whose encoding raises the peaks most, when they
pass ``CODEC_PEAK_LIMIT_DBTP`` (-1 dBTP: the headroom Spotify asks to keep "for lossy
encodings") and the encoding raised them (by more than ``CODEC_RISE_MIN_DB``; a master already
over the limit whose peaks the codec lowers has the true-peak suggestion already), with the
ceiling that keeps them under it:

    ceiling = limit - (decoded true peak - the master's true peak), rounded down to 0.1 dB

Severity: ``critical`` when samples pass full scale at that platform's playback gain, ``warning``
when the decoded peaks pass 0 dBTP, else ``info``.
"""

from __future__ import annotations

import math

from soundy.compare.messages import normalise_lang, number, render
from soundy.result import CodecCheckEntry, Measurements, Severity, Suggestion

__all__ = ["CODEC_LABELS", "CODEC_PEAK_LIMIT_DBTP", "CODEC_RISE_MIN_DB", "codec_suggestions"]

CODEC_PEAK_LIMIT_DBTP = -1.0
CODEC_RISE_MIN_DB = 0.05
#: How each codec of ``codec_check[].codec`` is written for people.
CODEC_LABELS = {"aac": "AAC", "mp3": "MP3", "opus": "Opus", "vorbis": "Ogg Vorbis"}


def _signed(value: float, lang: str) -> str:
    text = number(value, lang)
    return f"+{text}" if value > 0 and text.strip("0.,") else text


def _worst(entries: list[CodecCheckEntry]) -> CodecCheckEntry | None:
    """The entry whose decoded peaks rise highest over the limit (clipping first)."""
    over = [
        e
        for e in entries
        if e["true_peak_dbtp"] is not None
        and e["true_peak_change_db"] is not None
        and e["true_peak_dbtp"] > CODEC_PEAK_LIMIT_DBTP
        and e["true_peak_change_db"] > CODEC_RISE_MIN_DB
    ]
    if not over:
        return None
    return max(over, key=lambda e: (e["clipped_samples_after_gain"] > 0, e["true_peak_dbtp"]))


def codec_suggestions(measurements: Measurements, lang: str = "en") -> list[Suggestion]:
    """At most one suggestion from ``codec_check`` (none when it was not run)."""
    lang = normalise_lang(lang)
    worst = _worst(measurements.get("codec_check") or [])
    if worst is None:
        return []
    peak = worst["true_peak_dbtp"]
    change = worst["true_peak_change_db"]
    assert peak is not None and change is not None  # _worst keeps only measured entries
    before = peak - change
    ceiling = math.floor((CODEC_PEAK_LIMIT_DBTP - change) * 10.0 + 1e-9) / 10.0
    clipped = worst["clipped_samples_after_gain"]
    severity: Severity = "critical" if clipped > 0 else "warning" if peak > 0.0 else "info"
    values = {
        "platform": worst["platform"],
        "codec": CODEC_LABELS.get(worst["codec"], worst["codec"]),
        "bitrate": worst["bitrate_kbps"],
        "peak": _signed(peak, lang),
        "before": _signed(before, lang),
    }
    key = "codec.clipped" if clipped > 0 else "codec.peaks"
    message = render(f"{key}.message", lang, count=clipped, **values)
    return [
        {
            "metric": "codec_check.true_peak_dbtp",
            "severity": severity,
            "status": "high",
            "key": key,
            "message": message,
            "action": render(
                "codec.peaks.action", lang, ceiling=ceiling, limit=CODEC_PEAK_LIMIT_DBTP
            ),
            "current": peak,
            "target": CODEC_PEAK_LIMIT_DBTP,
            "target_min": None,
            "target_max": CODEC_PEAK_LIMIT_DBTP,
            "delta": round(CODEC_PEAK_LIMIT_DBTP - peak, 4),
            "unit": "dBTP",
            "source": render("source.codec", lang, platform=worst["platform"]),
        }
    ]
