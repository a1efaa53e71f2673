"""schemathesis over the API's own /openapi.json, with a valid token: its examples, coverage,
fuzzing and stateful phases (links between operations: create an upload, PUT it, analyse it,
read the job) find no 500 and no response that breaks the schema (status code, content type,
headers, body). A real uvicorn on a loopback port; the schemathesis CLI in a subprocess.
~60-90 s on this machine."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    make_live_url, make_token, tmp_path: Path
):
    base = await make_live_url(
        # The run sends thousands of requests from one client and one address.
        requests_per_client_per_minute=1_000_000,
        clients_per_ip_per_hour=1_000_000,
        max_jobs_in_flight_per_client=1_000_000,
        max_uploads_in_flight_per_client=1_000_000,
    )
    token = await make_token()
    # Data for the operations that need an existing resource: an uploaded file and its job
    # (pending: no worker runs here), so generated requests reach more than 404s.
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as h:
        grant = (await h.post("/api/uploads", json={"filename": "a.wav", "size": 4})).json()
        assert (await h.put(grant["upload_url"], content=b"RIFF")).status_code == 200
        analyzed = await h.post("/api/audio/analyze", json={"file_key": grant["file_key"]})
        job_id = analyzed.json()["job"]["id"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        f'[parameters]\n"path.job_id" = "{job_id}"\n"body.file_key" = "{grant["file_key"]}"\n'
    )
    schemathesis = Path(sys.executable).with_name("schemathesis")
    process = await asyncio.create_subprocess_exec(
        str(schemathesis),
        "--config-file",
        str(config),
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "25",
        "--seed",
        "20261203",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        # An event stream lasts until its job ends, and no worker runs here.
        "--exclude-path-regex",
        "/events$",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    print(text[-4000:])  # the summary, in the test log
    assert process.returncode == 0, text[-20000:]
