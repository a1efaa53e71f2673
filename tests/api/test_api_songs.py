"""Versions of a song over the API: jobs analysed with "song" are listed as a history, each
against the previous version, on the measurements of real music (tests/real_music.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

import real_music
from soundy import jobs
from soundy.report import analyze_file


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """20 s of the rock mix 12 dB down, then 6 dB down (a louder second version)."""
    folder = tmp_path_factory.mktemp("song")
    return [
        analyze_file(
            real_music.write_16bit(folder / f"v{i}.wav", "rock", gain, start_s=30.0, seconds=20.0)
        )
        for i, gain in enumerate((-12.0, -6.0))
    ]


async def _version(api, token, auth, upload_bytes, song: str | None) -> str:
    file_key = await upload_bytes(api, token, b"0123456789")
    body: dict[str, Any] = {"file_key": file_key, "destination": "streaming"}
    if song is not None:
        body["song"] = song
    response = await api.post("/api/audio/analyze", json=body, headers=auth(token))
    assert response.status_code == 202, response.text
    assert response.json()["job"]["song"] == (song.strip() if song else None)
    return str(response.json()["job"]["id"])


async def test_song_history_compares_each_version_with_the_previous(
    api, make_token, auth, upload_bytes, db_session, measured
):
    token, other = await make_token(), await make_token()
    song = "Noites de verão (mix 2)"
    first = await _version(api, token, auth, upload_bytes, song)
    second = await _version(api, token, auth, upload_bytes, f"  {song} ")  # trimmed
    await _version(api, token, auth, upload_bytes, None)  # no song: not a version
    running = await _version(api, token, auth, upload_bytes, song)
    for job_id, result in ((first, measured[0]), (second, measured[1])):
        assert await jobs.start_attempt(db_session, job_id)
        assert await jobs.complete(db_session, job_id, result=result)

    path = f"/api/songs/{quote(song)}"
    body = (await api.get(path, headers=auth(token))).json()
    assert body["song"] == song and body["older_versions"] == 0
    assert [v["job"]["id"] for v in body["versions"]] == [first, second, running]
    v1, v2, v3 = (v["history"] for v in body["versions"])
    assert v1["version"] == 1 and v1["previous_version"] is None
    loudness = next(c for c in v2["changes"] if c["metric"] == "loudness.integrated_lufs")
    assert loudness["delta"] == pytest.approx(6.0, abs=0.05) and loudness["moved"]
    assert v2["score_up"] is True and v2["summary"].startswith("Score up")
    # The version still running has no result and no comparison yet.
    assert v3["changes"] == [] and body["versions"][2]["job"]["status"] == "pending"
    assert body["versions"][1]["job"]["result"]["score"]["overall"] == v2["score"]

    pt = (await api.get(path + "?lang=pt-BR", headers=auth(token))).json()
    assert pt["versions"][1]["history"]["summary"].startswith("A nota subiu")

    listed = (await api.get("/api/songs", headers=auth(token))).json()["songs"]
    assert [(s["song"], s["versions"]) for s in listed] == [(song, 3)]
    # Another client has no such song; a name with "/" or only spaces is refused.
    assert (await api.get(path, headers=auth(other))).status_code == 404
    assert (await api.get("/api/songs", headers=auth(other))).json() == {"songs": []}
    file_key = await upload_bytes(api, token, b"0123456789")
    for bad in ("a/b", "   ", "x" * 201):
        refused = await api.post(
            "/api/audio/analyze", json={"file_key": file_key, "song": bad}, headers=auth(token)
        )
        assert refused.status_code == 422, bad
