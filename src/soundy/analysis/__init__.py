"""The analysis engine: pure measurements (arrays in, numbers out; no HTTP, queue or database).

``measure_file(path, *, max_duration_s, display_name=None, progress=None) -> dict`` decodes a
file block by block (:mod:`soundy.analysis.decode`) and feeds every meter in one pass
(:mod:`soundy.analysis.measure`). The meters: loudness (BS.1770 / EBU R128), peaks, dynamics,
stereo, spectrum, rhythm (tempo and key).
"""

from __future__ import annotations

from soundy.analysis.measure import measure_file

__all__ = ["measure_file"]
