"""`soundy serve` as a user runs it: the README's curl steps against a real subprocess, then
SIGTERM stops every child process (and the embedded PostgreSQL and Redis) in time."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from pipeline_support import FAST_RECOVERY_ENV, free_port, sine_wav

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
# A stereo 1 kHz sine of peak -20 dBFS reads -20 + 0.6977 - 0.691 LUFS at 48 kHz (BS.1770).
EXPECTED_LUFS = -19.993
STOP_BUDGET_S = 20.0


def _readme_api_block() -> str:
    """The README's shell block with the curl calls (the quick start's API example)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    for block in blocks:
        if "/api/clients" in block and "/api/audio/analyze" in block:
            return block
    raise AssertionError("README.md has no shell block with the curl flow")


def _run_readme_flow(base_url: str, workdir: Path) -> tuple[str, str]:
    """Run the README's commands as written (API pointed at ``base_url``); returns
    (token, job id)."""
    (workdir / "track.wav").write_bytes(sine_wav(peak=0.1, duration_s=3.0))
    script = (
        _readme_api_block().replace("API=http://127.0.0.1:8000", f"API={base_url}")
        + '\necho\necho "TOKEN=$TOKEN"\necho "JOB=$JOB"\n'
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    values = dict(re.findall(r"^(TOKEN|JOB)=(\S+)$", done.stdout, flags=re.M))
    assert set(values) == {"TOKEN", "JOB"}, done.stdout + done.stderr
    return values["TOKEN"], values["JOB"]


def _poll_completed(base_url: str, token: str, job_id: str, timeout_s: float = 40) -> dict:
    deadline = time.monotonic() + timeout_s
    job: dict = {}
    while time.monotonic() < deadline:
        response = httpx.get(
            f"{base_url}/api/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in ("completed", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job not finished within {timeout_s} s: {job}")


def _processes_mentioning(text: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if text in " ".join(proc.info["cmdline"] or []):
                found.append(proc)
        except psutil.Error:
            continue
    return found


class Serve:
    def __init__(self, env: dict[str, str], port: int, log_path: Path) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in close()
        self.popen = subprocess.Popen(
            [str(Path(sys.executable).with_name("soundy")), "serve", "--port", str(port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_listening(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "Soundy is listening on" in self.output():
                return
            if self.popen.poll() is not None:
                raise AssertionError(f"serve exited {self.popen.returncode}:\n{self.output()}")
            time.sleep(0.1)
        raise AssertionError(f"serve did not start within {timeout_s} s:\n{self.output()}")

    def family(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.popen.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def close(self) -> None:
        for proc in self.family():
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        self._log.close()


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator:
    started: list[Serve] = []

    def _start(env: dict[str, str]) -> Serve:
        serve = Serve(env, free_port(), tmp_path / f"serve-{len(started)}.log")
        started.append(serve)
        return serve

    yield _start
    for serve in started:
        serve.close()


def _stop_and_check(serve: Serve, data_dir: Path) -> None:
    family = serve.family()
    assert len(family) >= 4  # serve, api, 2 workers (+ their analysis processes)
    started_s = time.monotonic()
    serve.popen.send_signal(signal.SIGTERM)
    assert serve.popen.wait(STOP_BUDGET_S + 5) == 0, serve.output()
    assert time.monotonic() - started_s < STOP_BUDGET_S
    _gone, alive = psutil.wait_procs(family, timeout=2)
    assert not alive, [p.pid for p in alive]
    # Nothing started for this data dir is left (embedded postgres/redis included).
    assert _processes_mentioning(str(data_dir)) == []
    assert "Soundy stopped." in serve.output()


def test_readme_flow_against_the_machine_services_then_sigterm_stops_everything(
    serve_factory, soundy_env, settings, tmp_path
):
    # Set as an operator may have it for standalone workers: serve's two workers must ignore
    # it (the API's /metrics adds up their samples), not both try to bind it.
    worker_metrics_port = free_port()
    serve = serve_factory(
        {**soundy_env, **FAST_RECOVERY_ENV, "SOUNDY_WORKER_METRICS_PORT": str(worker_metrics_port)}
    )
    serve.wait_listening()
    out = serve.output()
    assert "embedded" not in out.split("Soundy is listening on")[1]

    token, job_id = _run_readme_flow(serve.base_url, tmp_path)
    job = _poll_completed(serve.base_url, token, job_id)
    assert job["status"] == "completed", job
    assert job["result"]["loudness"]["integrated_lufs"] == pytest.approx(EXPECTED_LUFS, abs=0.1)
    assert job["genre"] == "trap"
    metrics = httpx.get(f"{serve.base_url}/metrics").text
    assert "soundy_jobs_completed_total 1.0" in metrics  # counted by a worker, shown by the API
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{worker_metrics_port}/metrics")

    _stop_and_check(serve, settings.data_dir)


@pytest.mark.embedded
def test_readme_flow_in_embedded_mode_then_sigterm_stops_everything(serve_factory):
    # A data dir outside pytest's private (0700) tmp tree: the embedded PostgreSQL runs as its
    # own system user when the tests run as root, and must be able to reach its data.
    data_dir = Path(tempfile.mkdtemp(prefix="soundy-embedded-test-"))
    data_dir.chmod(0o755)
    workdir = data_dir / "work"
    workdir.mkdir()
    try:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SOUNDY_") and key not in ("DATABASE_URL", "REDIS_URL")
        }
        env.update(FAST_RECOVERY_ENV, SOUNDY_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
        serve = serve_factory(env)
        serve.wait_listening()
        summary = serve.output().split("Soundy is listening on")[1]
        assert "PostgreSQL: embedded" in summary and "Redis:      embedded" in summary

        token, job_id = _run_readme_flow(serve.base_url, workdir)
        job = _poll_completed(serve.base_url, token, job_id)
        assert job["status"] == "completed", job
        assert job["result"]["loudness"]["integrated_lufs"] == pytest.approx(EXPECTED_LUFS, abs=0.1)
        assert json.dumps(job["result"])  # JSON-safe
        # On loopback the user at the keyboard is the one client: no monthly quota.
        quota = httpx.get(
            f"{serve.base_url}/api/quota", headers={"Authorization": f"Bearer {token}"}
        )
        assert quota.json()["plan"] == "unlimited", quota.text
        _stop_and_check(serve, data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
