"""Operator dashboard API under ``/api/admin`` (placeholder until the web work lands)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
