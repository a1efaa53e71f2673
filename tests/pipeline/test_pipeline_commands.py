"""`soundy migrate`, `soundy keys create`, and the commands' refusal without services."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _soundy(
    *args: str, env: dict[str, str], cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundy.cli.main", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrate_is_idempotent(soundy_env):
    for _ in range(2):
        done = _soundy("migrate", env=soundy_env)
        assert done.returncode == 0, done.stderr
        assert "database is up to date" in done.stdout


async def test_keys_create_prints_a_token_the_api_accepts(soundy_env, api):
    done = _soundy("keys", "create", "ci-uploader", env=soundy_env)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert len(token) >= 32 and "\n" not in token
    response = await api.get("/api/jobs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["jobs"] == []


@pytest.mark.parametrize("command", [["worker"], ["api"], ["keys", "create", "x"]])
def test_parts_refuse_to_start_without_their_services(command, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SOUNDY_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env["SOUNDY_DATA_DIR"] = str(tmp_path)
    done = _soundy(*command, env=env, cwd=str(tmp_path))  # cwd: no stray .env file
    assert done.returncode != 0
    assert "SOUNDY_DATABASE_URL" in done.stderr
