"""Share links: the owner makes one read-only link per completed job, anyone opens it without a
token, the owner revokes it and it stops working for good."""

from __future__ import annotations

import asyncio
import uuid

from soundy import jobs


async def completed_job(api, token, auth, upload_bytes, db_session, result) -> str:
    file_key = await upload_bytes(api, token, b"0123456789")
    response = await api.post(
        "/api/audio/analyze", json={"file_key": file_key, "genre": "trap"}, headers=auth(token)
    )
    assert response.status_code == 202, response.text
    job_id = str(response.json()["job"]["id"])
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=result)
    return job_id


async def test_share_link_opens_the_report_without_a_token_until_revoked(
    api, client_token, auth, upload_bytes, db_session, analysis_result
):
    job_id = await completed_job(api, client_token, auth, upload_bytes, db_session, analysis_result)
    none = await api.get(f"/api/jobs/{job_id}/share", headers=auth(client_token))
    assert none.status_code == 200 and none.json() == {"link": None}

    made = await api.post(f"/api/jobs/{job_id}/share", headers=auth(client_token))
    assert made.status_code == 201, made.text
    link = made.json()
    assert len(link["token"]) >= 32 and link["url"].endswith(f"/r/{link['token']}")
    # Asking again returns the same live link (200), as does GET.
    again = await api.post(f"/api/jobs/{job_id}/share", headers=auth(client_token))
    assert again.status_code == 200 and again.json()["token"] == link["token"]
    got = await api.get(f"/api/jobs/{job_id}/share", headers=auth(client_token))
    assert got.json()["link"]["token"] == link["token"]

    shared = await api.get(link["api_url"])  # no Authorization header
    assert shared.status_code == 200, shared.text
    body = shared.json()
    owned = (await api.get(f"/api/jobs/{job_id}", headers=auth(client_token))).json()
    assert body["job"]["result"] == owned["result"]  # the same report, comparison included
    assert body["job"]["result"]["score"]["overall"] == owned["result"]["score"]["overall"]
    # Only the report: not the owner's upload key, attempts or error fields.
    assert "file_key" not in body["job"] and "attempts" not in body["job"]
    assert body["reference"] is None
    # The language can be chosen, as for the owner.
    pt = (await api.get(link["api_url"] + "?lang=pt-BR")).json()
    assert (
        pt["job"]["result"]["suggestions"] != body["job"]["result"]["suggestions"]
        or not (body["job"]["result"]["suggestions"])
    )
    # The page for people.
    page = await api.get(f"/r/{link['token']}")
    assert page.status_code == 200 and "share.js" in page.text

    assert (
        await api.delete(f"/api/jobs/{job_id}/share", headers=auth(client_token))
    ).status_code == 204
    gone = await api.get(link["api_url"])
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert (
        await api.delete(f"/api/jobs/{job_id}/share", headers=auth(client_token))
    ).status_code == 404
    # A new link is a new token; the revoked one never comes back.
    fresh = (await api.post(f"/api/jobs/{job_id}/share", headers=auth(client_token))).json()
    assert fresh["token"] != link["token"]
    assert (await api.get(link["api_url"])).status_code == 404
    assert (await api.get(fresh["api_url"])).status_code == 200


async def test_only_the_owner_shares_and_only_a_completed_job(
    api, make_token, auth, upload_bytes, db_session, analysis_result
):
    owner, other = await make_token(), await make_token()
    job_id = await completed_job(api, owner, auth, upload_bytes, db_session, analysis_result)
    for method in ("POST", "GET", "DELETE"):
        response = await api.request(method, f"/api/jobs/{job_id}/share", headers=auth(other))
        assert response.status_code == 404, (method, response.text)
    assert (await api.post(f"/api/jobs/{job_id}/share")).status_code == 401

    file_key = await upload_bytes(api, owner, b"0123456789")
    pending = (
        await api.post("/api/audio/analyze", json={"file_key": file_key}, headers=auth(owner))
    ).json()["job"]["id"]
    refused = await api.post(f"/api/jobs/{pending}/share", headers=auth(owner))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "conflict"

    for token in ("x" * 32, "a" * 500, str(uuid.uuid4())):
        assert (await api.get(f"/api/shared/{token}")).status_code == 404


async def test_two_share_requests_at_once_get_one_link(
    api, client_token, auth, upload_bytes, db_session, analysis_result
):
    job_id = await completed_job(api, client_token, auth, upload_bytes, db_session, analysis_result)
    responses = await asyncio.gather(
        *(api.post(f"/api/jobs/{job_id}/share", headers=auth(client_token)) for _ in range(4))
    )
    assert {r.status_code for r in responses} <= {200, 201}
    assert len({r.json()["token"] for r in responses}) == 1


async def test_a_share_link_starts_with_the_public_url_not_the_host_header(
    api, make_api, client_token, auth, upload_bytes, db_session, analysis_result
):
    job_id = await completed_job(api, client_token, auth, upload_bytes, db_session, analysis_result)
    headers = {**auth(client_token), "Host": "evil.example"}
    public = await make_api(public_url="https://soundy.example.com/")
    made = await public.post(f"/api/jobs/{job_id}/share", headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["url"] == f"https://soundy.example.com/r/{made.json()['token']}"
    got = await public.get(f"/api/jobs/{job_id}/share", headers=headers)
    assert got.json()["link"]["url"] == made.json()["url"]
