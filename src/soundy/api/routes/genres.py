"""``GET /api/genres``: the genre profiles a job may name (``{"genres": [{key, label}]}``).

The list is the same for every client and holds nothing private, so it needs no bearer token
(sending one does no harm); clients fetch it before they have uploaded anything.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from soundy.compare import list_profiles

__all__ = ["GenreOut", "GenresOut", "router"]

router = APIRouter(tags=["genres"])


class GenreOut(BaseModel):
    key: str
    label: str


class GenresOut(BaseModel):
    genres: list[GenreOut]


@router.get("/api/genres", response_model=GenresOut)
def list_genres() -> GenresOut:
    """Every genre profile, sorted by label."""
    return GenresOut(genres=[GenreOut(key=p.key, label=p.label) for p in list_profiles()])
