"""GET /api/genres on a bare FastAPI app with the compare router (no database needed)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from soundy.api.routes.genres import router
from soundy.compare import list_profiles


async def test_get_api_genres_lists_every_profile() -> None:
    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/api/genres")
    assert response.status_code == 200
    genres = response.json()["genres"]
    assert len(genres) == 18
    assert {"key": "trap", "label": "Trap"} in genres
    assert {g["key"] for g in genres} == {p.key for p in list_profiles()}
    assert all(set(g) == {"key", "label"} for g in genres)  # no genre is tied to a stage
