"""``iotscope lab up`` as a child process: readiness by manifest, clean shutdown."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from iotscope.errors import ConfigError
from iotscope.lab import LabProcess, build_world
from tests.lab.labkit import CATALOG_FILE, test_catalog

pytestmark = pytest.mark.network


def test_lab_up_writes_the_world_then_removes_it(lab_network: str, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    lab = LabProcess(60, 5, lab_network, path, timeout=60, catalog=[CATALOG_FILE])
    with lab:
        expected = build_world(60, 5, lab_network, test_catalog()).manifest
        assert lab.manifest.devices == expected.devices
        assert lab.manifest.isps == expected.isps
        dev = next(d for d in lab.manifest.devices if not d.hostile)
        svc = next(s for s in dev.services if s.transport == "tcp")
        with socket.create_connection((str(dev.ip), svc.port), timeout=5):
            pass
        assert lab.ready_seconds is not None and lab.ready_seconds < 60
    assert not path.exists()  # SIGTERM: clean shutdown removes the manifest
    assert "lab up" in lab.log() or lab.log() == ""


def test_lab_up_refuses_a_network_outside_loopback(tmp_path: Path) -> None:
    lab = LabProcess(5, 1, "10.0.0.0/24", tmp_path / "m.json", timeout=120, catalog=[CATALOG_FILE])
    with pytest.raises(ConfigError, match="exited early") as err:
        lab.start()
    assert "127.0.0.0/8" in str(err.value)
    assert not (tmp_path / "m.json").exists()


def test_manifest_property_before_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        _ = LabProcess(5, 1, "127.150.0.0/24", tmp_path / "m.json").manifest


async def test_sharded_lab_serves_every_device(lab_network: str, tmp_path: Path) -> None:
    """Force the low-limit path (several worker processes) and reach a device of each shard."""
    path = tmp_path / "manifest.json"
    script = (
        "import sys; from pathlib import Path; import iotscope.lab._up as up;"
        "from iotscope.lab import load_catalog_files;"
        "up.raise_open_files = lambda needed: up.HEADROOM * 2 + 256;"  # 256 sockets a shard
        f"up.run_up(120, 3, {lab_network!r}, Path({str(path)!r}),"
        f" load_catalog_files([Path({str(CATALOG_FILE)!r})]))"
    )
    import sys

    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", script)
    try:
        for _ in range(600):
            if path.exists() or proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert path.exists()
        from iotscope.lab import read_manifest

        manifest = read_manifest(path)
        devices = [d for d in manifest.devices if not d.hostile]
        for dev in (devices[0], devices[len(devices) // 2], devices[-1]):
            port = next(s.port for s in dev.services if s.transport == "tcp")
            _, writer = await asyncio.wait_for(asyncio.open_connection(str(dev.ip), port), 5)
            writer.close()
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)
    assert not path.exists()


@pytest.mark.slow
def test_lab_dies_with_its_parent(lab_network: str, tmp_path: Path) -> None:
    """A killed parent (test runner, supervisor) never leaves a lab holding its addresses."""
    import subprocess
    import sys
    import time

    path = tmp_path / "manifest.json"
    script = (
        "import sys, time; from pathlib import Path; from iotscope.lab import LabProcess;"
        f"LabProcess(60, 2, {lab_network!r}, Path({str(path)!r}), 60,"
        f" [Path({str(CATALOG_FILE)!r})]).start();"
        "print('up', flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"up\n"
        assert path.exists()
    finally:
        parent.kill()
        parent.wait()
    end = time.monotonic() + 20
    while path.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert not path.exists()  # the orphan got SIGTERM and shut down cleanly
