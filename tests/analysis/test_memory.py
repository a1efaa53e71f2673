"""Streaming keeps memory flat: a 60-minute stereo 48 kHz file is measured under 300 MB peak RSS.

The file (16-bit WAV, 691 MB on disk: larger than the limit, so whole-file arrays would show) is
written in chunks; ``measure_file`` runs in a fresh subprocess whose peak RSS (interpreter and
libraries included) is checked: ``VmHWM`` of /proc/self/status, the high-water mark of the
process's own memory. (``getrusage`` would not do: Linux carries ``ru_maxrss`` across ``exec``,
so the child would report at least the RSS of the pytest process that forked it.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

LIMIT_MB = 300
RATE = 48000
MINUTES = 60

CHILD = """
import json, sys
from soundy.analysis import measure_file
result = measure_file(sys.argv[1], max_duration_s=4 * 3600)
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
peak_mb = peak_kb / 1024
print(json.dumps({"peak_mb": peak_mb, "duration_s": result["file"]["duration_s"],
                  "integrated_lufs": result["loudness"]["integrated_lufs"],
                  "points": len(result["series"]["short_term_lufs"])}))
"""


def _write_long_file(path: Path) -> None:
    rng = np.random.default_rng(11)
    chunk_s = 10
    t = np.arange(RATE * chunk_s) / RATE
    base = 0.1 * rng.standard_normal((RATE * chunk_s, 2))
    base += (0.2 * np.sin(2 * np.pi * 440 * t))[:, None]
    chunk = (base * 32767).astype(np.int16)
    with sf.SoundFile(path, "w", RATE, 2, subtype="PCM_16", format="WAV") as out:
        for _ in range(MINUTES * 60 // chunk_s):
            out.write(chunk)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_sixty_minutes_stay_under_300_mb(tmp_path: Path) -> None:
    path = tmp_path / "hour.wav"
    _write_long_file(path)
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(path)],
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        path.unlink()
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["duration_s"] == pytest.approx(MINUTES * 60, abs=1e-6)
    assert report["integrated_lufs"] is not None
    assert report["points"] <= 2000
    assert report["peak_mb"] < LIMIT_MB, f"peak RSS {report['peak_mb']:.0f} MB"
