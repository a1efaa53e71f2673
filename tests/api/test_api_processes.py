"""``soundy api --processes N``: N API processes serve one port (uvicorn's supervisor), each
with its own app; SIGTERM stops them all. Real processes on a loopback port."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import psutil

from private_services import free_port, wait_until

SOUNDY_API = [sys.executable, "-m", "soundy.cli.main", "api"]


def _listening(process: psutil.Process, port: int) -> bool:
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr.port == port
        for c in process.net_connections(kind="tcp")
    )


async def test_two_api_processes_serve_one_port(soundy_env, tmp_path, make_token, auth):
    port = free_port()
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        api = subprocess.Popen(
            [*SOUNDY_API, "--port", str(port), "--processes", "2"],
            env=soundy_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def servers() -> list[psutil.Process]:
        return [p for p in psutil.Process(api.pid).children() if _listening(p, port)]

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        running = lambda: api.poll() is None  # noqa: E731
        wait_until(ready, timeout_s=60, what="soundy api --processes 2", alive=running)
        wait_until(lambda: len(servers()) == 2, timeout_s=30, what="its processes", alive=running)
        token = await make_token()
        # New connections each (no keep-alive): whichever process takes one serves it.
        for _ in range(20):
            async with httpx.AsyncClient(base_url=base) as http:
                response = await http.get("/api/jobs", headers=auth(token))
                assert response.status_code == 200, response.text
        children = servers()
    finally:
        api.send_signal(signal.SIGTERM)
        code = api.wait(timeout=60)
    assert code == 0, log.read_text()[-2000:]
    assert not any(
        child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children
    )
