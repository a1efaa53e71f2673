"""A job's analysis alone, timed as a worker's analysis process runs it: the floor of a job.

Used by bench/pipeline.py and bench/worker_drain.py. The clip is measured in a child process set
up as ``soundy worker``'s analysis processes are (``soundy.pipeline._pool._init_child``: BLAS and
OpenMP pinned to one thread before numpy loads, glibc's malloc keeping freed memory), with what
they run per job (``_pool.measure``, the worker's default limits). In the bench's own process
instead, OpenBLAS's idle threads spin and doubled the CPU time of a 10 s clip (38.8 against
20.9 ms CPU, 3 December 2026).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

__all__ = ["analysis_alone"]

_CHILD = """
import json, statistics, sys, time
from pathlib import Path
from soundy.pipeline._pool import _init_child
_init_child(None)  # first: numpy must load after the BLAS threads are pinned
from soundy.config import Settings
from soundy.pipeline._pool import measure
from soundy.report import AnalysisOptions
s = Settings()
options = AnalysisOptions(max_duration_s=s.max_duration_s, max_samples=s.max_samples_per_job,
    max_channels=s.max_channels, max_sample_rate_hz=s.max_sample_rate_hz, display_name="clip")
path, reps = Path(sys.argv[1]), int(sys.argv[2])
measure(path, options, lambda stage, fraction: None)
wall, cpu = [], []
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    measure(path, options, lambda stage, fraction: None)
    wall.append((time.perf_counter() - t0) * 1000)
    cpu.append((time.process_time() - c0) * 1000)
print(json.dumps({"wall_ms": statistics.median(wall), "cpu_ms": statistics.median(cpu)}))
"""


def analysis_alone(path: Path, reps: int = 10) -> dict[str, float]:
    """Median wall-clock and CPU ms (``wall_ms``, ``cpu_ms``) of ``reps`` analyses of ``path``
    after a warm-up, in a child set up like an analysis process."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(reps)],
        check=True,
        capture_output=True,
        text=True,
    )
    return {k: float(v) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}
