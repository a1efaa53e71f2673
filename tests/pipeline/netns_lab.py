"""Hosts for the across-hosts test: one Linux network namespace per host, each with its own
address on a private /24, joined by a bridge (like machines on one switch).

Only addresses of these namespaces are ever used: the bridge, in this machine's own namespace,
holds ``<net>.1`` so that the test process can reach the hosts; it is attached to no physical
interface, and the namespaces have no route but their /24, so no packet leaves the machine.

- :meth:`Lab.cut` takes a host off the network (its cable pulled: the bridge side of its veth
  pair goes down; its connections hang), :meth:`Lab.restore` plugs it back in.
- :meth:`Lab.cut_between` drops what one host sends to another (a blackhole route on the
  sender: its connections to that host hang), :meth:`Lab.join` undoes it.
- Everything is removed on :meth:`Lab.close` (the processes still in the namespaces, the
  veth pairs, the namespaces, the bridge and :attr:`Lab.workdir`), and a lab left by a run that
  died (its process gone) is removed by the next one.

Names carry the pid of the run (``sy<pid>b`` for the bridge, ``sy<pid>-<host>`` for the
namespaces), so two runs at once do not meet; the /24 is ``10.77.<n>.0/24``, the first n from
``pid % 250 + 1`` that no interface here uses.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = ["Host", "Lab", "LabRefused", "lab_refusal"]


class LabRefused(RuntimeError):
    """The kernel or the machine does not allow network namespaces here."""


def _ip(*args: str, netns: str | None = None) -> None:
    command = ["ip", *(["-n", netns] if netns else []), *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)


def lab_refusal() -> str | None:
    """Why namespaces cannot be made here (None when they can): no root, no ``ip``, or the
    kernel refusing ``ip netns add`` or a veth pair."""
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    probe = f"sy{os.getpid()}-probe"
    try:
        _ip("netns", "add", probe)
        try:
            _ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1", netns=probe)
        finally:
            _ip("netns", "del", probe)
    except subprocess.CalledProcessError as exc:
        return f"the kernel refuses network namespaces here: {' '.join(exc.cmd)}: {exc.stderr}"
    return None


@dataclass(frozen=True)
class Host:
    name: str
    netns: str
    ip: str
    # The bridge side of the host's veth pair (in this machine's namespace).
    outside: str


@dataclass
class Lab:
    tag: str = field(default_factory=lambda: f"sy{os.getpid()}")
    hosts: dict[str, Host] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.net = _free_net(os.getpid() % 250 + 1)
        self.bridge = f"{self.tag}b"
        # Files of the hosts (data, logs): removed with the lab.
        self.workdir = _workdir(self.tag)

    # -- building ---------------------------------------------------------------------------
    def open(self) -> Lab:
        remove_stale_labs()
        self.workdir.mkdir(exist_ok=True)
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.net}.1/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
        except subprocess.CalledProcessError as exc:
            self.close()
            raise LabRefused(f"{' '.join(exc.cmd)}: {exc.stderr}") from exc
        return self

    def add_host(self, name: str) -> Host:
        """A namespace ``<tag>-<name>`` with ``eth0`` at the next address, plugged in."""
        host = Host(
            name=name,
            netns=f"{self.tag}-{name}",
            ip=f"{self.net}.{len(self.hosts) + 2}",
            outside=f"{self.tag}h{len(self.hosts)}",
        )
        self.hosts[name] = host
        _ip("netns", "add", host.netns)
        _ip(
            "link", "add", host.outside, "type", "veth", "peer", "name", "eth0", "netns", host.netns
        )
        _ip("addr", "add", f"{host.ip}/24", "dev", "eth0", netns=host.netns)
        _ip("link", "set", "eth0", "up", netns=host.netns)
        _ip("link", "set", "lo", "up", netns=host.netns)
        _ip("link", "set", host.outside, "master", self.bridge)
        _ip("link", "set", host.outside, "up")
        return host

    # -- faults -----------------------------------------------------------------------------
    def cut(self, name: str) -> None:
        _ip("link", "set", self.hosts[name].outside, "down")

    def restore(self, name: str) -> None:
        _ip("link", "set", self.hosts[name].outside, "up")

    def cut_between(self, sender: str, receiver: str) -> None:
        host = self.hosts[sender]
        _ip("route", "add", "blackhole", f"{self.hosts[receiver].ip}/32", netns=host.netns)

    def join(self, sender: str, receiver: str) -> None:
        host = self.hosts[sender]
        _ip("route", "del", "blackhole", f"{self.hosts[receiver].ip}/32", netns=host.netns)

    # -- removing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Kill what still runs in the namespaces, delete them and the bridge."""
        remove_lab(self.tag)

    def __enter__(self) -> Lab:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _free_net(first: int) -> str:
    """``10.77.<n>`` for the first n from ``first`` that no interface here uses (another run's
    lab, at once)."""
    done = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True)
    used = set(re.findall(r"inet 10\.77\.(\d+)\.", done.stdout))
    for n in [*range(first, 251), *range(1, first)]:
        if str(n) not in used:
            return f"10.77.{n}"
    raise LabRefused("every 10.77.<n>.0/24 is in use here")


def _namespaces() -> list[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def remove_lab(tag: str) -> None:
    # The cables first: a namespace lives on while sockets of it linger (TIME_WAIT, or a
    # connection that could not close across a cut), and its veth pair with it.
    done = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    for name in re.findall(rf"^\d+: ({tag}h\d+)@", done.stdout, flags=re.M):
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", name)
    for netns in _namespaces():
        if netns.startswith(f"{tag}-"):
            done = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True)
            for pid in done.stdout.split():
                with contextlib.suppress(psutil.Error):
                    psutil.Process(int(pid)).kill()
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", netns)
    with contextlib.suppress(subprocess.CalledProcessError):
        _ip("link", "del", f"{tag}b")
    shutil.rmtree(_workdir(tag), ignore_errors=True)


def _workdir(tag: str) -> Path:
    return Path(tempfile.gettempdir()) / f"soundy-lab-{tag}"


def remove_stale_labs() -> None:
    """Remove the labs of runs whose process is gone (a run killed before its clean-up)."""
    done = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    names = [*_namespaces(), *re.findall(r"^\d+: (sy\d+[bh]\d*)[@:]", done.stdout, flags=re.M)]
    tags = {m.group(1) for n in names if (m := re.match(r"(sy(\d+))[-bh]", n))}
    for tag in tags:
        if not _running(int(tag[2:])):
            remove_lab(tag)


def _running(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
