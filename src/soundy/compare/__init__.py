"""Targets, score and suggestions (placeholder until the compare work lands)."""

from __future__ import annotations

from typing import Any

__all__ = ["compare"]


def compare(
    result: dict[str, Any],
    *,
    genre: str | None = None,
    destination: str | None = None,
    reference_result: dict[str, Any] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Return the keys to add to ``result``: targets, score, suggestions, normalization."""
    return {}
