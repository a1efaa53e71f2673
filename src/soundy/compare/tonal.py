"""Tonal-balance targets from published evidence, and the tilt/shape split of a comparison.

The base is the mean long-term average spectrum (LTAS) of commercial music measured by
Elowsson & Friberg (AES 142nd Convention, 2017, paper 9762) on 12,345 tracks normalised to
BS.1770 loudness: a power spectral density that rises to about 94 Hz and then falls ever faster,
-2.35 dB/octave at 200 Hz, -3.67 at 400, -4.99 at 800, -6.30 at 1.6 k, -7.62 at 3.2 k and
-8.94 at 6.4 kHz. Those six slopes fall by 1.32 dB/octave per octave, so above 94 Hz the curve
is the quadratic in log2-frequency whose derivative they are (their fit, :func:`mean_density_db`).
Below 94 Hz the paper's own fit is not reproduced here; the density is taken to rise
:data:`LOW_RISE_DB_PER_OCTAVE` per octave up to the peak (docs/scoring.md shows how little the
band targets depend on it).

Genres differ mostly by the amount of percussion: more of it means more energy below about
100 Hz and above 2 to 4.5 kHz (same paper). :func:`percussion_db` is that pattern; a genre's
curve is the mean plus ``percussion`` times the pattern (dB), and its band targets are that
curve integrated over :data:`soundy.result.BANDS`, relative to the total 20 Hz-20 kHz power,
exactly as :mod:`soundy.analysis.spectrum` measures a track.

A comparison splits a track's difference from its targets in two (:func:`tilted_targets`): the
overall tilt, judged once by ``spectrum.tilt_db_per_octave``, and the shape left around it,
judged band by band. A track that is only brighter or darker than its genre gets one tilt
suggestion, not seven band suggestions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from soundy.result import BANDS, BandKey

__all__ = [
    "BAND_CENTRES_OCT",
    "LOW_RISE_DB_PER_OCTAVE",
    "PEAK_HZ",
    "PUBLISHED_SLOPES_DB_PER_OCTAVE",
    "band_levels_db",
    "genre_density_db",
    "mean_density_db",
    "percussion_db",
    "slope_db_per_octave",
    "third_octave_tilt_db_per_octave",
    "tilted_targets",
]

#: The mean LTAS's slope (dB/octave of power spectral density) at each frequency (Hz), as
#: published by Elowsson & Friberg (2017).
PUBLISHED_SLOPES_DB_PER_OCTAVE: dict[float, float] = {
    200.0: -2.35,
    400.0: -3.67,
    800.0: -4.99,
    1600.0: -6.30,
    3200.0: -7.62,
    6400.0: -8.94,
}
#: Where the mean LTAS peaks (Hz).
PEAK_HZ = 94.0
_SLOPE_AT_200_HZ = -2.35
#: How much steeper the slope gets per octave (dB/octave per octave), from the six slopes above.
_SLOPE_CHANGE = -1.32
#: Assumed rise of the density from 20 Hz to the peak (dB/octave): the paper shows a rise but
#: this module does not reproduce its low-frequency fit (flat would give sub -10.3 dB, 3 dB per
#: octave -13.7 dB; docs/scoring.md).
LOW_RISE_DB_PER_OCTAVE = 1.0
#: The percussion pattern's corners (Hz): full below the first, none between the middle two,
#: full above the last, linear in log-frequency in between.
PERCUSSION_CORNERS_HZ = (100.0, 200.0, 2000.0, 4500.0)

#: Each band's centre, octaves from 1 kHz (geometric mean of its edges).
BAND_CENTRES_OCT: dict[BandKey, float] = {
    b.key: math.log2(math.sqrt(b.low_hz * b.high_hz) / 1000.0) for b in BANDS
}

_LOW_HZ, _HIGH_HZ = 20.0, 20000.0
#: 1/3-octave centres and the tilt range of soundy.analysis.spectrum (IEC 61260 base-10).
_THIRD_OCTAVE_N = range(-17, 14)
_TILT_RANGE_HZ = (50.0, 16000.0)
_STEPS_PER_OCTAVE = 96


def _upper_quadratic_db(f_hz: float) -> float:
    x = math.log2(f_hz / 200.0)
    return _SLOPE_AT_200_HZ * x + 0.5 * _SLOPE_CHANGE * x * x


def slope_db_per_octave(f_hz: float) -> float:
    """The mean LTAS's slope at ``f_hz`` (dB/octave of power spectral density)."""
    if f_hz < PEAK_HZ:
        return LOW_RISE_DB_PER_OCTAVE
    return _SLOPE_AT_200_HZ + _SLOPE_CHANGE * math.log2(f_hz / 200.0)


def mean_density_db(f_hz: float) -> float:
    """The mean LTAS at ``f_hz``: power spectral density in dB (per Hz), 0 dB at 200 Hz."""
    if f_hz >= PEAK_HZ:
        return _upper_quadratic_db(f_hz)
    return _upper_quadratic_db(PEAK_HZ) + LOW_RISE_DB_PER_OCTAVE * math.log2(f_hz / PEAK_HZ)


def percussion_db(f_hz: float) -> float:
    """The percussion pattern at ``f_hz``: 1 below 100 Hz and above 4.5 kHz, 0 from 200 Hz to
    2 kHz, linear in log-frequency between (dB per dB of ``percussion``)."""
    a, b, c, d = PERCUSSION_CORNERS_HZ
    if f_hz <= a or f_hz >= d:
        return 1.0
    if b <= f_hz <= c:
        return 0.0
    if f_hz < b:
        return math.log2(b / f_hz) / math.log2(b / a)
    return math.log2(f_hz / c) / math.log2(d / c)


def genre_density_db(percussion: float) -> Callable[[float], float]:
    """A genre's curve: the mean LTAS plus ``percussion`` dB of the percussion pattern."""
    return lambda f_hz: mean_density_db(f_hz) + percussion * percussion_db(f_hz)


def _power(density_db: Callable[[float], float], low_hz: float, high_hz: float) -> float:
    """Integral of the density (power per Hz) from low to high (Hz), midpoint rule in log f."""
    octaves = math.log2(high_hz / low_hz)
    steps = max(8, math.ceil(octaves * _STEPS_PER_OCTAVE))
    step = octaves / steps
    total = 0.0
    for i in range(steps):
        f = low_hz * 2.0 ** ((i + 0.5) * step)
        # df = f ln2 d(octaves)
        total += 10.0 ** (density_db(f) / 10.0) * f * math.log(2.0) * step
    return total


def band_levels_db(density_db: Callable[[float], float]) -> dict[BandKey, float]:
    """Each band's power relative to the total 20 Hz-20 kHz power (dB), as the analysis
    measures ``spectrum.bands[].level_db``."""
    total = _power(density_db, _LOW_HZ, _HIGH_HZ)
    return {
        b.key: 10.0 * math.log10(_power(density_db, b.low_hz, b.high_hz) / total) for b in BANDS
    }


def third_octave_tilt_db_per_octave(density_db: Callable[[float], float]) -> float:
    """``spectrum.tilt_db_per_octave`` of a track with this spectrum: the least-squares slope
    of its 1/3-octave band levels with centres from 50 Hz to 16 kHz."""
    xs: list[float] = []
    ys: list[float] = []
    for n in _THIRD_OCTAVE_N:
        centre = 1000.0 * 10.0 ** (n / 10)
        if not _TILT_RANGE_HZ[0] <= centre <= _TILT_RANGE_HZ[1]:
            continue
        power = _power(density_db, centre * 10 ** (-1 / 20), centre * 10 ** (1 / 20))
        xs.append(math.log2(centre))
        ys.append(10.0 * math.log10(power))
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def tilted_targets(
    targets_db: Mapping[BandKey, float], tilt_difference_db_per_octave: float
) -> dict[BandKey, float]:
    """The band targets of a track whose tilt differs from the target tilt by ``tilt_difference``
    (dB/octave): the targets turned by that slope around 1 kHz, then renormalised so their
    powers still add up to the total (0 dB). What is left between a track's band levels and
    these is the shape of its balance, not its tilt."""
    turned = {
        k: t + tilt_difference_db_per_octave * BAND_CENTRES_OCT[k] for k, t in targets_db.items()
    }
    total = sum(10.0 ** (v / 10.0) for v in turned.values())
    offset = 10.0 * math.log10(total) if total > 0 else 0.0
    return {k: v - offset for k, v in turned.items()}
