"""`soundy worker` with slow analyses: ``python slow_worker.py DELAY_S CONCURRENCY``.

The command's worker (settings from the environment, its log format, signals and exit code),
given ``pipeline_support.SlowAnalysis(DELAY_S)`` as what its analysis processes run: each job
reports "decoding" for DELAY_S seconds, then is measured for real.
"""

from __future__ import annotations

import asyncio
import sys


def main() -> int:
    # Not at the top: each analysis process imports this file again (as __mp_main__) before it
    # pins its BLAS threads, and must not load numpy with it.
    from pipeline_support import SlowAnalysis

    from soundy.config import get_settings
    from soundy.pipeline.logs import configure_logging
    from soundy.pipeline.worker import run_worker

    delay_s, concurrency = float(sys.argv[1]), int(sys.argv[2])
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    return asyncio.run(run_worker(settings, concurrency=concurrency, analyze=SlowAnalysis(delay_s)))


if __name__ == "__main__":
    sys.exit(main())
