"""Write a TABLE_DUMP_V2 RIB dump (RFC 6396 section 4.3): a peer index table, then one
RIB_IPV4_UNICAST / RIB_IPV6_UNICAST record per prefix.

For the lab (a routing table for its ISPs), tests and benchmarks; real dumps come from
routers and route collectors. Each prefix gets one RIB entry per peer path given.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence

_HDR = struct.Struct(">IHHI")
ORIGIN_IGP = b"\x40\x01\x01\x00"  # well-known transitive ORIGIN = IGP


def _record(ts: int, mtype: int, subtype: int, body: bytes) -> bytes:
    return _HDR.pack(ts, mtype, subtype, len(body)) + body


def peer_index(collector: str, peers: Sequence[tuple[str, int]], ts: int = 0) -> bytes:
    """PEER_INDEX_TABLE (4.3.1): peers as (address, AS); 4-byte AS and IP version bits set."""
    body = bytearray(ipaddress.IPv4Address(collector).packed)
    body += struct.pack(">H", 0)  # view name length
    body += struct.pack(">H", len(peers))
    for addr, asn in peers:
        ip = ipaddress.ip_address(addr)
        ptype = 0x02 | (0x01 if ip.version == 6 else 0)
        bgp_id = ip.packed[-4:]  # a router id: the address's last 4 bytes will do here
        body += struct.pack(">B", ptype) + bgp_id + ip.packed + struct.pack(">I", asn)
    return _record(ts, 13, 1, bytes(body))


def as_path_attr(path: Sequence[int], as_set: Sequence[int] = ()) -> bytes:
    """AS_PATH (type 2) with 4-byte ASNs: one AS_SEQUENCE, optionally an AS_SET after it."""
    value = b""
    if path:
        value += struct.pack(">BB", 2, len(path)) + b"".join(struct.pack(">I", a) for a in path)
    if as_set:
        value += struct.pack(">BB", 1, len(as_set)) + b"".join(struct.pack(">I", a) for a in as_set)
    if len(value) > 255:
        return struct.pack(">BBH", 0x50, 2, len(value)) + value
    return struct.pack(">BBB", 0x40, 2, len(value)) + value


def rib_record(seq: int, prefix: str, entries: Iterable[tuple[int, bytes]], ts: int = 0) -> bytes:
    """One RIB_IPV4_UNICAST/RIB_IPV6_UNICAST record: entries as (peer index, attributes)."""
    net = ipaddress.ip_network(prefix)
    nbytes = (net.prefixlen + 7) // 8
    body = bytearray(struct.pack(">IB", seq, net.prefixlen) + net.network_address.packed[:nbytes])
    items = list(entries)
    body += struct.pack(">H", len(items))
    for peer, attrs in items:
        body += struct.pack(">HIH", peer, ts, len(attrs)) + attrs
    return _record(ts, 13, 2 if net.version == 4 else 4, bytes(body))


def write_rib(
    routes: Iterable[tuple[str, Sequence[Sequence[int]]]],
    peers: Sequence[tuple[str, int]] = (("192.0.2.1", 64496),),
    ts: int = 1_700_000_000,
) -> bytes:
    """A whole dump: ``routes`` are (prefix, one AS path per peer, origin last)."""
    out = [peer_index("192.0.2.254", peers, ts)]
    for seq, (prefix, paths) in enumerate(routes):
        entries = [(i % len(peers), ORIGIN_IGP + as_path_attr(p)) for i, p in enumerate(paths)]
        out.append(rib_record(seq, prefix, entries, ts))
    return b"".join(out)
