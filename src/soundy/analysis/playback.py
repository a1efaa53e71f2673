"""What each streaming platform plays: its documented rule applied to the track's own samples.

Per platform and listening mode (:data:`PLATFORMS`): the gain its loudness normalisation gives
this track, and the loudness and true peak the listener then hears. Rules (docs/scoring.md,
"Platform playback", gives every one with its source, date and evidence grade):

* ``up_to_true_peak``: ``gain = target - integrated``, a positive gain only while the true peak
  stays at or under ``peak_ceiling_dbtp`` (Spotify: "leave 1 dB headroom");
* ``down_only``: a quiet track is not raised;
* ``limiter``: Spotify's Loud level, the gain whatever the true peak, then a limiter on the
  gained samples (:func:`limit`), measured on the audio: loudness and true peak after it, and
  how much of the track it touches;
* ``none``: the platform does not normalise (gain 0).

A plain gain changes loudness and true peak by exactly the gain (both scale with the signal), so
only the limiter needs the samples again: :func:`simulate_playback` then runs a second pass over
the file's blocks (the gain needs the integrated loudness of the whole track first).

Album mode: Spotify (and Tidal, Apple) normalise an album with one gain, the album's; a track
analysed alone is its own album, so its album-mode figures are its track-mode figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from soundy.analysis._kernels import limiter_apply, limiter_release
from soundy.analysis._lanes import Lanes
from soundy.analysis.loudness import LoudnessMeter
from soundy.analysis.peaks import TruePeakMax
from soundy.result import Evidence, LimiterStats, PlaybackEntry, PlaybackRule

__all__ = [
    "LIMITER_ACTIVE_DB",
    "LIMITER_ATTACK_S",
    "LIMITER_RELEASE_S",
    "LIMITER_THRESHOLD_DBFS",
    "PLATFORMS",
    "Limiter",
    "PlatformRule",
    "limit",
    "playback_gain_db",
    "simulate_playback",
]

#: Spotify's Loud-mode limiter: "set to engage at -1 dB (sample values), with a 5 ms attack
#: time and a 100 ms decay time" (Spotify for Artists, "Loudness normalization").
LIMITER_THRESHOLD_DBFS = -1.0
LIMITER_ATTACK_S = 0.005
LIMITER_RELEASE_S = 0.100
#: A frame counts as touched by the limiter when it takes away at least this much (dB); less
#: is far below what anyone hears, and the exponential release never quite reaches 0.
LIMITER_ACTIVE_DB = 0.1
# Median reduction from a histogram of this resolution (dB), up to _HIST_TOP_DB.
_HIST_STEP_DB = 0.01
_HIST_TOP_DB = 60.0
# The attack looks this many time constants ahead (exp(-40) ~ 4e-18: below float64 rounding
# of the reduction), so a block's reduction is final once this much of the next one is in.
_LOOKAHEAD_TAUS = 40

_SPOTIFY = (
    'Spotify for Artists, "Loudness normalization", '
    "https://support.spotify.com/us/artists/article/loudness-normalization (read 2026-12-03)"
)


@dataclass(frozen=True)
class PlatformRule:
    """One platform's loudness normalisation in one listening mode."""

    platform: str
    mode: str
    target_lufs: float | None
    rule: PlaybackRule
    peak_ceiling_dbtp: float | None
    evidence: Evidence
    source: str


PLATFORMS: tuple[PlatformRule, ...] = (
    PlatformRule("Spotify", "normal", -14.0, "up_to_true_peak", -1.0, "documented", _SPOTIFY),
    PlatformRule("Spotify", "loud", -11.0, "limiter", None, "documented", _SPOTIFY),
    PlatformRule("Spotify", "quiet", -19.0, "up_to_true_peak", -1.0, "documented", _SPOTIFY),
    PlatformRule(
        "Apple Music", "sound_check", -16.0, "up_to_true_peak", -1.0, "measured",
        "Production Expert, \"Apple Choose -16LUFS Loudness Level For Apple Music\" (2022), "
        "https://www.production-expert.com/production-expert-1/"
        "apple-choose-16lufs-loudness-level-for-apple-music-heres-why; "
        "the peak rule for positive gain is not published (assumed as Spotify's)",
    ),
    PlatformRule(
        "YouTube", "default", -14.0, "down_only", None, "measured",
        "Production Advice (Ian Shepherd), \"YouTube loudness normalisation\" and "
        "\"YouTube Music\" (2019-2023), https://productionadvice.co.uk/youtube-music/",
    ),
    PlatformRule(
        "YouTube Music", "default", -7.0, "down_only", None, "measured",
        "Production Advice (Ian Shepherd), \"YouTube Music\" (2023): reduces only tracks "
        "louder than -7 LUFS, https://productionadvice.co.uk/youtube-music/",
    ),
    PlatformRule(
        "Tidal", "default", -14.0, "down_only", None, "measured",
        "Meterplugs, \"Tidal Adds Loudness Normalization\" (2016-10-07), "
        "https://www.meterplugs.com/blog/2016/10/07/tidal-adds-loudness-normalization.html",
    ),
    PlatformRule(
        "Amazon Music", "default", -14.0, "down_only", None, "folklore",
        "APU Software, \"Amazon Music loudness\" (undated), "
        "https://apu.software/amazon-music-loudness; not published by Amazon",
    ),
    PlatformRule(
        "Deezer", "default", -15.0, "down_only", None, "folklore",
        "APU Software, \"Deezer loudness target\" (undated), "
        "https://apu.software/deezer-loudness-target; not published by Deezer",
    ),
    PlatformRule(
        "SoundCloud", "default", None, "none", None, "measured",
        "Saintpid, \"LUFS\" listening experiment (2016), https://www.saintpid.se/en/lufs/; "
        "Sound On Time, \"Loudness war\" (2021), https://www.soundontime.com/loudness-war/: "
        "SoundCloud does not normalise",
    ),
)  # fmt: skip


def playback_gain_db(
    rule: PlatformRule, integrated_lufs: float, true_peak_dbtp: float | None
) -> float:
    """The gain ``rule`` gives a track of this loudness and true peak (before any limiter)."""
    if rule.target_lufs is None or rule.rule == "none":
        return 0.0
    gain = rule.target_lufs - integrated_lufs
    if gain <= 0.0 or rule.rule == "limiter":
        return gain
    if rule.rule == "down_only":
        return 0.0
    if rule.peak_ceiling_dbtp is not None and true_peak_dbtp is not None:
        return max(0.0, min(gain, rule.peak_ceiling_dbtp - true_peak_dbtp))
    return gain


class Limiter:
    """Spotify's Loud-mode limiter, streaming: a gain, then a peak limiter linked over channels.

    Per frame ``n`` (all channels share one gain reduction, dB):

    * ``need[n] = max(0, 20 log10(max_c |gain * x_c[n]|) - threshold)``;
    * release: ``rel[n] = max(need[n], rel[n - 1] * exp(-1 / (release_s * rate)))``;
    * attack (looking ahead): ``red[n] = max(rel[n], red[n + 1] * exp(-1 / (attack_s * rate)))``;
    * output ``gain * x_c[n] * 10 ** (-red[n] / 20)``.

    The reduction rises towards a peak with the attack time constant and falls back after it
    with the release time constant (both exponential, in dB: the peak detector of Giannoulis,
    Massberg and Reiss, "Digital Dynamic Range Compressor Design", JAES 2012, with a look-ahead
    attack), and it is never less than ``need``, so no output sample exceeds the threshold.
    The two recursions run frame by frame in C (``_kernels.limiter_release`` forwards,
    ``_kernels.limiter_apply`` backwards, double precision, the operations above in order).

    :meth:`process` takes blocks of frames and returns the limited frames that are final
    (up to 40 attack time constants later than the input: what lies further ahead changes a
    reduction by less than exp(-40) of itself); :meth:`flush` returns the rest.
    """

    def __init__(
        self,
        sample_rate_hz: float,
        gain_db: float,
        *,
        threshold_dbfs: float = LIMITER_THRESHOLD_DBFS,
        attack_s: float = LIMITER_ATTACK_S,
        release_s: float = LIMITER_RELEASE_S,
    ) -> None:
        rate = float(sample_rate_hz)
        self.gain = 10.0 ** (gain_db / 20.0)
        self.threshold_dbfs = threshold_dbfs
        self._threshold = 10.0 ** (threshold_dbfs / 20.0)
        # Per-frame coefficients of the two one-pole recursions.
        self._release = math.exp(-1.0 / (release_s * rate))
        self._attack = math.exp(-1.0 / (attack_s * rate))
        self._lookahead = max(1, math.ceil(_LOOKAHEAD_TAUS * attack_s * rate))
        self._release_state = np.zeros(1)  # rel[] of the last frame seen
        self._held_frames: np.ndarray | None = None  # gained frames not yet final
        self._held_release = np.zeros(0)  # and their rel[]
        self.frames = 0
        self.active_frames = 0
        self.max_reduction_db = 0.0
        self._hist = np.zeros(int(_HIST_TOP_DB / _HIST_STEP_DB) + 1, dtype=np.int64)

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Limit a block of frames (n, channels); returns the frames now final (m, channels)."""
        x = np.asarray(frames)
        if x.ndim == 1:
            x = x[:, None]
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)
        x = np.ascontiguousarray(x)
        held = 0 if self._held_frames is None else self._held_frames.shape[0]
        total = held + x.shape[0]
        gained = np.empty((total, x.shape[1]))
        rel = np.empty(total)
        if self._held_frames is not None:
            gained[:held] = self._held_frames
            rel[:held] = self._held_release
        limiter_release(
            x, self.gain, self._threshold, self.threshold_dbfs, self._release,
            self._release_state, gained[held:], rel[held:],
        )  # fmt: skip
        ready = max(0, total - self._lookahead)
        self._held_frames, self._held_release = gained[ready:].copy(), rel[ready:].copy()
        return self._emit(gained, rel, ready)

    def flush(self) -> np.ndarray:
        """The frames still held back (the track has ended: nothing lies ahead of them)."""
        if self._held_frames is None:
            return np.zeros((0, 1))
        gained, rel = self._held_frames, self._held_release
        self._held_frames, self._held_release = None, np.zeros(0)
        return self._emit(gained, rel, gained.shape[0])

    def _emit(self, gained: np.ndarray, rel: np.ndarray, ready: int) -> np.ndarray:
        """The first ``ready`` frames of ``gained``, limited in place, and counted."""
        active, largest = limiter_apply(
            gained, rel, ready, self._attack, -math.log(10.0) / 20.0, LIMITER_ACTIVE_DB,
            1.0 / _HIST_STEP_DB, self._hist,
        )  # fmt: skip
        self.frames += ready
        self.active_frames += active
        self.max_reduction_db = max(self.max_reduction_db, largest)
        return gained[:ready]

    def stats(self) -> LimiterStats:
        """How much of the track it touched, and its largest and median reduction (dB)."""
        median = 0.0
        if self.active_frames:
            cumulative = np.cumsum(self._hist)
            median = (
                float(np.searchsorted(cumulative, (self.active_frames + 1) / 2)) * _HIST_STEP_DB
            )
        return {
            "active_fraction": round(self.active_frames / self.frames, 6) if self.frames else 0.0,
            "max_reduction_db": round(self.max_reduction_db, 2),
            "median_reduction_db": round(median, 2),
        }


def limit(
    frames: np.ndarray, sample_rate_hz: float, gain_db: float
) -> tuple[np.ndarray, LimiterStats]:
    """Apply ``gain_db`` and the Loud-mode limiter to a whole array; (limited frames, stats)."""
    limiter = Limiter(sample_rate_hz, gain_db)
    out = np.concatenate([limiter.process(frames), limiter.flush()])
    return out, limiter.stats()


def _measure_limited(
    blocks: Iterable[np.ndarray],
    sample_rate_hz: float,
    channel_weights: Sequence[float],
    gain_db: float,
) -> tuple[float | None, float | None, LimiterStats]:
    """(integrated loudness, true peak, limiter stats) of the track through the limiter.

    Only what is reported is measured: the gated integrated loudness and the largest true
    peak (:class:`TruePeakMax`). This thread reads and limits; a helper thread measures.
    """
    channels = len(channel_weights)
    limiter = Limiter(sample_rate_hz, gain_db)
    loudness = LoudnessMeter(sample_rate_hz, channels, channel_weights=channel_weights)
    peaks = TruePeakMax(sample_rate_hz, channels)
    lanes = Lanes([], [loudness.add_frames, peaks.add_frames], lag=1)
    try:
        for block in blocks:
            lanes.add(limiter.process(block))
        lanes.add(limiter.flush())
    finally:
        lanes.finish()
    return loudness.integrated_lufs(), peaks.true_peak_dbtp(), limiter.stats()


def _round(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 2) + 0.0


def simulate_playback(
    integrated_lufs: float | None,
    true_peak_dbtp: float | None,
    sample_peak_dbfs: float | None,
    *,
    sample_rate_hz: float,
    channel_weights: Sequence[float],
    blocks: Callable[[], Iterable[np.ndarray]],
) -> list[PlaybackEntry] | None:
    """One entry per platform and mode; None when the track has no loudness (silence).

    ``blocks()`` yields the track's frames again (n, channels), full scale 1.0; it is called
    only when a limiter would act (the gain lifts a sample over its threshold).
    """
    if integrated_lufs is None:
        return None
    out: list[PlaybackEntry] = []
    for rule in PLATFORMS:
        gain = playback_gain_db(rule, integrated_lufs, true_peak_dbtp)
        loudness_after: float | None = integrated_lufs + gain
        peak_after = None if true_peak_dbtp is None else true_peak_dbtp + gain
        limiter: LimiterStats | None = None
        if rule.rule == "limiter":
            limiter = {"active_fraction": 0.0, "max_reduction_db": 0.0, "median_reduction_db": 0.0}
            # The limiter acts only where a gained sample passes its threshold.
            if sample_peak_dbfs is not None and sample_peak_dbfs + gain > LIMITER_THRESHOLD_DBFS:
                loudness_after, peak_after, limiter = _measure_limited(
                    blocks(), sample_rate_hz, channel_weights, gain
                )
        out.append(
            {
                "platform": rule.platform,
                "mode": rule.mode,
                "target_lufs": rule.target_lufs,
                "rule": rule.rule,
                "peak_ceiling_dbtp": rule.peak_ceiling_dbtp,
                "gain_db": round(gain, 2) + 0.0,
                "loudness_after_lufs": _round(loudness_after),
                "true_peak_after_dbtp": _round(peak_after),
                "limiter": limiter,
                "evidence": rule.evidence,
                "source": rule.source,
            }
        )
    return out
