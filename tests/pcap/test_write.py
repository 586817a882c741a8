"""The vectorised batch writer agrees byte for byte with the one-packet builder."""

from __future__ import annotations

import io
import ipaddress
from pathlib import Path

import numpy as np
import pytest

from iotscope.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_RAW,
    PcapWriter,
    ethernet,
    ipv4_tcp,
    read_frames,
    write_ipv4_tcp_batch,
)


@pytest.mark.parametrize("linktype", [LINKTYPE_ETHERNET, LINKTYPE_RAW])
def test_batch_equals_single_packets(tmp_path: Path, linktype: int) -> None:
    rng = np.random.default_rng(3)
    n = 500
    cols = {
        "src": rng.integers(0, 2**32, n),
        "dst": rng.integers(0, 2**32, n),
        "sport": rng.integers(0, 65536, n),
        "dport": rng.integers(0, 65536, n),
        "seq": rng.integers(0, 2**32, n),
        "flags": rng.integers(0, 256, n),
        "ttl": rng.integers(0, 256, n),
        "window": rng.integers(0, 65536, n),
        "ip_id": rng.integers(0, 65536, n),
    }
    ts = 1_762_000_000 * 10**9 + np.arange(n) * 1_000_000
    path = tmp_path / "batch.pcap"
    count = write_ipv4_tcp_batch(
        path,
        ts,
        cols["src"],
        cols["dst"],
        cols["sport"],
        cols["dport"],
        cols["seq"],
        cols["flags"],
        cols["ttl"],
        cols["window"],
        ip_id=cols["ip_id"],
        linktype=linktype,
    )
    frames = read_frames(path)
    assert count == n == len(frames) and frames.errors == 0
    assert frames.ts_ns.tolist() == ts.tolist()
    for i in (0, 1, 17, n - 1):
        single = ipv4_tcp(
            str(ipaddress.IPv4Address(int(cols["src"][i]))),
            str(ipaddress.IPv4Address(int(cols["dst"][i]))),
            int(cols["sport"][i]),
            int(cols["dport"][i]),
            seq=int(cols["seq"][i]),
            flags=int(cols["flags"][i]),
            ttl=int(cols["ttl"][i]),
            window=int(cols["window"][i]),
            ip_id=int(cols["ip_id"][i]),
        )
        want = ethernet(single) if linktype == LINKTYPE_ETHERNET else single
        assert frames.packet(i) == want


def test_writer_on_open_file_object_and_write_many() -> None:
    buf = io.BytesIO()
    pkts = [b"\x45" + bytes(19), b"\x45" + bytes(30)]
    with PcapWriter(buf, LINKTYPE_RAW) as out:
        out.write_many([1, 2_000_000_000], pkts)
    frames = read_frames(buf.getvalue())
    assert [frames.packet(i) for i in range(2)] == pkts and out.count == 2
    assert frames.ts_ns.tolist() == [0, 2_000_000_000]


def test_batch_rejects_unsupported_linktype(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_ipv4_tcp_batch(
            tmp_path / "x.pcap", np.zeros(1), np.zeros(1), np.zeros(1), 1, 2, 0, linktype=113
        )
