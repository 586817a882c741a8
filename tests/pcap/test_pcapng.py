"""pcapng: interfaces, link types, timestamp resolutions, sections, block errors."""

from __future__ import annotations

import struct

import pytest

from iotscope.errors import ParseError
from iotscope.pcap import LINKTYPE_ETHERNET, LINKTYPE_RAW, read_frames
from tests.pcap import pcapng_builder as ng
from tests.pcap.captures import PACKETS, T0


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
