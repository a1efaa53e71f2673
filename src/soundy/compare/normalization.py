"""What each streaming platform's loudness normalisation does to a track.

Per platform: ``gain_db`` = target - integrated loudness, then the platform's rule:

* ``down_only``: positive gain is dropped (quiet tracks stay quiet);
* ``up_to_true_peak``: positive gain only until the true peak reaches ``peak_ceiling_dbtp``
  (Spotify's documented rule for its default "normal" level; assumed for Apple's Sound Check).

``true_peak_after_dbtp`` = true peak + gain. Sources, and which rules are documented by the
platform itself (``documented``) and which are third-party observations, are in
docs/scoring.md ("Streaming normalisation").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from soundy.result import PlatformNormalization

__all__ = ["PLATFORMS", "Platform", "normalization"]


@dataclass(frozen=True)
class Platform:
    name: str
    target_lufs: float
    rule: Literal["down_only", "up_to_true_peak"]
    peak_ceiling_dbtp: float | None
    documented: bool
    source: str


PLATFORMS: tuple[Platform, ...] = (
    Platform(
        "Spotify", -14.0, "up_to_true_peak", -1.0, True,
        "https://support.spotify.com/us/artists/article/loudness-normalization",
    ),
    Platform(
        "Apple Music", -16.0, "up_to_true_peak", -1.0, False,
        "https://www.production-expert.com/production-expert-1/apple-choose-16lufs-loudness-level-for-apple-music-heres-why",
    ),
    Platform(
        "YouTube", -14.0, "down_only", None, False,
        "https://youtubedownload.minitool.com/news/youtube-loudness-standard.html",
    ),
    Platform(
        "Tidal", -14.0, "down_only", None, False,
        "https://www.meterplugs.com/blog/2016/10/07/tidal-adds-loudness-normalization.html",
    ),
    Platform(
        "Amazon Music", -14.0, "down_only", None, False,
        "https://apu.software/amazon-music-loudness",
    ),
    Platform(
        "Deezer", -15.0, "down_only", None, False,
        "https://apu.software/deezer-loudness-target",
    ),
    Platform(
        "SoundCloud", -14.0, "down_only", None, False,
        "https://apu.software/soundcloud-loudness-target",
    ),
)  # fmt: skip


def _gain_db(platform: Platform, integrated_lufs: float, true_peak_dbtp: float | None) -> float:
    gain = platform.target_lufs - integrated_lufs
    if gain <= 0.0:
        return gain
    if platform.rule == "down_only":
        return 0.0
    if platform.peak_ceiling_dbtp is not None and true_peak_dbtp is not None:
        return max(0.0, min(gain, platform.peak_ceiling_dbtp - true_peak_dbtp))
    return gain


def normalization(
    integrated_lufs: float | None, true_peak_dbtp: float | None
) -> list[PlatformNormalization] | None:
    """One entry per platform, or None when the track has no measured loudness (silence)."""
    if integrated_lufs is None:
        return None
    out: list[PlatformNormalization] = []
    for platform in PLATFORMS:
        gain = _gain_db(platform, integrated_lufs, true_peak_dbtp)
        out.append(
            {
                "platform": platform.name,
                "target_lufs": platform.target_lufs,
                "gain_db": round(gain, 2) + 0.0,
                "loudness_after_lufs": round(integrated_lufs + gain, 2),
                "true_peak_after_dbtp": (
                    None if true_peak_dbtp is None else round(true_peak_dbtp + gain, 2)
                ),
                "rule": platform.rule,
                "peak_ceiling_dbtp": platform.peak_ceiling_dbtp,
                "documented": platform.documented,
                "source": platform.source,
            }
        )
    return out
