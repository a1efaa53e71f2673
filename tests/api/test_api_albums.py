"""POST /api/albums and GET /api/albums/{id}: several of a client's jobs as one release, on the
measurements of real music (tests/real_music.py), the report derived once no track runs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import real_music
from api_jobs import new_job
from soundy import jobs
from soundy.report import analyze_file


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """20 s of the rock mix at full scale, 6 dB down, and at full scale again."""
    folder = tmp_path_factory.mktemp("album")
    return [
        analyze_file(
            real_music.write_16bit(folder / f"{i}.wav", "rock", gain, start_s=30.0, seconds=20.0)
        )
        for i, gain in enumerate((0.0, -6.0, 0.0))
    ]


async def test_album_report_appears_when_its_jobs_finish(
    api, client_token, auth, upload_bytes, db_session, measured
):
    ids = [await new_job(api, client_token, auth, upload_bytes) for _ in range(3)]
    made = await api.post(
        "/api/albums", json={"job_ids": ids, "name": "My EP"}, headers=auth(client_token)
    )
    assert made.status_code == 201, made.text
    album = made.json()
    assert album["status"] == "pending" and album["report"] is None
    assert [t["job_id"] for t in album["tracks"]] == ids  # track order kept

    for job_id, result in zip(ids[:2], measured[:2], strict=True):
        assert await jobs.start_attempt(db_session, job_id)
        assert await jobs.complete(db_session, job_id, result=result)
    still = (await api.get(f"/api/albums/{album['id']}", headers=auth(client_token))).json()
    assert still["status"] == "pending" and still["report"] is None
    assert await jobs.fail(db_session, ids[2], code="unsupported_format", message="not audio")

    body = (await api.get(f"/api/albums/{album['id']}", headers=auth(client_token))).json()
    assert body["status"] == "completed" and body["name"] == "My EP"
    report = body["report"]
    # The failed track is listed, not measured; the others are in album order.
    assert [t["report_index"] for t in body["tracks"]] == [0, 1, None]
    assert body["tracks"][2]["error"] == {"code": "unsupported_format", "message": "not audio"}
    assert len(report["tracks"]) == 2
    assert report["tracks"][1]["values"]["integrated_lufs"] == pytest.approx(
        measured[1]["loudness"]["integrated_lufs"], abs=0.001
    )
    # Two tracks 6 LU apart: each 3 LU from their median, neither over the 3 LU limit.
    assert report["tracks"][1]["deviation"]["integrated_lufs"] == pytest.approx(-3.0, abs=0.05)
    spotify = next(r for r in report["playback"] if r["rule"] == "spotify")
    assert spotify["loudest_index"] == 0
    assert spotify["gain_db"] == pytest.approx(
        -14.0 - measured[0]["loudness"]["integrated_lufs"], abs=0.01
    )
    pt = await api.get(f"/api/albums/{album['id']}?lang=pt-BR", headers=auth(client_token))
    assert "O Spotify, tocando o álbum" in pt.json()["report"]["playback"][0]["message"]


async def test_album_rules(api, make_token, auth, upload_bytes, db_session, settings):
    owner, other = await make_token(), await make_token()
    mine = [await new_job(api, owner, auth, upload_bytes) for _ in range(2)]
    theirs = await new_job(api, other, auth, upload_bytes)

    def post(body: dict[str, Any], token: str = owner):
        return api.post("/api/albums", json=body, headers=auth(token))

    assert (await post({"job_ids": mine[:1]})).status_code == 422
    assert (await post({"job_ids": [mine[0], mine[0]]})).status_code == 422
    foreign = await post({"job_ids": [mine[0], theirs]})
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    assert (await post({"job_ids": [mine[0], str(uuid.uuid4())]})).status_code == 404
    assert (await post({"job_ids": mine, "extra": 1})).status_code == 422
    too_many = [str(uuid.uuid4()) for _ in range(settings.album_max_tracks + 1)]
    refused = await post({"job_ids": too_many})
    assert refused.status_code == 422 and "2 to" in refused.json()["error"]["message"]
    assert (await api.post("/api/albums", json={"job_ids": mine})).status_code == 401

    made = (await post({"job_ids": mine, "name": "EP"})).json()
    assert (await api.get(f"/api/albums/{made['id']}", headers=auth(other))).status_code == 404
    listed = (await api.get("/api/albums", headers=auth(owner))).json()["albums"]
    assert [(a["id"], a["name"], a["tracks"]) for a in listed] == [(made["id"], "EP", 2)]
    assert (await api.get("/api/albums", headers=auth(other))).json() == {"albums": []}
    assert (await api.get("/api/albums/not-an-id", headers=auth(owner))).status_code == 404


async def test_album_share_link_opens_the_album_without_a_token_until_revoked(
    api, make_token, auth, upload_bytes, db_session, measured
):
    owner, other = await make_token(), await make_token()
    ids = [await new_job(api, owner, auth, upload_bytes) for _ in range(3)]
    album = (
        await api.post("/api/albums", json={"job_ids": ids, "name": "My EP"}, headers=auth(owner))
    ).json()
    share_path = f"/api/albums/{album['id']}/share"
    # Not while a track runs: there is no report yet.
    refused = await api.post(share_path, headers=auth(owner))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"
    for job_id, result in zip(ids, measured, strict=True):
        assert await jobs.start_attempt(db_session, job_id)
        assert await jobs.complete(db_session, job_id, result=result)
    # Only the owner: another client gets a 404, as for an album that does not exist.
    for method in ("POST", "GET", "DELETE"):
        response = await api.request(method, share_path, headers=auth(other))
        assert response.status_code == 404, (method, response.text)
    assert (await api.get(share_path, headers=auth(owner))).json() == {"link": None}

    made = await api.post(share_path, headers=auth(owner))
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["album_id"] == album["id"] and link["job_id"] is None
    assert link["url"].endswith(f"/r/albums/{link['token']}")
    assert link["api_url"] == f"/api/shared/albums/{link['token']}"
    again = await api.post(share_path, headers=auth(owner))
    assert again.status_code == 200 and again.json()["token"] == link["token"]
    # One of the album's jobs has a link of its own: the two live side by side.
    job_link = (await api.post(f"/api/jobs/{ids[0]}/share", headers=auth(owner))).json()
    assert job_link["token"] != link["token"]

    shared = await api.get(link["api_url"])  # no Authorization header
    assert shared.status_code == 200, shared.text
    body = shared.json()
    owned = (await api.get(f"/api/albums/{album['id']}", headers=auth(owner))).json()
    assert body["report"] == owned["report"] and body["name"] == "My EP"
    # The tracks, without the jobs' ids (the link opens the album only).
    assert [t["filename"] for t in body["tracks"]] == [t["filename"] for t in owned["tracks"]]
    assert all("job_id" not in t for t in body["tracks"]) and "id" not in body
    pt = (await api.get(link["api_url"] + "?lang=pt-BR")).json()
    assert "O Spotify, tocando o álbum" in pt["report"]["playback"][0]["message"]
    # A token opens only its own kind.
    assert (await api.get(f"/api/shared/{link['token']}")).status_code == 404
    assert (await api.get(f"/api/shared/albums/{job_link['token']}")).status_code == 404
    page = await api.get(f"/r/albums/{link['token']}")
    assert page.status_code == 200 and "share.js" in page.text

    assert (await api.delete(share_path, headers=auth(owner))).status_code == 204
    gone = await api.get(link["api_url"])
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert (await api.delete(share_path, headers=auth(owner))).status_code == 404
    # The job's own link is untouched by the album's revocation.
    assert (await api.get(job_link["api_url"])).status_code == 200
    fresh = (await api.post(share_path, headers=auth(owner))).json()
    assert fresh["token"] != link["token"]
    assert (await api.get(fresh["api_url"])).status_code == 200
