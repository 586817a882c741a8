"""Captures made by real tools on loopback (tcpdump: classic pcap; tshark: pcapng), read by
iotscope and cross-checked with dpkt and with tshark's own decoding. Traffic: 127.0.0.1 only."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dpkt
import pytest

from iotscope.pcap import read_frames, udp_payloads
from tests.conftest import require_tool
from tests.pcap.live import wait_ready

pytestmark = pytest.mark.network
COUNT = 5


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


def _capture(cmd: list[str], marker: bytes, port: int) -> list[bytes]:
    """Run the tool and send numbered datagrams every 50 ms until it has its COUNT (<= 15 s).

    A tool may say it is ready a moment before its filter is attached, so early datagrams can
    be missed: callers check that what was captured is a consecutive run of what was sent.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sent: list[bytes] = []
    try:
        wait_ready(proc, marker)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            while proc.poll() is None and len(sent) < 300:
                sent.append(f"iotscope-{len(sent)}".encode())
                tx.sendto(sent[-1], ("127.0.0.1", port))
                time.sleep(0.05)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return sent


def _consecutive(got: list[bytes], sent: list[bytes]) -> bool:
    if len(got) != COUNT or got[0] not in sent:
        return False
    first = sent.index(got[0])
    return got == sent[first : first + COUNT]


def test_tcpdump_nanosecond_pcap_matches_dpkt(tmp_path: Path, receiver: socket.socket) -> None:
    tcpdump = require_tool("tcpdump")
    port = receiver.getsockname()[1]
    path = tmp_path / "lo.pcap"
    cmd = [
        "timeout",
        "30",
        tcpdump,
        "-i",
        "lo",
        "-n",
        "-U",
        "-c",
        str(COUNT),
        "--time-stamp-precision=nano",
        "-w",
        str(path),
        f"udp and dst host 127.0.0.1 and dst port {port}",
    ]
    sent = _capture(cmd, b"listening on", port)
    frames = read_frames(path)
    got = list(udp_payloads(frames))
    assert frames.errors == 0 and _consecutive([bytes(d.payload) for d in got], sent)
    assert {(d.src, d.dst, d.dport) for d in got} == {("127.0.0.1", "127.0.0.1", port)}
    with path.open("rb") as fh:
        reference = [(ts, buf) for ts, buf in dpkt.pcap.Reader(fh)]
    assert [buf for _, buf in reference] == [frames.packet(i) for i in range(len(frames))]
    for (ts, _), ns in zip(reference, frames.ts_ns.tolist(), strict=True):
        assert abs(float(ts) - ns / 1e9) < 1e-6


def test_tshark_pcapng_matches_tshark_decoding(tmp_path: Path, receiver: socket.socket) -> None:
    tshark = require_tool("tshark")
    port = receiver.getsockname()[1]
    path = tmp_path / "lo.pcapng"
    cmd = [
        "timeout",
        "30",
        tshark,
        "-i",
        "lo",
        "-n",
        "-c",
        str(COUNT),
        "-w",
        str(path),
        "-f",
        f"udp and dst host 127.0.0.1 and dst port {port}",
    ]
    sent = _capture(cmd, b"Capturing on", port)
    frames = read_frames(path)
    payloads = [bytes(d.payload) for d in udp_payloads(frames)]
    assert frames.errors == 0 and _consecutive(payloads, sent)
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-e", "frame.time_epoch", "-e", "udp.dstport"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split("\n")
    rows = [line.split("\t") for line in out if line]
    assert [int(r[1]) for r in rows] == [port] * COUNT
    for row, ns in zip(rows, frames.ts_ns.tolist(), strict=True):
        assert abs(float(row[0]) - ns / 1e9) < 1e-6
