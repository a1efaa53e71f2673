"""Clipping on real music: Debian's rock and orchestral recordings, peak-normalised to full scale
in 16 bits, then raised 1, 4 and 6 dB and hard-clipped, as a master pushed into a DAW's output
without a limiter would be. Measured through ``measure_file`` (the decoder, then every meter).

The former rule (runs of three or more full-scale samples) counted none of the rock song's 20
clipped samples at +1 dB (all single samples) and 1,021 of its 6,411 at +4 dB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from real_music import raised, write_16bit
from soundy.analysis.measure import measure_file


@pytest.mark.parametrize("name", ["rock", "orchestral"])
def test_a_master_peaking_at_full_scale_is_not_clipped(tmp_path: Path, name: str) -> None:
    result = measure_file(write_16bit(tmp_path / "master.wav", name, 0.0), max_duration_s=600)
    peaks = result["peaks"]
    assert peaks["sample_peak_dbfs"] > -0.001  # its peak sits at full scale
    assert (peaks["clipped_samples"], peaks["clip_events"]) == (0, 0)
    for channel in peaks["channels"]:
        assert (channel["clipped_samples"], channel["clip_events"]) == (0, 0)


@pytest.mark.parametrize("gain_db", [1.0, 4.0, 6.0])
@pytest.mark.parametrize("name", ["rock", "orchestral"])
def test_a_master_raised_and_hard_clipped_is_caught(
    tmp_path: Path, name: str, gain_db: float
) -> None:
    path = write_16bit(tmp_path / "clipped.wav", name, gain_db)
    peaks = measure_file(path, max_duration_s=600)["peaks"]
    frames, _ = raised(name, gain_db)
    for c, channel in enumerate(peaks["channels"]):
        lane = np.abs(frames[:, c])
        went_over = int(np.count_nonzero(lane >= 1.0))
        at_top_code = int(np.count_nonzero(np.round(lane * 32768) >= 32767))
        # Every sample the clip flattened is counted, and nothing below the top code.
        assert went_over <= channel["clipped_samples"] <= at_top_code, c
        assert 0 < channel["clip_events"] <= channel["clipped_samples"]
    assert peaks["clipped_samples"] == sum(ch["clipped_samples"] for ch in peaks["channels"])
    assert peaks["clip_events"] == sum(ch["clip_events"] for ch in peaks["channels"])
    assert peaks["clip_events"] >= (100 if gain_db >= 4.0 else 10)
    assert peaks["true_peak_dbtp"] > 0.0
