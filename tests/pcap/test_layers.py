"""Locating IP layers across link types, and UDP datagrams."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.pcap import (
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    be16,
    be32,
    ethernet,
    ip_layer_offsets,
    ipv4_tcp,
    ipv4_udp,
    read_frames,
    udp_columns,
    udp_payloads,
)
from tests.pcap import pcapng_builder as ng

IP4 = ipv4_udp("192.0.2.1", "198.51.100.2", 2055, 9995, b"flowdata")
IP6 = (
    bytes([0x60, 0, 0, 0, 0, 8, 17, 64])
    + bytes(15)
    + b"\x01"
    + bytes(15)
    + b"\x02"
    + (struct.pack("!HHHH", 1000, 2000, 8, 0))
)
SLL_HEAD = struct.pack("!HHH8s", 0, 1, 6, bytes(8))
SLL2_V6 = struct.pack("!HHIHBB8s", 0x86DD, 0, 1, 1, 0, 6, bytes(8))


def _capture(packets: list[tuple[int, bytes]]) -> bytes:
    """One pcapng interface per distinct link type, one EPB per packet."""
    kinds = sorted({lt for lt, _ in packets})
    blocks = [ng.shb("<")] + [ng.idb("<", lt) for lt in kinds]
    blocks += [ng.epb("<", kinds.index(lt), 0, pkt) for lt, pkt in packets]
    return b"".join(blocks)


CASES = [
    (LINKTYPE_ETHERNET, ethernet(IP4), 14),
    (LINKTYPE_ETHERNET, ethernet(IP6, 0x86DD), 14),
    (LINKTYPE_ETHERNET, ethernet(b"\x00\x05\x08\x00" + IP4, 0x8100), 18),  # 802.1Q, VLAN 5
    (LINKTYPE_RAW, IP4, 0),
    (LINKTYPE_RAW, IP6, 0),
    (LINKTYPE_LINUX_SLL, SLL_HEAD + b"\x08\x00" + IP4, 16),
    (LINKTYPE_LINUX_SLL2, SLL2_V6 + IP6, 20),
    (LINKTYPE_NULL, struct.pack("<I", 2) + IP4, 4),
    (LINKTYPE_NULL, struct.pack(">I", 30) + IP6, 4),
    (LINKTYPE_LOOP, struct.pack(">I", 2) + IP4, 4),
]
NOT_IP = [
    (LINKTYPE_ETHERNET, ethernet(b"\x00\x01" + bytes(40), 0x0806)),  # ARP
    (LINKTYPE_ETHERNET, ethernet(b"", 0x0800)),  # nothing after the header
    (LINKTYPE_ETHERNET, ethernet(IP6, 0x0800)),  # version disagrees with the EtherType
    (LINKTYPE_RAW, b"\x15garbage"),
    (LINKTYPE_NULL, struct.pack("<I", 99) + IP4),
    (105, IP4),  # IEEE 802.11: not supported
    (LINKTYPE_ETHERNET, b"\x00" * 5),
]


def test_ip_offsets_per_linktype() -> None:
    frames = read_frames(_capture([(lt, pkt) for lt, pkt, _ in CASES]))
    got = ip_layer_offsets(frames) - frames.offsets
    assert got.tolist() == [hdr for *_, hdr in CASES]
    first = frames.data[ip_layer_offsets(frames)] >> 4
    assert first.tolist() == [pkt[hdr] >> 4 for _, pkt, hdr in CASES]


def test_not_ip_is_minus_one() -> None:
    frames = read_frames(_capture(NOT_IP))
    assert ip_layer_offsets(frames).tolist() == [-1] * len(NOT_IP)


def test_udp_payloads_over_mixed_link_types() -> None:
    frames = read_frames(_capture([(lt, pkt) for lt, pkt, _ in CASES]))
    got = [(d.src, d.dst, d.sport, d.dport, bytes(d.payload)) for d in udp_payloads(frames)]
    v4 = ("192.0.2.1", "198.51.100.2", 2055, 9995, b"flowdata")
    v6 = ("::1", "::2", 1000, 2000, b"")
    assert got == [v4, v6, v4, v4, v6, v4, v6, v4, v6, v4]


def test_udp_skips_tcp_fragments_and_counts_truncated() -> None:
    frag = bytearray(IP4)
    frag[6] = 0x20  # more fragments
    packets = [
        (LINKTYPE_RAW, ipv4_tcp("192.0.2.1", "192.0.2.2", 1, 2)),
        (LINKTYPE_RAW, bytes(frag)),
        (LINKTYPE_RAW, IP4[:24]),  # UDP header cut by the snapshot length
        (LINKTYPE_RAW, IP4),
    ]
    cols = udp_columns(read_frames(_capture(packets)))
    assert cols.truncated == 1 and cols.sport.tolist() == [2055]


def test_be_gathers() -> None:
    data = np.frombuffer(bytes(range(1, 9)), np.uint8)
    idx = np.array([0, 4])
    assert be16(data, idx).tolist() == [0x0102, 0x0506]
    assert be32(data, idx).tolist() == [0x01020304, 0x05060708]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted({c[0] for c in CASES})), st.binary(max_size=70))))
def test_fuzz_layers_never_read_outside_a_packet(packets: list[tuple[int, bytes]]) -> None:
    if not packets:
        return
    frames = read_frames(_capture(packets))
    ip = ip_layer_offsets(frames)
    found = ip >= 0
    assert np.all(ip[found] < (frames.offsets + frames.caplen)[found])
    cols = udp_columns(frames)
    assert np.all(cols.start <= cols.end)
    assert len(list(udp_payloads(frames))) == cols.sport.shape[0]


@pytest.mark.parametrize("lt", [LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL])
def test_short_link_headers_are_not_ip(lt: int) -> None:
    frames = read_frames(_capture([(lt, b"\x08")]))
    assert ip_layer_offsets(frames).tolist() == [-1]
