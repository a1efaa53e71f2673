"""``normalization``: the older, per-platform view of ``playback`` (kept for schema_version 1).

The platform table and its rules live in :mod:`soundy.analysis.playback`, which simulates each
platform on the track's samples (``playback`` in the measurements, docs/result.md). This key
repeats, for every platform that normalises, the row of its default listening mode (Spotify
Normal, Apple Sound Check) in the shape the key always had; SoundCloud, which does not
normalise, has no row. A result measured before ``playback`` existed has no ``normalization``
(None), as for silence.
"""

from __future__ import annotations

from soundy.result import Measurements, PlatformNormalization

__all__ = ["normalization"]


def normalization(measurements: Measurements) -> list[PlatformNormalization] | None:
    """One entry per normalising platform (its default mode), or None without ``playback``."""
    playback = measurements.get("playback")
    if not playback:
        return None
    out: list[PlatformNormalization] = []
    seen: set[str] = set()
    for entry in playback:
        rule, target = entry["rule"], entry["target_lufs"]
        if entry["platform"] in seen or target is None:
            continue
        seen.add(entry["platform"])
        if rule not in ("down_only", "up_to_true_peak"):
            continue
        loudness_after = entry["loudness_after_lufs"]
        if loudness_after is None:
            continue
        out.append(
            {
                "platform": entry["platform"],
                "target_lufs": target,
                "gain_db": entry["gain_db"],
                "loudness_after_lufs": loudness_after,
                "true_peak_after_dbtp": entry["true_peak_after_dbtp"],
                "rule": rule,
                "peak_ceiling_dbtp": entry["peak_ceiling_dbtp"],
                "documented": entry["evidence"] == "documented",
                "source": entry["source"],
            }
        )
    return out
