"""``soundy serve``: embedded services when needed, migrations, the API and N workers as child
processes, supervised; Ctrl-C or SIGTERM stops all of it within ``SERVE_STOP_BUDGET_S``.

Children run in their own sessions (a terminal's Ctrl-C reaches only ``serve``, which stops them
in order) and get SIGTERM if ``serve`` itself dies (Linux ``PR_SET_PDEATHSIG``). A child that
exits on its own is started again after a second; one that keeps dying (more than
``_MAX_RESTARTS`` times a minute) stops the whole service with exit code 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from soundy.db.migrate import run_migrations

if TYPE_CHECKING:
    from soundy.config import Settings
    from soundy.embedded import EmbeddedServices

__all__ = ["SERVE_STOP_BUDGET_S", "run_serve"]

log = logging.getLogger("soundy.serve")

# Seconds from Ctrl-C/SIGTERM until everything has stopped: children get SIGTERM, then SIGKILL
# after _CHILD_STOP_S; the embedded servers get the rest.
SERVE_STOP_BUDGET_S = 20.0
_CHILD_STOP_S = 13.0
# Worker children get this long to finish running jobs before handing them back to the queue.
_WORKER_GRACE_S = 9.0
_MAX_RESTARTS = 5
_RESTART_WINDOW_S = 60.0
_READY_TIMEOUT_S = 60.0


def _parent_death_signal() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


@dataclass
class _Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        self.starts = [t for t in self.starts if time.monotonic() - t < _RESTART_WINDOW_S]
        self.starts.append(time.monotonic())
        self.process = subprocess.Popen(
            self.argv,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_parent_death_signal,
        )
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if sig == signal.SIGKILL:
                # The whole group: a worker's analysis processes too.
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)


def _child_env(settings: Settings, metrics_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    assert settings.database_url is not None and settings.redis_url is not None
    env.update(
        SOUNDY_DATABASE_URL=settings.database_url,
        SOUNDY_REDIS_URL=settings.redis_url,
        SOUNDY_DATA_DIR=str(settings.data_dir),
        SOUNDY_STORAGE_URL=settings.resolved_storage_url,
        SOUNDY_WORKER_SHUTDOWN_GRACE_S=str(min(settings.worker_shutdown_grace_s, _WORKER_GRACE_S)),
        PROMETHEUS_MULTIPROC_DIR=metrics_dir,
        PYTHONUNBUFFERED="1",
    )
    if settings.default_plan is None and _is_loopback(settings.host):
        # Only this machine can reach the API: its user is the one client, and is not held to
        # the free plan's one analysis a month. SOUNDY_DEFAULT_PLAN, when set, still wins.
        env["SOUNDY_DEFAULT_PLAN"] = "unlimited"
    return env


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _wait_ready(url: str, api: _Child, stop: threading.Event) -> bool:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline and not stop.is_set():
        if not api.alive():
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        stop.wait(0.2)
    return False


def _say(message: str) -> None:
    print(message, flush=True)


def run_serve(settings: Settings, *, workers: int) -> int:
    """Run the whole service until Ctrl-C/SIGTERM; returns the exit code."""
    stop = threading.Event()
    reason: list[str] = []

    def _on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if not stop.is_set():
            reason.append(name)
            stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    services: EmbeddedServices | None = None
    metrics_dir = tempfile.mkdtemp(prefix="soundy-metrics-")
    children: list[_Child] = []
    code = 0
    try:
        if settings.database_url is None or settings.redis_url is None:
            # Only in embedded mode: its wheels are the optional 'embedded' extra.
            from soundy.embedded import start_embedded

            _say(f"Starting embedded services under {settings.data_dir} ...")
            services = start_embedded(settings)
            settings = settings.model_copy(update=services.urls())
        if stop.is_set():
            return 0
        assert settings.database_url is not None
        run_migrations(settings.database_url)
        if stop.is_set():
            return 0
        env = _child_env(settings, metrics_dir)
        python = [sys.executable, "-m", "soundy.cli.main"]
        api = _Child("api", [*python, "api", "--host", settings.host, "--port", str(settings.port)])
        children = [api] + [
            _Child(f"worker {i + 1}", [*python, "worker", "--concurrency", "1"])
            for i in range(workers)
        ]
        for child in children:
            child.start(env)
        local_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        base_url = f"http://{local_host}:{settings.port}"
        if _wait_ready(f"{base_url}/healthz", api, stop):
            _say(f"Soundy is listening on http://{settings.host}:{settings.port}")
            _say(
                "  PostgreSQL: "
                + ("embedded, " if services and services.postgres else "")
                + _redact(settings.database_url)
            )
            _say(
                "  Redis:      "
                + ("embedded, " if services and services.redis else "")
                + _redact(settings.redis_url or "")
            )
            _say(f"  Storage:    {settings.resolved_storage_url}")
            _say(f"  Workers:    {workers} process(es), one analysis at a time each")
            _say("  Press Ctrl-C to stop.")
        elif not stop.is_set():
            _say("soundy: the API did not start; see the messages above")
            reason.append("the API did not start")
            code = 1
            stop.set()
        while not stop.wait(0.5):
            for child in children:
                if child.alive():
                    continue
                status = child.process.returncode if child.process else None
                if len(child.starts) >= _MAX_RESTARTS and (
                    time.monotonic() - child.starts[0] < _RESTART_WINDOW_S
                ):
                    log.error("%s keeps exiting (last status %s); stopping", child.name, status)
                    reason.append(f"{child.name} kept exiting")
                    code = 1
                    stop.set()
                    break
                log.warning("%s exited with status %s; starting it again", child.name, status)
                stop.wait(1.0)
                if not stop.is_set():
                    child.start(env)
        _say(f"Stopping ({', '.join(reason) or 'stop requested'}) ...")
        return code
    finally:
        # Stop: SIGTERM to every child, SIGKILL after _CHILD_STOP_S, then the embedded servers
        # with what is left of SERVE_STOP_BUDGET_S.
        stop_started_s = time.monotonic()
        for child in children:
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + _CHILD_STOP_S
        while any(child.alive() for child in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        for child in children:
            if child.alive():
                log.warning("%s did not stop in time; killing it", child.name)
            child.signal(signal.SIGKILL)
            if child.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(2)
        if services is not None:
            left_s = SERVE_STOP_BUDGET_S - (time.monotonic() - stop_started_s) - 1.0
            services.stop(timeout_s=max(1.0, left_s))
        shutil.rmtree(metrics_dir, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if children or services:
            _say("Soundy stopped.")


def _redact(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
