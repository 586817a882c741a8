"""Packet builders: checksums verify (RFC 1071), fields land where RFC 791/9293 put them."""

from __future__ import annotations

import struct

import dpkt

from iotscope.pcap import checksum, ethernet, ipv4_icmp, ipv4_tcp, ipv4_udp


def _verifies(data: bytes) -> bool:
    return checksum(data) == 0


def _pseudo(ip: bytes) -> bytes:
    return ip[12:20] + struct.pack("!BBH", 0, ip[9], len(ip) - 20)


def test_tcp_fields_and_checksums() -> None:
    pkt = ipv4_tcp(
        "192.0.2.7",
        "198.51.100.1",
        50000,
        23,
        seq=0xC6336401,
        flags=0x12,
        ttl=51,
        window=5840,
        options=b"\x02\x04\x05\xb4",
        payload=b"abc",
        ip_id=54321,
    )
    assert _verifies(pkt[:20]) and _verifies(_pseudo(pkt) + pkt[20:])
    parsed = dpkt.ip.IP(pkt)
    assert (parsed.ttl, parsed.id, parsed.p) == (51, 54321, 6)
    tcp = parsed.data
    assert (tcp.sport, tcp.dport, tcp.seq, tcp.flags, tcp.win) == (
        50000,
        23,
        0xC6336401,
        0x12,
        5840,
    )
    assert tcp.opts == b"\x02\x04\x05\xb4" and tcp.data == b"abc"


def test_udp_and_icmp_checksums() -> None:
    udp = ipv4_udp("192.0.2.7", "198.51.100.1", 53, 40000, b"odd")
    assert _verifies(udp[:20]) and _verifies(_pseudo(udp) + udp[20:])
    inner = ipv4_tcp("198.51.100.1", "192.0.2.7", 1, 80)[:28]
    icmp = ipv4_icmp("192.0.2.7", "198.51.100.1", 3, 3, payload=inner)
    assert _verifies(icmp[:20]) and _verifies(icmp[20:])
    assert icmp[20:22] == b"\x03\x03" and icmp[28:] == inner


def test_ethernet_frame() -> None:
    frame = ethernet(b"payload", 0x86DD)
    assert len(frame) == 14 + 7 and frame[12:14] == b"\x86\xdd"
    assert (
        dpkt.ethernet.Ethernet(ethernet(ipv4_udp("192.0.2.1", "192.0.2.2", 1, 2, b""))).type
        == 0x0800
    )
