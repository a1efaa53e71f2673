"""The web page at ``/`` and the dashboard at ``/admin`` (placeholder until the web work lands)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter()
