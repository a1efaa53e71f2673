"""The official EBU loudness test set (v05) and the ITU BS.2217 gate tests, read in place.

Every file goes through what a user's upload goes through: ``measure_file`` (the project's
decoder, then every meter), and its readings are held to the documents' tolerances, as
sdroege/ebur128's ``tests/reference_tests.rs`` does:

- EBU Tech 3341 (v4, 2016) Table 1/2: loudness +-0.1 LU, true peak +0.2/-0.4 dB;
- EBU Tech 3342 (2016): loudness range +-1 LU;
- ITU-R BS.2217 "Compliance material for BS.1770": the relative and absolute gate tests,
  +-0.1 LU.

The files' terms allow technical testing only, so they are never copied into the repository:
the tests read them from ``$SOUNDY_EBU_TEST_SET``, by default ``<repo>/../shared/data/ebu``, and
skip (saying where the set comes from) when the folder is absent. The EBU's own WAV names
("seq-3341-15-24bit.wav.wav", "1kHz Sine -20 LUFS-16bit.wav") are found as well as FLAC copies.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from pyebur128 import MeasurementMode, R128State, get_loudness_global

from soundy.analysis.decode import open_audio
from soundy.analysis.loudness import LoudnessMeter
from soundy.analysis.measure import measure_file

REPO = Path(__file__).resolve().parents[2]
TEST_SET_ENV = "SOUNDY_EBU_TEST_SET"
TEST_SET_DIR = Path(os.environ.get(TEST_SET_ENV) or REPO.parent / "shared" / "data" / "ebu")
WHERE_FROM = (
    "the EBU loudness test set v05 is downloaded from the EBU Tech 3341/3342 page "
    "(https://tech.ebu.ch/publications/ebu_loudness_test_set); the two gate tests are ITU-R "
    "BS.2217 compliance material (1770-2_Comp_*GateTest). Point "
    f"{TEST_SET_ENV} at the folder holding them"
)
TOL_LU = 0.1  # Tech 3341 Table 1; BS.2217
TOL_LRA_LU = 1.0  # Tech 3342
TP_ABOVE_DB, TP_BELOW_DB = 0.2, 0.4  # Tech 3341 Table 2

if not TEST_SET_DIR.is_dir():
    pytest.skip(f"no EBU test set at {TEST_SET_DIR}: {WHERE_FROM}", allow_module_level=True)


def _case_key(name: str) -> str:
    """The file's name without extensions, bit depth and version: "seq-3341-3-16bit-v02.flac"
    and "seq-3341-3-16bit-v02.wav" are both "seq-3341-3"; spaces read as underscores."""
    stem = re.sub(r"(\.(wav|flac))+$", "", name.lower().replace(" ", "_"))
    return re.sub(r"-(16|24)bit(-v\d+)?$", "", stem)


@functools.cache
def _files() -> dict[str, Path]:
    return {_case_key(p.name): p for p in sorted(TEST_SET_DIR.iterdir()) if p.is_file()}


def _path(key: str) -> Path:
    path = _files().get(key)
    if path is None:
        pytest.skip(f"{key} is not in {TEST_SET_DIR}: {WHERE_FROM}")
    return path


@functools.cache
def _measured(key: str) -> dict[str, Any]:
    """``measure_file``'s result for the case (each file is measured once per session)."""
    return measure_file(_path(key), max_duration_s=600.0)


def _reading(key: str, section: str, name: str) -> float:
    value = _measured(key)[section][name]
    assert value is not None, f"{key}: {section}.{name} is null"
    return float(value)


@dataclass(frozen=True)
class Case:
    """One file and the readings its document expects (LUFS, LU or dBTP)."""

    key: str
    integrated: float | None = None
    momentary_max: float | None = None
    short_term_max: float | None = None
    steady: float | None = None  # M from 1 s and S from 3 s on read this
    range_lu: float | None = None
    true_peak: float | None = None

    @property
    def id(self) -> str:
        return self.key.removeprefix("seq-")


def _cases() -> Iterator[Case]:
    for level in (-20.0, -26.0, -40.0):
        key = f"1khz_sine_{level:.0f}_lufs"
        yield Case(key, level, level, level, steady=level)
    yield Case("seq-3341-1", -23.0, -23.0, -23.0, steady=-23.0)
    yield Case("seq-3341-2", -33.0, -33.0, -33.0, steady=-33.0)
    for n in (3, 4, 5):
        yield Case(f"seq-3341-{n}", integrated=-23.0)
    yield Case("seq-3341-7_seq-3342-5", integrated=-23.0, range_lu=5.0)
    for n in range(1, 21):
        yield Case(f"seq-3341-10-{n}", short_term_max=-23.0)
    for n in range(1, 21):
        yield Case(f"seq-3341-13-{n}", momentary_max=-23.0)
    for n, peak in [(15, -6.0), (16, -6.0), (17, -6.0), (18, -6.0), (19, 3.0)]:
        yield Case(f"seq-3341-{n}", true_peak=peak)
    for n in (20, 21, 22, 23):
        yield Case(f"seq-3341-{n}", true_peak=0.0)
    for n, lra in [(1, 10.0), (2, 5.0), (3, 20.0), (4, 15.0)]:
        yield Case(f"seq-3342-{n}", range_lu=lra)
    yield Case("1770-2_comp_relgatetest", integrated=-10.0)
    yield Case("1770-2_comp_absgatetest", integrated=-69.5)


CASES = list(_cases())


def _params(attribute: str) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in CASES if getattr(c, attribute) is not None]


@pytest.mark.parametrize("case", _params("integrated"))
def test_integrated_loudness(case: Case) -> None:
    measured = _reading(case.key, "loudness", "integrated_lufs")
    assert measured == pytest.approx(case.integrated, abs=TOL_LU)


@pytest.mark.parametrize("case", _params("momentary_max"))
def test_momentary_max(case: Case) -> None:
    measured = _reading(case.key, "loudness", "momentary_max_lufs")
    assert measured == pytest.approx(case.momentary_max, abs=TOL_LU)


@pytest.mark.parametrize("case", _params("short_term_max"))
def test_short_term_max(case: Case) -> None:
    measured = _reading(case.key, "loudness", "short_term_max_lufs")
    assert measured == pytest.approx(case.short_term_max, abs=TOL_LU)


@pytest.mark.parametrize("case", _params("steady"))
def test_steady_momentary_and_short_term_series(case: Case) -> None:
    """The result's series read the level once the window is full (M from 1 s, S from 3 s)."""
    series = _measured(case.key)["series"]
    hop_s = series["hop_s"]
    momentary = np.asarray(series["momentary_lufs"], dtype=np.float64)
    short_term = np.asarray(series["short_term_lufs"], dtype=np.float64)
    # Element i is the window ending at (i + 1) * hop_s.
    momentary = momentary[round(1.0 / hop_s) - 1 :]
    short_term = short_term[round(3.0 / hop_s) - 1 :]
    assert momentary.size > 100 and short_term.size > 100
    assert np.all(np.abs(momentary - case.steady) <= TOL_LU)
    assert np.all(np.abs(short_term - case.steady) <= TOL_LU)


def test_case_12_momentary_constant_from_1_s() -> None:
    """Tech 3341 case 12: M = -23.0 +-0.1 at every instant from 1 s on, here every 10 ms.

    The result's series is sampled every 100 ms, a multiple of the signal's 0.4 s period, so it
    would read -23 even if the meter mis-timed its window; a 10 ms grid would not.
    """
    with open_audio(_path("seq-3341-12")) as source:
        meter = LoudnessMeter(source.info.sample_rate, source.info.channels, series_hop_s=0.01)
        for block in source.blocks():
            meter.add_frames(block)
    momentary = meter.momentary_series_lufs()[round(1.0 / meter.hop_s) - 1 :]
    assert momentary.size > 800
    assert np.all(np.abs(momentary - -23.0) <= TOL_LU)
    series = np.asarray(_measured("seq-3341-12")["series"]["momentary_lufs"], dtype=np.float64)
    assert np.all(np.abs(series[9:] - -23.0) <= TOL_LU)


@pytest.mark.parametrize("case", _params("range_lu"))
def test_loudness_range(case: Case) -> None:
    measured = _reading(case.key, "loudness", "range_lu")
    assert measured == pytest.approx(case.range_lu, abs=TOL_LRA_LU)


@pytest.mark.parametrize("case", _params("true_peak"))
def test_true_peak(case: Case) -> None:
    assert case.true_peak is not None
    measured = _reading(case.key, "peaks", "true_peak_dbtp")
    low, high = case.true_peak - TP_BELOW_DB, case.true_peak + TP_ABOVE_DB
    assert low <= measured <= high, f"{measured:.3f} dBTP, expected {case.true_peak} +0.2/-0.4"


@pytest.mark.parametrize("case", _params("integrated"))
def test_integrated_agrees_with_libebur128(case: Case) -> None:
    """Beyond the documents' 0.1 LU: the same file read by libebur128 (the reference C meter,
    fed libsndfile's decode) gives the same integrated loudness to 1e-6 LU."""
    frames, rate = sf.read(_path(case.key), dtype="float64", always_2d=True)
    state = R128State(frames.shape[1], rate, MeasurementMode.MODE_I)
    state.add_frames(np.ascontiguousarray(frames).reshape(-1), frames.shape[0])
    reference = get_loudness_global(state)
    assert math.isfinite(reference)
    measured = _reading(case.key, "loudness", "integrated_lufs")
    assert measured == pytest.approx(reference, abs=1e-6)
