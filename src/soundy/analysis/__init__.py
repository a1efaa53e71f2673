"""The analysis engine: pure measurements (arrays in, numbers out). Placeholder until it lands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["measure_file"]


def measure_file(
    path: str | Path,
    *,
    max_duration_s: float,
    display_name: str | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Decode ``path`` block by block and return the measurement part of the result."""
    raise NotImplementedError
