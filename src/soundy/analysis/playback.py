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

from soundy.analysis.loudness import LoudnessMeter
from soundy.analysis.peaks import PeakMeter
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
    Both recursions are running maxima of ``log red + n log(coefficient)``, computed with
    ``np.maximum.accumulate`` (no per-sample Python).

    :meth:`process` takes blocks of frames and returns the limited frames that are final
    (up to 40 attack time constants later than the input); :meth:`flush` returns the rest.
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
        # log of the per-frame coefficients (negative).
        self._log_release = -1.0 / (release_s * rate)
        self._log_attack = -1.0 / (attack_s * rate)
        self._lookahead = max(1, math.ceil(_LOOKAHEAD_TAUS * attack_s * rate))
        self._release_state = 0.0  # rel[] of the last frame seen
        self._held_frames: np.ndarray | None = None  # gained frames not yet final
        self._held_release = np.zeros(0)
        self._held_sources = np.zeros(0, dtype=np.int64)  # source frames among those held
        self._threshold = 10.0 ** (threshold_dbfs / 20.0)
        self.frames = 0
        self.active_frames = 0
        self.max_reduction_db = 0.0
        self._hist = np.zeros(int(_HIST_TOP_DB / _HIST_STEP_DB) + 1, dtype=np.int64)
        self._steps_cache: dict[tuple[int, float, int], np.ndarray] = {}

    def _steps(self, n: int, log_coefficient: float, first: int) -> np.ndarray:
        """``(first .. first + n - 1) * log_coefficient``, cached per length (blocks repeat)."""
        key = (n, log_coefficient, first)
        steps = self._steps_cache.get(key)
        if steps is None:
            steps = np.arange(first, first + n, dtype=np.float64) * log_coefficient
            self._steps_cache = {key: steps, **dict(list(self._steps_cache.items())[-3:])}
        return steps

    def _release(self, need: np.ndarray, sources: np.ndarray) -> np.ndarray:
        """rel[] of a block, carrying the release state across blocks. ``sources``: the frames
        whose ``need`` is positive (between them rel only decays)."""
        n = need.shape[0]
        steps = self._steps(n, self._log_release, 1)
        state = math.log(self._release_state) if self._release_state > 0.0 else -math.inf
        running = np.full(n, state)
        if sources.size:
            # The running maximum changes only at the sources: computed over them alone, then
            # held until the next one.
            peaks = np.log(need[sources]) - steps[sources]
            np.maximum.accumulate(peaks, out=peaks)
            held = np.repeat(peaks, np.diff(sources, append=n))
            np.maximum(running[sources[0] :], held, out=running[sources[0] :])
        running += steps
        rel: np.ndarray = np.exp(running, out=running)
        self._release_state = float(rel[-1]) if n else self._release_state
        return rel

    def _attack(self, rel: np.ndarray, sources: np.ndarray) -> np.ndarray:
        """red[] of frames whose future (up to the look-ahead) is all in ``rel``.

        Between two sources rel decays more slowly than the attack rises backwards, so the
        look-ahead maximum of any frame is itself or a later source's: the backward running
        maximum is taken over the sources alone."""
        n = rel.shape[0]
        if not sources.size:
            return rel.copy()
        steps = self._steps(n, self._log_attack, 0)
        peaks = np.log(rel[sources]) + steps[sources]
        backwards = peaks[::-1]
        np.maximum.accumulate(backwards, out=backwards)
        ahead = np.full(n, -math.inf)
        ahead[: sources[-1] + 1] = np.repeat(peaks, np.diff(sources, prepend=-1))
        ahead -= steps
        red: np.ndarray = np.maximum(rel, np.exp(ahead, out=ahead))
        return red

    def process(self, frames: np.ndarray) -> np.ndarray:
        """Limit a block of frames (n, channels); returns the frames now final (m, channels)."""
        gained = np.asarray(frames, dtype=np.float64) * self.gain
        if gained.ndim == 1:
            gained = gained[:, None]
        # The loudest channel of each frame (a loop over channels: numpy's reduction over a
        # short last axis is several times slower).
        peak = np.abs(gained[:, 0])
        for channel in range(1, gained.shape[1]):
            np.maximum(peak, np.abs(gained[:, channel]), out=peak)
        # Only frames over the threshold need a reduction (the sources of the envelope).
        sources = np.flatnonzero(peak > self._threshold)
        need = np.zeros(peak.shape[0])
        need[sources] = 20.0 * np.log10(peak[sources]) - self.threshold_dbfs
        rel = self._release(need, sources)
        held = 0 if self._held_frames is None else self._held_frames.shape[0]
        if self._held_frames is not None:
            gained = np.concatenate([self._held_frames, gained])
            rel = np.concatenate([self._held_release, rel])
            sources = np.concatenate([self._held_sources, sources + held])
        ready = max(0, gained.shape[0] - self._lookahead)
        self._held_frames, self._held_release = gained[ready:], rel[ready:].copy()
        self._held_sources = sources[sources >= ready] - ready
        return self._emit(gained[:ready], self._attack(rel, sources)[:ready])

    def flush(self) -> np.ndarray:
        """The frames still held back (the track has ended: nothing lies ahead of them)."""
        if self._held_frames is None:
            return np.zeros((0, 1))
        gained, rel, sources = self._held_frames, self._held_release, self._held_sources
        self._held_frames, self._held_release = None, np.zeros(0)
        self._held_sources = np.zeros(0, dtype=np.int64)
        return self._emit(gained, self._attack(rel, sources))

    def _emit(self, gained: np.ndarray, reduction_db: np.ndarray) -> np.ndarray:
        self.frames += reduction_db.shape[0]
        active = reduction_db[reduction_db >= LIMITER_ACTIVE_DB]
        if active.size:
            self.active_frames += int(active.size)
            self.max_reduction_db = max(self.max_reduction_db, float(active.max()))
            # Rounded to the nearest bin (all values are positive).
            bins = (active * (1.0 / _HIST_STEP_DB) + 0.5).astype(np.int64)
            np.minimum(bins, self._hist.size - 1, out=bins)
            self._hist += np.bincount(bins, minlength=self._hist.size)
        # 10 ** (-red / 20), as one exp.
        factor = reduction_db * (-math.log(10.0) / 20.0)
        np.exp(factor, out=factor)
        gained *= factor[:, None]
        return gained

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
    """(integrated loudness, true peak, limiter stats) of the track through the limiter."""
    channels = len(channel_weights)
    limiter = Limiter(sample_rate_hz, gain_db)
    loudness = LoudnessMeter(sample_rate_hz, channels, channel_weights=channel_weights)
    peaks = PeakMeter(sample_rate_hz, channels)

    def feed(limited: np.ndarray) -> None:
        if limited.shape[0]:
            loudness.add_frames(limited)
            peaks.add_frames(limited)

    for block in blocks:
        feed(limiter.process(block))
    feed(limiter.flush())
    true_peaks = [tp for tp in peaks.true_peak_dbtp() if tp is not None]
    return loudness.integrated_lufs(), max(true_peaks, default=None), limiter.stats()


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
