"""Classic pcap: byte orders, resolutions, the writer, truncation, the vectorised walk."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.pcap import LINKTYPE_ETHERNET, LINKTYPE_RAW, PcapWriter, iter_frames, read_frames
from tests.pcap.captures import PACKETS, T0, classic


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_classic_both_orders_and_resolutions(order: str, nano: bool) -> None:
    stamps = [T0, T0 + 1_500, T0 + 10**9]
    frames = read_frames(classic(order, nano, PACKETS, stamps))
    assert len(frames) == 3 and frames.errors == 0
    want = stamps if nano else [t // 1000 * 1000 for t in stamps]
    assert frames.ts_ns.tolist() == want
    assert [frames.packet(i) for i in range(3)] == PACKETS
    assert frames.wirelen.tolist() == [len(p) + 4 for p in PACKETS]
    assert frames.linktype.tolist() == [LINKTYPE_ETHERNET] * 3


@pytest.mark.parametrize("nano", [False, True])
def test_writer_round_trip_through_file(tmp_path: Path, nano: bool) -> None:
    path = tmp_path / "rt.pcap"
    with PcapWriter(path, LINKTYPE_RAW, nanosecond=nano) as out:
        for i, pkt in enumerate(PACKETS):
            out.write(T0 + i, pkt[14:])
    frames = read_frames(path)
    assert [frames.packet(i) for i in range(3)] == [p[14:] for p in PACKETS]
    expected = [T0 + i if nano else (T0 + i) // 1000 * 1000 for i in range(3)]
    assert frames.ts_ns.tolist() == expected
    assert set(frames.linktype.tolist()) == {LINKTYPE_RAW}


def test_snaplen_cuts_and_keeps_wire_length(tmp_path: Path) -> None:
    path = tmp_path / "snap.pcap"
    with PcapWriter(path, snaplen=40) as out:
        out.write(T0, PACKETS[1])
    frames = read_frames(path)
    assert frames.caplen.tolist() == [40] and frames.wirelen.tolist() == [len(PACKETS[1])]


def test_truncated_last_record_is_counted_not_raised() -> None:
    raw = classic("<", False, PACKETS, [T0] * 3)
    for cut in (5, 20, len(PACKETS[2]) + 10):
        frames = read_frames(raw[:-cut])
        assert len(frames) == 2 and frames.errors == 1


def test_bogus_record_length_stops_with_one_error() -> None:
    raw = bytearray(classic("<", False, PACKETS, [T0] * 3))
    second = 24 + 16 + len(PACKETS[0])
    raw[second + 8 : second + 12] = struct.pack("<I", 0x7FFFFFFF)
    frames = read_frames(bytes(raw))
    assert len(frames) == 1 and frames.errors == 1


@pytest.mark.parametrize("cut", [0, 7])
def test_iter_frames_batches_agree_with_read_frames(cut: int) -> None:
    packets = [PACKETS[i % 3] for i in range(10)]
    raw = classic("<", False, packets, [T0 + i for i in range(10)])
    raw = raw[: len(raw) - cut]
    whole = read_frames(raw)
    batches = list(iter_frames(raw, batch=3))
    assert [len(b) for b in batches] == ([3, 3, 3, 1] if cut == 0 else [3, 3, 3, 0])
    assert sum(b.errors for b in batches) == whole.errors == int(cut > 0)
    joined = np.concatenate([b.ts_ns for b in batches])
    assert joined.tolist() == whole.ts_ns.tolist()
    assert [b.packet(i) for b in batches for i in range(len(b))] == packets[: len(whole)]


def _reference_offsets(raw: bytes) -> list[int]:
    """The plain one-record-at-a-time walk (libpcap's way), to check the vectorised one."""
    out, off = [], 24
    while off + 16 <= len(raw):
        caplen = struct.unpack_from("<I", raw, off + 8)[0]
        if off + 16 + caplen > len(raw):
            break
        out.append(off + 16)
        off += 16 + caplen
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 70), st.integers(1, 300)), min_size=1, max_size=8),
    st.integers(0, 40),
)
def test_runs_of_equal_lengths_walk_like_libpcap(runs: list[tuple[int, int]], cut: int) -> None:
    packets = [bytes([size % 251]) * size for size, count in runs for _ in range(count)]
    raw = classic("<", False, packets, [T0] * len(packets))
    raw = raw[: max(24, len(raw) - cut)]
    frames = read_frames(raw)
    assert frames.offsets.tolist() == _reference_offsets(raw)
    batched = np.concatenate([f.offsets for f in iter_frames(raw, batch=97)])
    assert batched.tolist() == frames.offsets.tolist()


def test_a_bogus_length_inside_a_long_run_stops_there() -> None:
    packets = [b"\x45" + bytes(53)] * 5000
    raw = bytearray(classic("<", False, packets, [T0] * 5000))
    bad = 24 + 4321 * (16 + 54)
    raw[bad + 8 : bad + 12] = struct.pack("<I", 10**8)
    frames = read_frames(bytes(raw))
    assert len(frames) == 4321 and frames.errors == 1
