"""Ingest a capture made by real tcpdump on loopback, cross-checked with tshark's decoding.

Traffic: TCP connection attempts to a closed port on 127.0.0.1 (a SYN, answered by a RST-ACK).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from iotscope.telescope import ingest
from tests.conftest import require_tool
from tests.pcap.live import wait_ready

pytestmark = pytest.mark.network
PACKETS = 12


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _capture(path: Path, port: int) -> None:
    tcpdump = require_tool("tcpdump")
    cmd = [
        "timeout",
        "30",
        tcpdump,
        "-i",
        "lo",
        "-n",
        "-U",
        "-c",
        str(PACKETS),
        "-w",
        str(path),
        f"tcp and host 127.0.0.1 and port {port}",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(proc, b"listening on")
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            with socket.socket() as s:
                s.connect_ex(("127.0.0.1", port))
            time.sleep(0.05)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _tshark_count(tshark: str, path: Path, display_filter: str) -> int:
    out = subprocess.run(
        [tshark, "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return len(out.stdout.split())


def test_tcpdump_capture_counts_match_tshark(tmp_path: Path) -> None:
    tshark = require_tool("tshark")
    port = _closed_port()
    path = tmp_path / "lo.pcap"
    _capture(path, port)
    result = ingest(path)
    assert result.stats.frames == PACKETS and result.stats.counted == PACKETS
    [local] = result.sightings
    assert str(local.src) == "127.0.0.1" and local.packets == PACKETS
    syns = _tshark_count(tshark, path, "tcp.flags.syn==1 && tcp.flags.ack==0")
    rsts = _tshark_count(tshark, path, "tcp.flags.reset==1")
    assert syns + rsts == PACKETS
    assert local.ports[port] == PACKETS  # SYNs to the port, and the RSTs it answered from
    assert local.targets == 1 and local.mirai_fingerprint == 0.0
