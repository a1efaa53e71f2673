"""EBU Tech 3342 (2016) loudness-range cases 1-4 at 44.1 and 48 kHz, tolerance +-1 LU.

Cases 5 and 6 are authentic programme material and cannot be synthesized. Levels are per-channel
peak levels of 1 kHz stereo sines, each step 20 s.
"""

from __future__ import annotations

import pytest
import signals

from soundy.analysis.loudness import LoudnessMeter

CASES = [
    (1, [-20.0, -30.0], 10.0),
    (2, [-20.0, -15.0], 5.0),
    (3, [-40.0, -20.0], 20.0),
    (4, [-50.0, -35.0, -20.0, -35.0, -50.0], 15.0),
]


@pytest.mark.parametrize("fs", [44100, 48000])
@pytest.mark.parametrize(("case", "levels", "expected_lu"), CASES)
def test_loudness_range(fs: int, case: int, levels: list[float], expected_lu: float) -> None:
    frames = signals.tone_steps(fs, [(level, 20.0) for level in levels])
    meter = LoudnessMeter(fs, 2)
    meter.add_frames(frames)
    assert meter.range_lu() == pytest.approx(expected_lu, abs=1.0)
