"""POST /api/clients gives a working token, stores only its hash, and is rate limited per IP."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from soundy.db.models import Client


async def test_new_client_token_authenticates_and_only_its_hash_is_stored(api, db_session):
    response = await api.post("/api/clients")
    assert response.status_code == 201
    token = response.json()["token"]
    assert len(token) >= 40
    listed = await api.get("/api/jobs", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.json()["jobs"] == []
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = (await db_session.execute(select(Client).where(Client.token_hash == digest))).scalar_one()
    assert token not in {row.token_hash, row.name}


async def test_tokens_are_distinct(api):
    tokens = {(await api.post("/api/clients")).json()["token"] for _ in range(3)}
    assert len(tokens) == 3


async def test_client_creation_is_rate_limited_per_ip(make_api):
    api = await make_api(clients_per_ip_per_hour=3)
    statuses = [(await api.post("/api/clients")).status_code for _ in range(3)]
    assert statuses == [201, 201, 201]
    refused = await api.post("/api/clients")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "3" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= 3600


async def test_keys_helper_creates_a_named_key(db_session, api):
    from soundy.api.auth import create_client, hash_token

    token = await create_client(db_session, name="ci-bot", is_key=True)
    row = (
        await db_session.execute(select(Client).where(Client.token_hash == hash_token(token)))
    ).scalar_one()
    assert (row.name, row.is_key) == ("ci-bot", True)
    listed = await api.get("/api/jobs", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
