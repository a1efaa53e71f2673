"""``soundy share create | list | revoke`` as real commands on the test database: the link it
prints opens the report through the API without a token, in the language asked for, until it is
revoked; an album is shared the same way; a job that is not completed is refused."""

from __future__ import annotations

import json
import subprocess
import sys

from api_jobs import new_job
from soundy import jobs
from soundy.jobs.shares import MAX_TOKEN_CHARS, new_token


def _soundy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundy.cli.main", "share", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _completed(api, token, auth, upload_bytes, db_session, result) -> str:
    job_id = await new_job(api, token, auth, upload_bytes)
    assert await jobs.start_attempt(db_session, job_id)
    assert await jobs.complete(db_session, job_id, result=result)
    return job_id


async def test_share_a_job_from_the_command_line_then_revoke_it(
    soundy_env, api, client_token, auth, upload_bytes, db_session, analysis_result
):
    job_id = await _completed(api, client_token, auth, upload_bytes, db_session, analysis_result)
    env = {**soundy_env, "SOUNDY_PUBLIC_URL": "https://soundy.example.com/"}
    made = _soundy("create", job_id, env=env)
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip()
    assert url.startswith("https://soundy.example.com/r/") and "\n" not in url
    token = url.rsplit("/", 1)[-1]
    assert "read-only link" in made.stderr and f"soundy share revoke {token}" in made.stderr
    # The link is the owner's link: the API and the page see the same one.
    owned = (await api.get(f"/api/jobs/{job_id}/share", headers=auth(client_token))).json()
    assert owned["link"]["token"] == token
    shared = await api.get(f"/api/shared/{token}")  # no token
    assert shared.status_code == 200 and shared.json()["job"]["id"] == job_id

    # Asked again, in Portuguese: the same live link, opening the page in Portuguese.
    again = _soundy("create", job_id, "--lang", "pt-BR", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{url}?lang=pt-BR"
    assert "O link ativo" in again.stderr and "qualquer pessoa" in again.stderr
    # Without SOUNDY_PUBLIC_URL only the path, and the reason why.
    bare = {k: v for k, v in soundy_env.items() if k != "SOUNDY_PUBLIC_URL"}
    path_only = _soundy("create", job_id, "--json", env=bare)
    assert path_only.returncode == 0, path_only.stderr
    document = json.loads(path_only.stdout)
    assert document["url"] == f"/r/{token}" and document["job_id"] == job_id
    assert "SOUNDY_PUBLIC_URL is not set" in path_only.stderr

    listed = _soundy("list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["token"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert rows[token]["job_id"] == job_id and rows[token]["revoked_at"] is None
    table = _soundy("list", "--lang", "pt-BR", env=env)
    assert "relatório de" in table.stdout and token in table.stdout

    # Revoked by pasting the whole link back: the API says it is gone, for good.
    revoked = _soundy("revoke", f"{url}?lang=pt-BR", env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert "Revoked" in revoked.stdout and job_id in revoked.stdout
    assert (await api.get(f"/api/shared/{token}")).status_code == 404
    assert (await api.get(f"/api/jobs/{job_id}/share", headers=auth(client_token))).json() == {
        "link": None
    }
    twice = _soundy("revoke", token, "--lang", "pt-BR", env=env)
    assert twice.returncode == 1 and "no live share link" in twice.stderr
    assert token not in _soundy("list", env=env).stdout
    everything = _soundy("list", "--all", "--json", env=env)
    gone = [row for row in map(json.loads, everything.stdout.splitlines()) if row["token"] == token]
    assert len(gone) == 1 and gone[0]["revoked_at"] is not None


async def test_share_an_album_and_refuse_what_cannot_be_shared(
    soundy_env, api, client_token, auth, upload_bytes, db_session, analysis_result
):
    ids = [
        await _completed(api, client_token, auth, upload_bytes, db_session, analysis_result)
        for _ in range(2)
    ]
    album = (
        await api.post(
            "/api/albums", json={"job_ids": ids, "name": "Demo EP"}, headers=auth(client_token)
        )
    ).json()
    made = _soundy("create", "--album", album["id"], "--lang", "pt-BR", env=soundy_env)
    assert made.returncode == 0, made.stderr
    assert "/r/albums/" in made.stdout and made.stdout.strip().endswith("?lang=pt-BR")
    assert "álbum" in made.stderr and "Demo EP" in made.stderr
    token = made.stdout.strip().split("?")[0].rsplit("/", 1)[-1]
    shared = await api.get(f"/api/shared/albums/{token}")
    assert shared.status_code == 200 and shared.json()["name"] == "Demo EP"
    # The job id given as an album's, and the other way round, are not found.
    assert _soundy("create", "--album", ids[0], env=soundy_env).returncode == 1
    wrong = _soundy("create", album["id"], env=soundy_env)
    assert wrong.returncode == 1 and "no job" in wrong.stderr

    pending = await new_job(api, client_token, auth, upload_bytes)
    refused = _soundy("create", pending, env=soundy_env)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "only a completed job's report can be shared" in refused.stderr
    bad = _soundy("create", "not-an-id", env=soundy_env)
    assert bad.returncode == 1 and "not a job id" in bad.stderr
    assert _soundy("create", ids[0], "--lang", "fr", env=soundy_env).returncode == 1

    assert _soundy("revoke", token, env=soundy_env).returncode == 0
    assert (await api.get(f"/api/shared/albums/{token}")).status_code == 404


def test_a_share_token_never_starts_like_an_option() -> None:
    # "soundy share revoke -gLb…" was an unknown option to the command line (a flaky exit 2).
    tokens = [new_token() for _ in range(2000)]
    assert not any(t.startswith("-") for t in tokens)
    assert len(set(tokens)) == len(tokens) and all(32 == len(t) <= MAX_TOKEN_CHARS for t in tokens)
