"""Soundy: analyses music mixes and masters against genre, reference and platform targets."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
