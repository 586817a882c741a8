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
    ipv4_tcp_batch,
    read_frames,
    with_ethernet,
    write_interleaved,
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


def test_batch_tcp_options_match_single_builder() -> None:
    opts = b"\x02\x04\x05\xb4\x04\x02"  # MSS, SACK permitted (padded to 8)
    rows = ipv4_tcp_batch(
        np.array([0xC0000201]), np.array([0xCB007101]), 1234, 23, 77, options=opts
    )
    want = ipv4_tcp("192.0.2.1", "203.0.113.1", 1234, 23, seq=77, options=opts)
    assert rows.shape == (1, 48) and rows[0].tobytes() == want


def test_interleaved_groups_come_out_in_time_order(tmp_path: Path) -> None:
    small = ipv4_tcp_batch(np.array([1, 2, 3]), np.array([9, 9, 9]), 1, 23, 0)
    wide = ipv4_tcp_batch(np.array([4, 5]), np.array([9, 9]), 1, 80, 0, options=b"\x02\x04\x05\xb4")
    groups = [(np.array([10, 30, 50]), with_ethernet(small)), (np.array([20, 40]), wide)]
    path = tmp_path / "mixed.pcap"
    assert write_interleaved(path, groups, nanosecond=True) == 5
    frames = read_frames(path)
    assert frames.ts_ns.tolist() == [10, 20, 30, 40, 50]
    want = [
        with_ethernet(small)[0],
        wide[0],
        with_ethernet(small)[1],
        wide[1],
        with_ethernet(small)[2],
    ]
    assert [frames.packet(i) for i in range(5)] == [w.tobytes() for w in want]
