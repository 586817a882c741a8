"""OASIS medallion (a real TAXII 2.1 server, memory backend) as a subprocess on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

COLLECTION = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
USER, PASSWORD = "isp-a", "isp-a-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(folder: Path, port: int) -> Path:
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {
            "title": "test hub", "default": f"{base}/api1/", "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1", "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 100_000_000,
            },
            "status": [],
            "collections": [{
                "id": COLLECTION, "title": "shared C2", "can_read": True, "can_write": True,
                "media_types": ["application/stix+json;version=2.1"], "objects": [], "manifest": [],
            }],
        },
    }  # fmt: skip
    (folder / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(folder / "data.json"),
        },
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": 1000},
    }
    path = folder / "medallion.json"
    path.write_text(json.dumps(config))
    return path


@contextmanager
def medallion(folder: Path) -> Iterator[str]:
    """A running medallion; yields its base URL."""
    exe = shutil.which("medallion") or str(Path(sys.executable).parent / "medallion")
    if not Path(exe).exists():
        pytest.skip("medallion not installed (pip install medallion)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cfg = _config(folder, port)
    proc = subprocess.Popen(
        [exe, "--host", "127.0.0.1", "--port", str(port), str(cfg)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            if proc.poll() is not None:
                raise AssertionError(f"medallion exited with {proc.returncode}")
            try:
                httpx.get(f"{base}/taxii2/", auth=(USER, PASSWORD), timeout=1.0,
                          headers={"Accept": "application/taxii+json;version=2.1"})  # fmt: skip
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise AssertionError("medallion did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
