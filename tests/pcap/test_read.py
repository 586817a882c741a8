"""Reading classic pcap and pcapng: round trips, byte orders, resolutions, errors, fuzz."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ParseError
from iotscope.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_RAW,
    PcapWriter,
    ethernet,
    ipv4_tcp,
    ipv4_udp,
    iter_frames,
    read_frames,
)
from tests.pcap import pcapng_builder as ng

T0 = 1_762_000_000_123_456_789
PACKETS = [
    ethernet(ipv4_tcp("192.0.2.1", "203.0.113.9", 40000, 23, seq=0xCB007109)),
    ethernet(ipv4_udp("192.0.2.2", "203.0.113.10", 53, 5353, b"x" * 33)),
    ethernet(ipv4_tcp("192.0.2.3", "203.0.113.11", 1, 2323, payload=b"hello")),
]


def _classic(order: str, nano: bool, packets: list[bytes], stamps: list[int]) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)
    for ts, pkt in zip(stamps, packets, strict=True):
        sec, ns = divmod(ts, 10**9)
        frac = ns if nano else ns // 1000
        out += struct.pack(order + "IIII", sec, frac, len(pkt), len(pkt) + 4) + pkt
    return out


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_classic_both_orders_and_resolutions(order: str, nano: bool) -> None:
    stamps = [T0, T0 + 1_500, T0 + 10**9]
    frames = read_frames(_classic(order, nano, PACKETS, stamps))
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
    raw = _classic("<", False, PACKETS, [T0] * 3)
    for cut in (5, 20, len(PACKETS[2]) + 10):
        frames = read_frames(raw[:-cut])
        assert len(frames) == 2 and frames.errors == 1


def test_bogus_record_length_stops_with_one_error() -> None:
    raw = bytearray(_classic("<", False, PACKETS, [T0] * 3))
    second = 24 + 16 + len(PACKETS[0])
    raw[second + 8 : second + 12] = struct.pack("<I", 0x7FFFFFFF)
    frames = read_frames(bytes(raw))
    assert len(frames) == 1 and frames.errors == 1


@pytest.mark.parametrize("raw", [b"", b"\xd4\xc3", b"GET / HTTP/1.1\r\n\r\n", b"\xd4\xc3\xb2\xa1"])
def test_not_a_capture_raises_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError):
        read_frames(raw)


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        read_frames(tmp_path / "absent.pcap")


def test_empty_capture_has_no_packets() -> None:
    frames = read_frames(_classic("<", False, [], []))
    assert len(frames) == 0 and frames.errors == 0


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_two_interfaces_linktypes_and_resolutions(order: str) -> None:
    raw_ip = PACKETS[0][14:]
    blocks = [
        ng.shb(order),
        ng.idb(order, LINKTYPE_ETHERNET),  # default 10^-6
        ng.block(order, 0x0BAD, b"unknown block, skipped"),
        ng.idb(order, LINKTYPE_RAW, tsresol=9),  # nanoseconds
        ng.epb(order, 0, T0 // 1000, PACKETS[1]),
        ng.epb(order, 1, T0, raw_ip, wirelen=999),
        ng.idb(order, LINKTYPE_RAW, tsresol=0x80 | 20),  # 2^-20 s
        ng.epb(order, 2, (T0 // 10**9) << 20 | 1 << 19, raw_ip),
    ]
    frames = read_frames(b"".join(blocks))
    assert frames.errors == 0
    assert frames.linktype.tolist() == [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_RAW]
    assert frames.ts_ns.tolist() == [T0 // 1000 * 1000, T0, T0 // 10**9 * 10**9 + 500_000_000]
    assert [frames.packet(i) for i in range(3)] == [PACKETS[1], raw_ip, raw_ip]
    assert frames.wirelen.tolist()[1] == 999


def test_pcapng_simple_packet_block_and_second_section() -> None:
    blocks = [
        ng.shb("<"),
        ng.idb("<", LINKTYPE_ETHERNET),
        ng.spb("<", PACKETS[2]),
        ng.shb(">"),
        ng.idb(">", LINKTYPE_RAW),
        ng.epb(">", 0, 5_000_000, PACKETS[0][14:]),
    ]
    frames = read_frames(b"".join(blocks))
    assert frames.packet(0) == PACKETS[2] and frames.ts_ns[0] == 0
    assert frames.packet(1) == PACKETS[0][14:] and frames.ts_ns[1] == 5 * 10**9
    assert frames.linktype.tolist() == [LINKTYPE_ETHERNET, LINKTYPE_RAW]


def test_pcapng_bad_interface_and_truncation_are_counted() -> None:
    blocks = [
        ng.shb("<"),
        ng.idb("<", LINKTYPE_ETHERNET),
        ng.epb("<", 7, 0, PACKETS[0]),  # no interface 7
        ng.epb("<", 0, 0, PACKETS[1]),
    ]
    whole = b"".join(blocks)
    tail = ng.epb("<", 0, 0, PACKETS[2])
    frames = read_frames(whole + tail[:-6])
    assert len(frames) == 1 and frames.errors == 2
    assert frames.packet(0) == PACKETS[1]


def test_pcapng_without_byte_order_magic_is_not_a_capture() -> None:
    with pytest.raises(ParseError):
        read_frames(struct.pack("<III", 0x0A0D0D0A, 28, 0xDEADBEEF) + bytes(16))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_arbitrary_bytes_only_parse_error(raw: bytes) -> None:
    for candidate in (raw, b"\xd4\xc3\xb2\xa1" + raw, ng.shb("<") + raw):
        try:
            frames = read_frames(candidate)
        except ParseError:
            continue
        ends = frames.offsets + frames.caplen
        assert np.all(ends <= len(candidate)) and frames.errors >= 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6), st.integers(0, 200))
def test_fuzz_valid_capture_with_garbage_tail(packets: list[bytes], cut: int) -> None:
    raw = _classic("<", False, packets, [T0] * len(packets))
    frames = read_frames(raw[: max(24, len(raw) - cut)])
    if cut == 0:
        assert len(frames) == len(packets) and frames.errors == 0
    assert [frames.packet(i) for i in range(len(frames))] == packets[: len(frames)]


@pytest.mark.parametrize("cut", [0, 7])
def test_iter_frames_batches_agree_with_read_frames(cut: int) -> None:
    packets = [PACKETS[i % 3] for i in range(10)]
    raw = _classic("<", False, packets, [T0 + i for i in range(10)])
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
    raw = _classic("<", False, packets, [T0] * len(packets))
    raw = raw[: max(24, len(raw) - cut)]
    frames = read_frames(raw)
    assert frames.offsets.tolist() == _reference_offsets(raw)
    batched = np.concatenate([f.offsets for f in iter_frames(raw, batch=97)])
    assert batched.tolist() == frames.offsets.tolist()


def test_a_bogus_length_inside_a_long_run_stops_there() -> None:
    packets = [b"\x45" + bytes(53)] * 5000
    raw = bytearray(_classic("<", False, packets, [T0] * 5000))
    bad = 24 + 4321 * (16 + 54)
    raw[bad + 8 : bad + 12] = struct.pack("<I", 10**8)
    frames = read_frames(bytes(raw))
    assert len(frames) == 4321 and frames.errors == 1
