"""Building single packets with correct checksums (for tests, the lab and demos).

IPv4 header: RFC 791 section 3.1; the Internet checksum: RFC 1071. TCP header and its
pseudo-header checksum: RFC 9293 section 3.1. UDP: RFC 768. ICMP: RFC 792. Ethernet II
framing: IEEE 802.3 with an EtherType.
"""

from __future__ import annotations

import ipaddress
import struct

__all__ = [
    "checksum",
    "ethernet",
    "ipv4_header",
    "ipv4_icmp",
    "ipv4_tcp",
    "ipv4_udp",
]

PROTO_ICMP, PROTO_TCP, PROTO_UDP = 1, 6, 17
DEFAULT_SRC_MAC = bytes.fromhex("020000000001")  # locally administered (IEEE 802 bit 1)
DEFAULT_DST_MAC = bytes.fromhex("020000000002")


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): ones' complement of the ones' complement sum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _v4(addr: str) -> bytes:
    return ipaddress.IPv4Address(addr).packed


def ipv4_header(
    src: str, dst: str, proto: int, payload_len: int, *, ttl: int = 64, ip_id: int = 0
) -> bytes:
    """A 20-byte IPv4 header (no options, DF clear) with its header checksum."""
    head = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ip_id, 0, ttl, proto, 0, _v4(src), _v4(dst)
    )
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:]


def _pseudo(src: str, dst: str, proto: int, length: int) -> bytes:
    return _v4(src) + _v4(dst) + struct.pack("!BBH", 0, proto, length)


def ipv4_tcp(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    *,
    seq: int = 0,
    ack: int = 0,
    flags: int = 0x02,
    ttl: int = 64,
    window: int = 14600,
    options: bytes = b"",
    payload: bytes = b"",
    ip_id: int = 0,
) -> bytes:
    """A complete IPv4 + TCP segment; ``options`` is zero-padded to 32 bits (End of Option List)."""
    options += b"\0" * (-len(options) % 4)
    offset = (20 + len(options)) // 4
    tcp = (
        struct.pack(
            "!HHIIBBHHH",
            sport,
            dport,
            seq & 0xFFFFFFFF,
            ack & 0xFFFFFFFF,
            offset << 4,
            flags,
            window,
            0,
            0,
        )
        + options
        + payload
    )
    csum = checksum(_pseudo(src, dst, PROTO_TCP, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", csum) + tcp[18:]
    return ipv4_header(src, dst, PROTO_TCP, len(tcp), ttl=ttl, ip_id=ip_id) + tcp


def ipv4_udp(src: str, dst: str, sport: int, dport: int, payload: bytes, *, ttl: int = 64) -> bytes:
    """A complete IPv4 + UDP datagram with the UDP checksum (0 sent as 0xFFFF, RFC 768)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    csum = checksum(_pseudo(src, dst, PROTO_UDP, len(udp)) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    return ipv4_header(src, dst, PROTO_UDP, len(udp), ttl=ttl) + udp


def ipv4_icmp(
    src: str,
    dst: str,
    icmp_type: int,
    code: int = 0,
    *,
    rest: int = 0,
    payload: bytes = b"",
    ttl: int = 64,
) -> bytes:
    """A complete IPv4 + ICMP message (RFC 792).

    ``rest`` is the 32-bit word after the checksum (identifier << 16 | sequence for echo).
    For backscatter: echo reply is type 0; destination unreachable is type 3 with the
    offending packet's IP header and first 8 payload bytes as ``payload``.
    """
    msg = struct.pack("!BBHI", icmp_type, code, 0, rest & 0xFFFFFFFF) + payload
    msg = msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]
    return ipv4_header(src, dst, PROTO_ICMP, len(msg), ttl=ttl) + msg


def ethernet(
    payload: bytes,
    ethertype: int = 0x0800,
    *,
    src_mac: bytes = DEFAULT_SRC_MAC,
    dst_mac: bytes = DEFAULT_DST_MAC,
) -> bytes:
    """An Ethernet II frame (no FCS, as captures store them)."""
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload
