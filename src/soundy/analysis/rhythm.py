"""Tempo (BPM) and musical key, each with its alternatives, from the mix's own spectra.

Tempo: an onset-strength envelope (spectral flux: the half-wave rectified rise of the log power
in 40 log-spaced bands from 30 Hz up, floored 80 dB below each frame's loudest band), computed
on the mono mix decimated to ~11 kHz (means of 4 samples at 44.1/48 kHz) with its own small STFT
(1024-point Hann frames every 256 samples: 43 values/s, and the 10.8 Hz bins that keep kick and
bass apart), pooled into four accent groups (below 200 Hz, 200-800, 800-3200, above; Scheirer
1998, Klapuri et al. 2006). Each group's unbiased autocorrelation, normalised by its variance,
is averaged over the groups, and BPM candidates 30-400 on a 0.05 BPM grid are scored by a comb
(mean autocorrelation at 1-8 beat periods, within half the clip) times a log-normal prior
centred on 130 BPM, one octave wide (the shape of Ellis 2007, "Beat tracking by dynamic
programming", and librosa's ``tempo``). The detected tempo is the best of 60-200 BPM with four
beats in the clip; the double wins when the onsets between its beats are as periodic as the
beats (a metronome at 190 BPM is not 95). The winner's period is refined on the autocorrelation
peaks 2, 4, 8, ... beats away, so a steady track reads to a fraction of a BPM.

Confidence: the evidence that the beat is in the detected metrical family (no reading outside
it comes close, the beat is steady, the clip long enough), mapped to a 0-1 probability
calibrated on real annotated music; the half and double readings share the measured rate of
octave slips. ``tempo_bpm`` is None below 2 s of audio, for a steady tone, for silence and
without a steady beat.

Key: a 12-bin chroma vector (five octaves G3-F#8, A = 440 Hz; each semitone's mean magnitude
divided by its spectral envelope, the mean of the semitones within half an octave, so that any
smooth spectrum folds to a flat chroma; each frame normalised to its maximum and summed over the
track) correlated with the 24 rotated Krumhansl-Kessler key profiles (Krumhansl 1990,
"Cognitive Foundations of Musical Pitch"; the Krumhansl-Schmuckler algorithm).
``key_confidence`` is the Pearson correlation of the winner and ``key_relative`` its relative
major/minor. When no pitch class stands out (chroma standard deviation below 0.02 of its mean:
noise, unpitched drums) every key field is None.

Memory: the onset envelopes (16 bytes per hop: 2.5 MB for an hour) and a 12-value chroma sum.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from soundy.analysis._frames import as_frames
from soundy.analysis._kernels import mix_decimate
from soundy.analysis._stft import StftFramer, bin_frequencies_hz, default_fft_size
from soundy.result import Musical

__all__ = ["KEY_NAMES", "RhythmMeter", "estimate_key", "estimate_tempo"]

KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: Krumhansl & Kessler (1982) probe-tone ratings, C major and C minor.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

MIN_BPM = 60.0
MAX_BPM = 200.0
#: Half and double readings are scored on this wider grid (BPM), so that each candidate of a
#: 60-200 BPM tempo has a score of its own.
GRID_MIN_BPM = 30.0
GRID_MAX_BPM = 400.0
PRIOR_CENTER_BPM = 130.0
#: The prior's centre rises by up to this much (BPM) on clips shorter than FULL_EVIDENCE_S
#: (linearly: +14 at 3 s, +8 at 6 s), where the comb favours the slower octave.
SHORT_CLIP_LIFT_BPM = 20.0
PRIOR_WIDTH_OCTAVES = 1.0
BPM_STEP = 0.05
COMB_BEATS = 8
#: The comb reads the autocorrelation up to this fraction of the clip (longer lags rest on too
#: little overlap to be trusted), so a short clip is scored on fewer beats.
COMB_REACH = 0.5
#: A tempo candidate needs four beats in the clip (three periods).
MIN_BEATS = 4
#: The double tempo wins when the onsets halfway between its slower neighbour's beats are as
#: periodic as the beats themselves (autocorrelation at odd multiples of the faster period at
#: least this fraction of that at even multiples): a metronome at 190 BPM is not 95 BPM.
OCTAVE_UP_ODD_EVEN = 0.97
#: Two readings within this relative distance are the same candidate.
SAME_TEMPO = 0.03
#: A comb score this high is a steady beat (click tracks read 0.3-0.9, real mixes 0.1-0.45).
STEADY_COMB = 0.2
#: A clip this long (seconds) shows its beat fully; a shorter one is weaker evidence.
FULL_EVIDENCE_S = 10.0
#: Scale of the evidence -> confidence map 1 - exp(-evidence / scale). Calibrated on
#: bench/tempo_key.py's 147 real readings: below an evidence of 0.05 about half are in the
#: annotated tempo's family (exact, half or double), above it 94-100 %.
EVIDENCE_SCALE = 0.03
#: Share of the readings in the right family that are an octave off, measured by
#: bench/tempo_key.py on real annotated music (19 of 140).
OCTAVE_SLIP_RATE = 0.14
#: The period is refined on the autocorrelation peak up to this lag (seconds).
REFINE_REACH_S = 20.0
#: Below this much audio (seconds) there is no tempo: four beats at 120 BPM.
MIN_TEMPO_DURATION_S = 2.0
ONSET_BANDS = 40
#: The bands are pooled into four accent groups (kick and bass; low mids; snare and voice;
#: cymbals), each with its own periodicity, summed (Scheirer 1998; Klapuri et al. 2006): a
#: loud group then cannot mask the beat another carries.
ONSET_GROUP_EDGES_HZ = (200.0, 800.0, 3200.0)
#: The onset STFT runs on the mono mix decimated to at least this rate (Hz).
ONSET_RATE_HZ = 11025.0
ONSET_LOW_HZ = 30.0
ONSET_HIGH_HZ = 16000.0
#: Chroma folds whole octaves from G3 (196 Hz, the lowest semitone at least one FFT bin wide at
#: 44.1 kHz) to F#8 (5.9 kHz), so that every pitch class spans the same number of octaves.
CHROMA_LOWEST_MIDI = 55
CHROMA_OCTAVES = 5
#: Each semitone is divided by the mean of the semitones within half an octave of it (the
#: spectral envelope), so any smooth spectrum (noise, a tilt) folds to a flat chroma.
CHROMA_ENVELOPE_SEMITONES = 13
#: Dynamic range of the onset function's log spectrum (dB below each frame's loudest band);
#: a band's rise is also capped there (a start from digital silence counts as 80 dB).
ONSET_RANGE_DB = 80.0
_POWER_FLOOR = 1e-30
#: Below this onset-envelope spread (standard deviation, dB) there is no rhythm to measure
#: (a steady tone): tempo is None.
MIN_ONSET_STD_DB = 0.05
#: Below this comb score there is no steady beat and the tempo is None (noise reads ~0.01,
#: real music 0.1-0.45).
MIN_COMB = 0.05
#: Below this spread of the whitened chroma (standard deviation / mean) no pitch class stands
#: out and the key is None: white and pink noise read 0.005-0.011, real mixes 0.04-0.36
#: (distorted metal guitars the lowest).
MIN_CHROMA_CONTRAST = 0.02

KeyMode = Literal["major", "minor"]
TempoRelation = Literal["detected", "half", "double"]


@dataclass(frozen=True)
class TempoReading:
    """One reading of the tempo: BPM, a 0-1 confidence and its relation to the detected one."""

    bpm: float
    confidence: float
    relation: TempoRelation


@dataclass(frozen=True)
class TempoEstimate:
    """The detected tempo and its half and double readings (``candidates``, detected first)."""

    bpm: float
    confidence: float
    candidates: tuple[TempoReading, ...]


def _autocorrelation(onset: np.ndarray) -> np.ndarray | None:
    """Unbiased, variance-normalised, lightly smoothed autocorrelation of an envelope."""
    n = onset.shape[0]
    x = onset.astype(np.float64) - float(np.mean(onset))
    energy = float(x @ x)
    if not energy > n * MIN_ONSET_STD_DB**2:
        return None
    size = 1 << math.ceil(math.log2(2 * n))
    spectrum = np.fft.rfft(x, size)
    acf = np.fft.irfft(spectrum.real**2 + spectrum.imag**2, size)[:n]
    acf *= n / (n - np.arange(n))  # unbiased: long lags are not penalised for overlapping less
    acf /= energy
    # Smooth with a small Gaussian (sigma = 1 hop) so a period that falls between two hops
    # peaks at its true fractional lag rather than at the nearer integer.
    kernel = np.exp(-0.5 * np.arange(-3, 4) ** 2)
    smoothed: np.ndarray = np.convolve(acf, kernel / kernel.sum(), mode="same")
    return smoothed


def _comb(acf: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Mean autocorrelation at 1..k beat periods (k <= COMB_BEATS, within COMB_REACH)."""
    n = acf.shape[0]
    beats = np.arange(1, COMB_BEATS + 1)
    counted = np.clip(np.floor(COMB_REACH * n / period), 0, COMB_BEATS)
    values = np.interp(period[:, None] * beats[None, :], np.arange(n), acf)
    values *= beats[None, :] <= counted[:, None]
    comb: np.ndarray = values.sum(axis=1) / np.maximum(counted, 1)
    comb[counted < 1] = 0.0
    return comb


def _odd_even(acf: np.ndarray, period: float) -> float:
    """Autocorrelation at odd multiples of ``period`` over that at even multiples (up to 8)."""
    n = acf.shape[0]
    beats = np.arange(1, COMB_BEATS + 1)
    beats = beats[beats * period <= COMB_REACH * n]
    if beats.size < 2:
        return 0.0
    values = np.interp(period * beats, np.arange(n), acf)
    even = float(values[beats % 2 == 0].mean())
    return float(values[beats % 2 == 1].mean()) / even if even > 0 else 0.0


def estimate_tempo(onset: np.ndarray, frames_per_s: float) -> TempoEstimate | None:
    """Tempo in BPM with its half and double readings, each with a 0-1 confidence.

    Parameters
    ----------
    onset : np.ndarray [shape=(n,) or (n, groups)]
        Onset strength, one value per hop (per accent group: each group's autocorrelation,
        normalised by its own variance, enters the mean).
    frames_per_s : float
        Envelope rate in Hz (sample rate / hop).

    Returns None when there is no steady beat: less than ``MIN_TEMPO_DURATION_S`` of audio, a
    flat envelope, or a comb score below ``MIN_COMB``. The confidences of the three readings
    share the belief that the beat is in this metrical family at all (how far its score stands
    above the best reading outside it, how steady it is, how long the clip), mapped to a
    probability: the detected reading gets ``1 - OCTAVE_SLIP_RATE`` of it, the half and double
    readings the measured slip rate, split by how well the onsets support each.
    """
    n = onset.shape[0]
    if n < MIN_TEMPO_DURATION_S * frames_per_s:
        return None
    columns = onset.reshape(n, -1)
    each = [
        a
        for a in (_autocorrelation(columns[:, g]) for g in range(columns.shape[1]))
        if a is not None
    ]
    if not each:
        return None
    acf = np.mean(each, axis=0)
    grid = np.arange(GRID_MIN_BPM, GRID_MAX_BPM + BPM_STEP / 2, BPM_STEP)
    period = 60.0 * frames_per_s / grid
    comb = _comb(acf, period)
    # On a short clip the comb reads only a few lags, and the slower octave's fall on the even
    # multiples of the beat, the stronger ones (the bar): the prior leans the other way.
    shortfall = max(0.0, 1.0 - n / (FULL_EVIDENCE_S * frames_per_s))
    centre = PRIOR_CENTER_BPM + SHORT_CLIP_LIFT_BPM * shortfall
    prior = np.exp(-0.5 * (np.log2(grid / centre) / PRIOR_WIDTH_OCTAVES) ** 2)
    # A candidate needs MIN_BEATS beats in the clip; the detected one lies in MIN_BPM-MAX_BPM.
    score = np.maximum(comb, 0.0) * prior * ((MIN_BEATS - 1) * period <= n)
    allowed = np.flatnonzero((grid >= MIN_BPM - BPM_STEP / 2) & (grid <= MAX_BPM + BPM_STEP / 2))
    best = int(allowed[np.argmax(score[allowed])])
    if not comb[best] >= MIN_COMB:
        return None
    # Octave check: when the onsets halfway between the beats are as periodic as the beats, the
    # faster pulse explains them and the slower does not (a metronome at 190 BPM is not 95);
    # the prior alone would pick the one nearer its centre.
    double = np.flatnonzero(np.abs(grid / (2 * grid[best]) - 1) <= 0.01)
    double = double[grid[double] <= MAX_BPM + BPM_STEP / 2]
    if double.size:
        faster = int(double[np.argmax(score[double])])
        if score[faster] > 0 and _odd_even(acf, float(period[faster])) >= OCTAVE_UP_ODD_EVEN:
            best = faster
    bpm = _refine_bpm(acf, float(period[best]), frames_per_s)

    def near(target: float) -> float:
        close = np.abs(grid / target - 1) <= SAME_TEMPO
        return float(score[close].max()) if np.any(close) else 0.0

    # The best local maximum outside the family (x1/4 .. x4) of the detected reading.
    family = np.zeros(grid.shape, dtype=bool)
    for ratio in (0.25, 0.5, 1.0, 2.0, 4.0):
        family |= np.abs(grid / (grid[best] * ratio) - 1) <= SAME_TEMPO
    peaks = np.zeros(grid.shape, dtype=bool)
    peaks[1:-1] = (score[1:-1] >= score[:-2]) & (score[1:-1] >= score[2:])
    others = score[peaks & ~family & (grid >= MIN_BPM) & (grid <= MAX_BPM)]
    rival = float(others.max()) if others.size else 0.0
    # Evidence that the beat lies in this metrical family at all: no reading outside it comes
    # close, the beat is steady, and the clip is long enough to show it.
    steadiness = min(1.0, float(comb[best]) / STEADY_COMB)
    lead = 1.0 - min(1.0, rival / float(score[best])) ** 2
    evidence = lead * steadiness * min(1.0, n / (FULL_EVIDENCE_S * frames_per_s))
    belief = 1.0 - math.exp(-evidence / EVIDENCE_SCALE)
    # The comb alone cannot weigh an octave (the comb of half the tempo reads the same beats),
    # so each alternative is also weighed by the onsets between beats: the half reading is
    # less likely when those between the detected beats are as strong as the beats (at most
    # half as likely, for a metronome), the double only as likely as those between its own.
    detected_period = 60.0 * frames_per_s / bpm
    readings: list[tuple[float, float, TempoRelation]] = [(bpm, float(score[best]), "detected")]
    alternatives: tuple[tuple[float, TempoRelation], ...] = ((0.5, "half"), (2.0, "double"))
    for factor, relation in alternatives:
        other = bpm * factor
        if GRID_MIN_BPM <= other <= GRID_MAX_BPM:
            if relation == "half":
                weight = 1.5 - _odd_even(acf, detected_period)
            else:
                weight = _odd_even(acf, detected_period / 2)
            readings.append((other, near(other) * min(1.0, max(0.0, weight)), relation))
    # Which octave is right is not something the scores predict (on real music the exact
    # readings have as strong octave rivals as the slips), so the alternatives share the
    # measured rate of octave slips, in proportion to their weighed scores.
    weighed = sum(s for _, s, relation in readings if relation != "detected")
    shares = [
        (1.0 - OCTAVE_SLIP_RATE if weighed > 0 else 1.0)
        if relation == "detected"
        else (OCTAVE_SLIP_RATE * s / weighed if weighed > 0 else 0.0)
        for _, s, relation in readings
    ]
    candidates = tuple(
        TempoReading(round(b, 2), round(belief * share, 3), relation)
        for (b, _, relation), share in zip(readings, shares, strict=True)
    )
    return TempoEstimate(candidates[0].bpm, candidates[0].confidence, candidates)


def _refine_bpm(acf: np.ndarray, period: float, frames_per_s: float) -> float:
    """Refine a beat period (in hops) on autocorrelation peaks 2, 4, 8, ... beats away.

    The peak near ``m`` periods pins the period to a fraction of a hop divided by ``m``
    (parabolic interpolation of the peak); doubling ``m`` step by step keeps each search
    window on the right peak. A steady click track then reads within ~0.1 BPM.
    """
    reach = min(acf.shape[0] / 3, REFINE_REACH_S * frames_per_s)
    m = 2
    while m * period <= reach:
        half = max(1, int(period / 4))
        centre = round(m * period)
        lo, hi = max(1, centre - half), min(acf.shape[0] - 1, centre + half + 1)
        k = lo + int(np.argmax(acf[lo:hi]))
        if not lo < k < hi - 1:
            break
        a, b, c = acf[k - 1], acf[k], acf[k + 1]
        denominator = a - 2 * b + c
        offset = 0.5 * (a - c) / denominator if denominator < 0 else 0.0
        refined = float(k + offset) / m
        if abs(refined - period) > 0.03 * period:
            break
        period = refined
        m *= 2
    return 60.0 * frames_per_s / period


def estimate_key(chroma: np.ndarray) -> tuple[int, KeyMode, float] | None:
    """Best Krumhansl-Kessler key for a 12-bin chroma vector (C = index 0).

    Returns (tonic pitch class, "major" | "minor", Pearson correlation), or None when the
    chroma is flat (silence).
    """
    chroma = np.asarray(chroma, dtype=np.float64)
    if not np.ptp(chroma) > 1e-9 * max(float(np.max(np.abs(chroma))), 1e-300):
        return None
    best: tuple[int, KeyMode, float] | None = None
    modes: tuple[tuple[KeyMode, np.ndarray], ...] = (
        ("major", MAJOR_PROFILE),
        ("minor", MINOR_PROFILE),
    )
    for mode, _ in modes:
        for tonic in range(12):
            r = _key_correlation(chroma, tonic, mode)
            if best is None or r > best[2]:
                best = (tonic, mode, r)
    return best


# Each key's profile: the mode's profile rotated to its tonic (made once, not per analysis).
_KEY_PROFILES: dict[KeyMode, tuple[np.ndarray, ...]] = {
    "major": tuple(np.roll(MAJOR_PROFILE, tonic) for tonic in range(12)),
    "minor": tuple(np.roll(MINOR_PROFILE, tonic) for tonic in range(12)),
}


def _key_correlation(chroma: np.ndarray, tonic: int, mode: KeyMode) -> float:
    """Pearson correlation of a chroma vector with one Krumhansl-Kessler key profile."""
    return pearson(chroma, _KEY_PROFILES[mode][tonic])


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two float64 vectors: ``np.corrcoef(x, y)[0, 1]`` to the bit.

    numpy's own steps in its order (the mean-centred pair, its dot product with itself, scaled
    by 1 / (n - 1), divided by the two standard deviations, clipped to [-1, 1]) without its
    argument handling, which cost more than the arithmetic for 12 values (25 calls per
    analysis); ``tests/analysis/test_rhythm.py`` checks it against ``np.corrcoef``.
    """
    pair = np.array((x, y), dtype=np.float64)
    pair -= pair.mean(axis=1)[:, None]
    c = np.dot(pair, pair.T.conj())
    c *= np.true_divide(1, pair.shape[1] - 1)
    stddev = np.sqrt(np.diag(c).real)
    c /= stddev[:, None]
    c /= stddev[None, :]
    np.clip(c.real, -1, 1, out=c.real)
    return float(c[0, 1])


class _OnsetMaps(NamedTuple):
    """The onset envelope's band layout for one STFT (read-only arrays)."""

    lo: int  # first bin read
    hi: int  # one past the last bin read
    starts: np.ndarray  # each band's first bin, from lo (np.add.reduceat indices)
    groups: np.ndarray  # band -> accent group weights, (bands, groups) float32


class _ChromaMaps(NamedTuple):
    """The chroma's bin -> semitone -> pitch-class maps for one STFT (read-only arrays)."""

    lo: int  # first bin read
    hi: int  # one past the last bin read
    semitone_map: np.ndarray  # (bins, semitones) float32
    envelope_map: np.ndarray  # (semitones, semitones) float32
    fold_map: np.ndarray  # (semitones, 12) float32


def _read_only(*arrays: np.ndarray) -> None:
    for array in arrays:
        array.flags.writeable = False


@functools.cache
def _onset_maps(sample_rate_hz: float, n_fft: int) -> _OnsetMaps:
    """The onset bands of an ``n_fft``-point STFT at ``sample_rate_hz``.

    Cached per (rate, length) and process: building them was a fixed cost of every analysis
    (what a 1 s clip notices).
    """
    freqs = bin_frequencies_hz(sample_rate_hz, n_fft)
    top = min(ONSET_HIGH_HZ, sample_rate_hz / 2)
    k_lo = max(1, int(np.searchsorted(freqs, ONSET_LOW_HZ)))
    k_hi = int(np.searchsorted(freqs, top))
    rounded = np.round(np.geomspace(k_lo, k_hi, ONSET_BANDS + 1)).astype(int)
    # Sorted already: dropping repeats is np.unique (which would import numpy.ma, 10 ms).
    edges = rounded[np.concatenate([[True], np.diff(rounded) > 0])]
    starts = edges[:-1] - edges[0]
    # Band -> accent group matrix: each group's onset is the mean rise of its bands.
    centres = np.sqrt(freqs[edges[:-1]] * freqs[np.maximum(edges[1:] - 1, edges[:-1])])
    group = np.searchsorted(np.asarray(ONSET_GROUP_EDGES_HZ), centres)
    used = np.unique(group)
    groups = np.zeros((centres.size, used.size), dtype=np.float32)
    for column, g in enumerate(used):
        groups[group == g, column] = 1.0 / np.count_nonzero(group == g)
    _read_only(starts, groups)
    return _OnsetMaps(int(edges[0]), int(edges[-1]), starts, groups)


@functools.cache
def _chroma_maps(sample_rate_hz: float, n_fft: int) -> _ChromaMaps:
    """The chroma maps of an ``n_fft``-point STFT at ``sample_rate_hz`` (cached per process)."""
    freqs = bin_frequencies_hz(sample_rate_hz, n_fft)
    with np.errstate(divide="ignore"):
        bin_midi = np.round(12 * np.log2(freqs / 440.0)) + 69
    # Whole octaves from CHROMA_LOWEST_MIDI, as many as fit below Nyquist (at most five).
    nyquist_midi = 12 * math.log2(sample_rate_hz / 2 / 440.0) + 69
    octaves = int((nyquist_midi - CHROMA_LOWEST_MIDI) // 12)
    octaves = max(1, min(CHROMA_OCTAVES, octaves))
    # Semitones read: the folded range plus half an envelope window on each side.
    margin = CHROMA_ENVELOPE_SEMITONES // 2
    lowest = CHROMA_LOWEST_MIDI - margin
    count = 12 * octaves + 2 * margin
    sel = np.flatnonzero((bin_midi >= lowest) & (bin_midi < lowest + count) & (freqs < freqs[-1]))
    # Bin -> semitone matrix: each bin weighs 1 / (bins in its semitone), so a semitone
    # counts with its mean magnitude although high semitones span more bins.
    semitone = bin_midi[sel].astype(int) - lowest
    counts = np.bincount(semitone, minlength=count)
    semitone_map = np.zeros((sel.size, count), dtype=np.float32)
    semitone_map[np.arange(sel.size), semitone] = 1.0 / counts[semitone]
    # Spectral envelope: the mean of the semitones (that have a bin) within half a window.
    present = (counts > 0).astype(np.float64)
    offsets = np.arange(count)
    window = np.abs(offsets[:, None] - offsets[None, :]) <= margin
    weights = window * present[:, None] / (present @ window)[None, :]
    envelope_map = weights.astype(np.float32)
    # Folded semitones -> pitch classes, the mean over the octaves that have a bin.
    folded = np.arange(margin, margin + 12 * octaves)
    fold = np.zeros((count, 12), dtype=np.float64)
    fold[folded, (folded + lowest) % 12] = present[folded]
    fold_map = (fold / fold.sum(axis=0)[None, :]).astype(np.float32)
    _read_only(semitone_map, envelope_map, fold_map)
    return _ChromaMaps(int(sel[0]), int(sel[-1]) + 1, semitone_map, envelope_map, fold_map)


class RhythmMeter:
    """Streaming tempo and key.

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate in Hz.
    channels : int
        Channels in the blocks given to ``add_frames``.

    Give it frames with ``add_frames``, or pass it to ``SpectrumMeter(..., rhythm=meter)``:
    the spectrum meter then feeds it (its power spectra for the chroma, and the frames for the
    onset envelope) and this meter must not be given frames itself.

    The onset envelope has its own small STFT of the mono mix decimated to ~11 kHz (see the
    module docstring); it costs ~0.07 s for 4 minutes of stereo, chroma and tempo included.

    ``result()`` keys (the ``musical`` section): ``tempo_bpm``, ``tempo_confidence`` (0-1),
    ``tempo_candidates`` (detected, half, double), ``key`` (e.g. ``"A minor"``), ``key_tonic``
    (``"A"``), ``key_mode`` (``"major"`` or ``"minor"``), ``key_confidence`` (correlation,
    -1..1), ``key_relative`` and ``key_candidates`` (detected, relative). ``None`` (empty
    lists) where the track has no measurable tempo or key (see the module docstring).
    """

    def __init__(self, sample_rate_hz: float, channels: int) -> None:
        if sample_rate_hz <= 0 or channels < 1:
            raise ValueError("sample_rate_hz must be positive and channels at least 1")
        self.channels = channels
        self._framer = StftFramer(sample_rate_hz, channels)
        self._fed_externally = False
        self._decimation = max(1, int(sample_rate_hz // ONSET_RATE_HZ))
        onset_rate_hz = sample_rate_hz / self._decimation
        onset_fft = default_fft_size(onset_rate_hz)
        self._onset_framer = StftFramer(onset_rate_hz, 1, n_fft=onset_fft, hop=onset_fft // 4)
        self._carry = np.zeros(1, dtype=np.float32)  # sum of the unfinished decimation group
        self._carry_frames = 0
        self._setup_onset(self._onset_framer)
        self._setup_chroma(self._framer)

    def _setup_onset(self, framer: StftFramer) -> None:
        maps = _onset_maps(framer.sample_rate_hz, framer.n_fft)
        self._onset_lo, self._onset_hi = maps.lo, maps.hi
        self._onset_starts = maps.starts
        self._onset_groups = maps.groups
        self._frames_per_s = framer.frames_per_s
        self._onset_chunks: list[np.ndarray] = []
        self._last_log: np.ndarray | None = None

    def _setup_chroma(self, framer: StftFramer) -> None:
        maps = _chroma_maps(framer.sample_rate_hz, framer.n_fft)
        self._chroma_lo, self._chroma_hi = maps.lo, maps.hi
        self._semitone_map = maps.semitone_map
        self._envelope_map = maps.envelope_map
        self._fold_map = maps.fold_map
        self._chroma_sum = np.zeros(12, dtype=np.float64)

    def attach_to(self, framer: StftFramer) -> None:
        """Take power spectra from another meter's framer (called by ``SpectrumMeter``)."""
        if framer.channels != self.channels:
            raise ValueError("the spectrum meter and this meter disagree on the channel count")
        self._framer = framer
        self._fed_externally = True
        self._setup_chroma(framer)

    def add_frames(self, frames: np.ndarray) -> None:
        """Add a block of samples, shape (n, channels), any n."""
        if self._fed_externally:
            raise RuntimeError("this RhythmMeter is fed by a SpectrumMeter; give frames to that")
        for power in self._framer.push(frames):
            self.add_power_spectra(power)
        self.add_onset_frames(frames)

    def add_power_spectra(self, power: np.ndarray) -> None:
        """Add consecutive power spectra of the chroma STFT, shape (k, n_bins), in order."""
        self._chroma_sum += self._chroma(power)

    def add_onset_frames(self, frames: np.ndarray) -> None:
        """Add a block of samples, shape (n, channels), to the onset envelope's STFT."""
        block = np.ascontiguousarray(as_frames(frames, self.channels), dtype=np.float32)
        # The channels' mean, then means of `_decimation` frames (a crude low-pass; what it
        # lets alias stays an onset), in one C pass; a group may straddle two blocks.
        mono = np.empty((self._carry_frames + block.shape[0]) // self._decimation, np.float32)
        _, self._carry_frames = mix_decimate(
            block, self._decimation, self._carry, self._carry_frames, mono
        )
        for power in self._onset_framer.push(mono[:, None]):
            onset, self._last_log = self._onset(power, self._last_log)
            self._onset_chunks.append(onset)

    def _onset(
        self, power: np.ndarray, last_log: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if power.shape[0] == 0:
            return np.zeros((0, self._onset_groups.shape[1]), dtype=np.float32), last_log
        onset_bins = power[:, self._onset_lo : self._onset_hi]
        bands = np.add.reduceat(onset_bins, self._onset_starts, axis=1)
        # Log power with a floor ONSET_RANGE_DB below the frame's loudest band (gain-invariant;
        # bands holding only rounding noise would otherwise flicker by tens of dB).
        floor = bands.max(axis=1, keepdims=True) * 10.0 ** (-ONSET_RANGE_DB / 10)
        log_bands = np.log10(np.maximum(bands, floor) + _POWER_FLOOR) * 10.0
        previous = log_bands[:1] if last_log is None else last_log[None, :]
        rise = np.diff(np.concatenate([previous, log_bands]), axis=0)
        onset = np.clip(rise, 0.0, ONSET_RANGE_DB) @ self._onset_groups
        return onset.astype(np.float32), log_bands[-1]

    def _chroma(self, power: np.ndarray) -> np.ndarray:
        semitones = np.sqrt(power[:, self._chroma_lo : self._chroma_hi]) @ self._semitone_map
        envelope = semitones @ self._envelope_map
        top = envelope.max(axis=1, keepdims=True)
        sounding = top[:, 0] > 0
        # Whitened: each semitone over its spectral envelope (1 for any smooth spectrum); a
        # band with no content at all (a low-passed file) reads 0.
        floor = top[sounding] * 1e-6
        ratio = semitones[sounding] / np.maximum(envelope[sounding], floor)
        chroma = ratio @ self._fold_map
        peak = chroma.max(axis=1, keepdims=True)
        summed: np.ndarray = (chroma / peak).sum(axis=0, dtype=np.float64)
        return summed

    def chroma(self) -> np.ndarray:
        """The track's 12-bin chroma so far (C = index 0; see the module docstring)."""
        summed: np.ndarray = self._chroma_sum + self._chroma(self._framer.finish_frames())
        return summed

    def result(self) -> Musical:
        onset_tail, _ = self._onset(self._onset_framer.finish_frames(), self._last_log)
        onset = np.concatenate([*self._onset_chunks, onset_tail])
        tempo = estimate_tempo(onset, self._frames_per_s)
        chroma = self.chroma()
        key = estimate_key(chroma)
        mean = float(np.mean(chroma)) if chroma.any() else 0.0
        if key is not None and not (mean > 0 and np.std(chroma) / mean >= MIN_CHROMA_CONTRAST):
            key = None  # no pitch class stands out: noise, unpitched drums
        out: Musical = {
            "tempo_bpm": None if tempo is None else tempo.bpm,
            "tempo_confidence": None if tempo is None else tempo.confidence,
            "tempo_candidates": []
            if tempo is None
            else [
                {"bpm": c.bpm, "confidence": c.confidence, "relation": c.relation}
                for c in tempo.candidates
            ],
            "key": None,
            "key_tonic": None,
            "key_mode": None,
            "key_confidence": None,
            "key_relative": None,
            "key_candidates": [],
        }
        if key is not None:
            tonic, mode, r = key
            # The relative key has the same pitch classes: minor a minor third below the major.
            relative_tonic = (tonic + (9 if mode == "major" else 3)) % 12
            relative_mode: KeyMode = "minor" if mode == "major" else "major"
            relative_r = _key_correlation(chroma, relative_tonic, relative_mode)
            name, relative = KEY_NAMES[tonic], KEY_NAMES[relative_tonic]
            out.update(
                {
                    "key": f"{name} {mode}",
                    "key_tonic": name,
                    "key_mode": mode,
                    "key_confidence": round(r, 3),
                    "key_relative": f"{relative} {relative_mode}",
                    "key_candidates": [
                        {
                            "key": f"{name} {mode}",
                            "tonic": name,
                            "mode": mode,
                            "correlation": round(r, 3),
                            "relation": "detected",
                        },
                        {
                            "key": f"{relative} {relative_mode}",
                            "tonic": relative,
                            "mode": relative_mode,
                            "correlation": round(relative_r, 3),
                            "relation": "relative",
                        },
                    ],
                }
            )
        return out
