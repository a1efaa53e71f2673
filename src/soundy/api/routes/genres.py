"""``GET /api/genres`` (placeholder until the compare work lands)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
