"""Shared test data for the pcap reader tests: packets and a classic pcap builder."""

from __future__ import annotations

import struct

from iotscope.pcap import LINKTYPE_ETHERNET, ethernet, ipv4_tcp, ipv4_udp

T0 = 1_762_000_000_123_456_789
PACKETS = [
    ethernet(ipv4_tcp("192.0.2.1", "203.0.113.9", 40000, 23, seq=0xCB007109)),
    ethernet(ipv4_udp("192.0.2.2", "203.0.113.10", 53, 5353, b"x" * 33)),
    ethernet(ipv4_tcp("192.0.2.3", "203.0.113.11", 1, 2323, payload=b"hello")),
]


def classic(order: str, nano: bool, packets: list[bytes], stamps: list[int]) -> bytes:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)
    for ts, pkt in zip(stamps, packets, strict=True):
        sec, ns = divmod(ts, 10**9)
        frac = ns if nano else ns // 1000
        out += struct.pack(order + "IIII", sec, frac, len(pkt), len(pkt) + 4) + pkt
    return out
