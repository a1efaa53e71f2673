"""Run the installed ``soundy analyze`` command in its own process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

SOUNDY_ANALYZE = [sys.executable, "-m", "soundy.cli.main", "analyze"]


def run_analyze(
    *args: str, columns: int = 160, timeout_s: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """``soundy analyze ARGS``, its terminal ``columns`` wide; never raises on a failed exit."""
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [*SOUNDY_ANALYZE, *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        check=False,
    )
