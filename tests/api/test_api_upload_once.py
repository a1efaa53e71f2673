"""An upload URL is single use: of concurrent PUTs to one URL only the first to finish places
its file, and no other PUT (full, short, or later) replaces or deletes it. Real HTTP: uvicorn on
a loopback port, several PUTs in flight at once, their bodies held open until every one of them
is being written to storage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

SIZE = 256 * 1024


def _upload_dir(settings, file_key: str) -> Path:
    return Path(settings.data_dir) / "files" / file_key.rsplit("/", 1)[0]


async def _all_writing(folder: Path, count: int) -> None:
    """Until ``count`` PUTs have passed every check and opened their temporary file."""
    async with asyncio.timeout(20):
        while not folder.is_dir() or len(list(folder.glob(".*.part"))) < count:
            await asyncio.sleep(0.01)


def _body(fill: int, size: int, release: asyncio.Event) -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        yield bytes([fill]) * (size // 2)
        await release.wait()
        yield bytes([fill]) * (size - size // 2)

    return chunks()


async def _announce(http: httpx.AsyncClient, headers: dict[str, str]) -> dict:
    created = await http.post(
        "/api/uploads", json={"filename": "race.wav", "size": SIZE}, headers=headers
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_a_concurrent_put_never_replaces_or_deletes_the_stored_file(
    live_url, settings, client_token, auth
):
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        created = await _announce(http, auth(client_token))
        url = created["upload_url"]
        releases = [asyncio.Event() for _ in range(4)]
        # Three full bodies of different bytes and one short one, all in flight together.
        sizes = [SIZE, SIZE, SIZE, SIZE - 1000]
        puts = [
            asyncio.create_task(
                http.put(url, content=_body(index + 1, size, release), headers=created["headers"])
            )
            for index, (size, release) in enumerate(zip(sizes, releases, strict=True))
        ]
        await _all_writing(_upload_dir(settings, created["file_key"]), len(puts))
        releases[0].set()
        first = await puts[0]
        assert first.status_code == 200, first.text
        stored = Path(settings.data_dir) / "files" / created["file_key"]
        assert stored.read_bytes() == bytes([1]) * SIZE
        # A job may use the file from here on. The others finish now: none may touch it.
        for release in releases[1:]:
            release.set()
        others = await asyncio.gather(*puts[1:])
        assert [r.status_code for r in others] == [409, 409, 422], [r.text for r in others]
        assert {r.json()["error"]["code"] for r in others[:2]} == {"conflict"}
        assert stored.read_bytes() == bytes([1]) * SIZE
        # A later PUT (the URL is single use) changes nothing either.
        late = await http.put(url, content=b"x" * SIZE, headers=created["headers"])
        assert late.status_code == 409
        assert stored.read_bytes() == bytes([1]) * SIZE
        assert sorted(p.name for p in stored.parent.iterdir()) == ["race.wav"]


async def test_of_puts_released_at_once_exactly_one_places_its_file(
    live_url, settings, client_token, auth
):
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as http:
        created = await _announce(http, auth(client_token))
        release = asyncio.Event()
        puts = [
            asyncio.create_task(
                http.put(
                    created["upload_url"],
                    content=_body(index + 1, SIZE, release),
                    headers=created["headers"],
                )
            )
            for index in range(4)
        ]
        await _all_writing(_upload_dir(settings, created["file_key"]), len(puts))
        release.set()
        answers = await asyncio.gather(*puts)
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [200, 409, 409, 409], [r.text for r in answers]
        winner = next(i for i, r in enumerate(answers) if r.status_code == 200)
        stored = Path(settings.data_dir) / "files" / created["file_key"]
        assert stored.read_bytes() == bytes([winner + 1]) * SIZE
        assert answers[winner].json()["size"] == SIZE
