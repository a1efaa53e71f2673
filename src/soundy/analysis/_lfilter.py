"""``lfilter`` without importing ``scipy.signal``: see :mod:`soundy.analysis._scipy_ext`."""

from __future__ import annotations

from soundy.analysis._scipy_ext import lfilter

__all__ = ["lfilter"]
