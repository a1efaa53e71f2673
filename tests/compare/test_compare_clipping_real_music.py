"""A hard-clipped real master gets a critical "clipping" suggestion that names the count.

Debian's rock recording (see tests/real_music.py), peak-normalised to full scale in 16 bits:
as it is, and raised 4 dB and hard-clipped. Judged for streaming, which needs no genre profile.
"""

from __future__ import annotations

from pathlib import Path

from real_music import write_16bit
from soundy.report import AnalysisOptions, analyze_file

STREAMING = AnalysisOptions(destination="streaming")


def test_clipped_master_gets_a_critical_clipping_suggestion(tmp_path: Path) -> None:
    result = analyze_file(write_16bit(tmp_path / "clipped.wav", "rock", 4.0), STREAMING)
    count = result["peaks"]["clipped_samples"]
    assert count > 1000
    clipping = [s for s in result["suggestions"] if s["metric"] == "peaks.clipped_samples"]
    assert len(clipping) == 1
    assert clipping[0]["key"] == "clipping" and clipping[0]["severity"] == "critical"
    assert f"{count} samples are clipped" in clipping[0]["message"]
    assert result["suggestions"][0]["severity"] == "critical"


def test_master_peaking_at_full_scale_gets_no_clipping_suggestion(tmp_path: Path) -> None:
    result = analyze_file(write_16bit(tmp_path / "master.wav", "rock", 0.0), STREAMING)
    assert result["peaks"]["clipped_samples"] == 0
    assert all(s["metric"] != "peaks.clipped_samples" for s in result["suggestions"])
