"""``soundy keys create NAME --plan P``, ``soundy keys list`` and ``soundy keys revoke ID`` as
real commands on the test database, checked through the API; and ``soundy serve`` on a loopback
address puts its API on the unlimited plan."""

from __future__ import annotations

import json
import subprocess
import sys

from soundy.cli._serve import _child_env


def _soundy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundy.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _keys(env: dict[str, str]) -> dict[str, dict]:
    done = _soundy("keys", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    return {row["name"]: row for row in map(json.loads, done.stdout.splitlines())}


async def test_a_key_on_a_plan_then_revoked(soundy_env, api, auth, upload_bytes):
    created = _soundy("keys", "create", "label-uploader", "--plan", "pro", env=soundy_env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert len(token) >= 32 and "\n" not in token
    assert "pro plan" in created.stderr and "shown only now" in created.stderr

    quota = await api.get("/api/quota", headers=auth(token))
    assert quota.status_code == 200, quota.text
    assert (quota.json()["plan"], quota.json()["analyses_per_month"]) == ("pro", 60)
    file_key = await upload_bytes(api, token, b"0123456789")
    job = await api.post("/api/audio/analyze", json={"file_key": file_key}, headers=auth(token))
    assert job.status_code == 202
    assert (job.headers["x-quota-plan"], job.headers["x-quota-remaining"]) == ("pro", "59")

    key = _keys(soundy_env)["label-uploader"]
    assert (key["plan"], key["analyses_this_month"], key["revoked_at"]) == ("pro", 1, None)
    table = _soundy("keys", "list", env=soundy_env)
    assert key["id"] in table.stdout and "1/60" in table.stdout

    revoked = _soundy("keys", "revoke", key["id"], env=soundy_env)
    assert revoked.returncode == 0, revoked.stderr
    refused = await api.get("/api/jobs", headers=auth(token))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    assert "revoked" in refused.json()["error"]["message"]
    assert _keys(soundy_env)["label-uploader"]["revoked_at"] is not None
    again = _soundy("keys", "revoke", key["id"], env=soundy_env)
    assert again.returncode == 1 and "already revoked" in again.stderr


def test_keys_refuse_unknown_plans_and_ids(soundy_env):
    done = _soundy("keys", "create", "x", "--plan", "gold", env=soundy_env)
    assert done.returncode == 1
    assert "unknown plan 'gold'" in done.stderr and "studio" in done.stderr
    assert done.stdout == ""  # no token printed for a key that was not made
    assert "x" not in _keys(soundy_env)
    bad = _soundy("keys", "revoke", "not-an-id", env=soundy_env)
    assert bad.returncode == 1 and "not a key id" in bad.stderr


def test_serve_on_loopback_is_unlimited_unless_configured(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("SOUNDY_DEFAULT_PLAN")  # the test settings' own; the shipped default
    loopback = settings.model_copy(update={"default_plan": None, "host": "127.0.0.1"})
    for host in ("127.0.0.1", "::1", "localhost"):
        env = _child_env(loopback.model_copy(update={"host": host}), str(tmp_path))
        assert env["SOUNDY_DEFAULT_PLAN"] == "unlimited"
    # Reachable from other machines: the shipped default (free) stays.
    public = loopback.model_copy(update={"host": "0.0.0.0"})
    assert "SOUNDY_DEFAULT_PLAN" not in _child_env(public, str(tmp_path))
    # An operator's choice wins on loopback too (the children read it from the environment).
    monkeypatch.setenv("SOUNDY_DEFAULT_PLAN", "plus")
    chosen = loopback.model_copy(update={"default_plan": "plus"})
    assert _child_env(chosen, str(tmp_path))["SOUNDY_DEFAULT_PLAN"] == "plus"
