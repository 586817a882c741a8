"""From captured frames to one compact row per darknet packet, vectorised.

Header fields are gathered at computed offsets (IPv4: RFC 791 section 3.1; IPv6: RFC 8200
section 3, no extension headers followed; TCP: RFC 9293 section 3.1; UDP: RFC 768; ICMP:
RFC 792; ICMPv6: RFC 4443). Each packet gets a bit set of the traits classification needs:

- ``SYN``: a TCP SYN without ACK, RST or FIN (a scan probe).
- ``MIRAI``: a SYN whose sequence number equals its IPv4 destination (Mirai's ``scanner.c``
  sets ``seq = daddr``; the DOMAIN fact). Never set for IPv6.
- ``REPLY``: backscatter, a reply to a spoofed packet: TCP SYN-ACK or RST, ICMP echo reply,
  destination unreachable, time exceeded, timestamp/info/mask reply (ICMPv6 1, 3, 129).
- ``ZMAP``: IPv4 identification 54321 (ZMap's fixed IP ID in its probe modules).
- ``MASSCAN``: a SYN with IP ID == (dst ^ dport ^ seq) & 0xFFFF (masscan's ``templ-pkt.c``).
- ``IOT``: a SYN to a port IoT malware scans (23, 2323, 80, 8080, 8081, 5555, 7547, 37215,
  52869, DOMAIN.md).

Each row's ``port`` is the TCP/UDP destination port, except for TCP replies (backscatter):
there it is the source port, the service of the DDoS victim that answered.

Packets that are not IP are counted as ``not_ip``; IP packets whose headers are cut short or
inconsistent (IHL < 5, total length below the header length, L4 header not captured) are
counted as ``malformed``; both are skipped. Non-first fragments count as packets of their
source, with no port and no traits.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import numpy as np

from iotscope.pcap import Frames, be_int, gather_rows, ip_layer_offsets

__all__ = ["IOT_PORTS", "Bits", "Decoded", "V6Registry", "decode"]

IOT_PORTS = (23, 2323, 80, 8080, 8081, 5555, 7547, 37215, 52869)
V6_BASE = 1 << 32  # IPv6 sources get keys V6_BASE + their registry id; IPv4 keys are addresses
_ICMP_REPLIES = (0, 3, 11, 14, 16, 18)
_ICMP6_REPLIES = (1, 3, 129)


class Bits:
    SYN, MIRAI, REPLY, ZMAP, MASSCAN, IOT = 1, 2, 4, 8, 16, 32


@dataclass
class V6Registry:
    """Dense ids for the IPv6 addresses seen (per ingest): the hot path stays on integers."""

    ids: dict[bytes, int] = field(default_factory=dict)
    addrs: list[bytes] = field(default_factory=list)

    def lookup(self, rows: np.ndarray) -> np.ndarray:
        """Ids of ``(n, 16)`` address rows; new addresses are registered (one step per
        distinct address, not per packet)."""
        if rows.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        uniq, inverse = np.unique(rows, axis=0, return_inverse=True)
        ids = np.empty(uniq.shape[0], dtype=np.int64)
        for i, row in enumerate(uniq):
            key = row.tobytes()
            if key not in self.ids:
                self.ids[key] = len(self.addrs)
                self.addrs.append(key)
            ids[i] = self.ids[key]
        return ids[inverse.reshape(-1)]

    def address(self, key: int) -> ipaddress.IPv6Address:
        return ipaddress.IPv6Address(self.addrs[key - V6_BASE])


@dataclass
class Decoded:
    """One row per counted packet: ``src`` key, ``dst`` (IPv4 address or IPv6 id), time,
    counted ``port`` (see the module docstring; -1 when not TCP/UDP), trait ``bits``; and
    the skip counts."""

    src: np.ndarray
    dst: np.ndarray
    ts_ns: np.ndarray
    port: np.ndarray
    bits: np.ndarray
    not_ip: int = 0
    malformed: int = 0
    outside: int = 0

    def by_family(self) -> tuple[np.ndarray, np.ndarray]:
        """Masks of the IPv4 rows and of the IPv6 rows."""
        v4 = self.src < V6_BASE
        return v4, ~v4

    def local(self, sel: np.ndarray) -> tuple[np.ndarray, ...]:
        """The selected rows with family-local source keys (< 2**32)."""
        src = self.src[sel] & 0xFFFFFFFF
        return src, self.dst[sel], self.ts_ns[sel], self.port[sel], self.bits[sel]


@dataclass(frozen=True)
class Prefix:
    """A darknet prefix for the optional destination filter."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    def contains_v4(self, dst: np.ndarray) -> np.ndarray:
        if self.network.version != 4:
            return np.zeros(dst.shape[0], dtype=bool)
        mask = int(self.network.netmask)
        return (dst & mask) == int(self.network.network_address)

    def contains_v6(self, addr: bytes) -> bool:
        return self.network.version == 6 and ipaddress.IPv6Address(addr) in self.network


def _l4_traits(
    proto: np.ndarray, flags: np.ndarray, icmp_type: np.ndarray, icmp: int, replies: tuple[int, ...]
) -> np.ndarray:
    tcp = proto == 6
    syn = tcp & ((flags & 0x17) == 0x02)
    reply = tcp & (((flags & 0x12) == 0x12) | ((flags & 0x04) != 0))
    reply |= (proto == icmp) & np.isin(icmp_type, replies)
    return np.where(syn, Bits.SYN, 0) | np.where(reply, Bits.REPLY, 0)


def _l4_fields(
    data: np.ndarray, ip: np.ndarray, l4: np.ndarray, proto: np.ndarray, icmp: int
) -> dict[str, np.ndarray]:
    """Ports, TCP seq/flags and ICMP type; ``l4`` is ``ip`` wherever L4 is absent (masked)."""
    ports = gather_rows(data, np.where(proto != icmp, l4, ip), 4)
    tcp = gather_rows(data, np.where(proto == 6, l4, ip), 14)
    return {
        "port": np.where((proto == 6) | (proto == 17), be_int(ports[:, 2:4]), -1),
        "sport": be_int(ports[:, 0:2]),
        "seq": be_int(tcp[:, 4:8]),
        "flags": np.where(proto == 6, tcp[:, 13], 0),
        "icmp_type": np.where(proto == icmp, data[l4], -1),
    }


def _l4_start(
    ok: np.ndarray, ip: np.ndarray, l4: np.ndarray, proto: np.ndarray, end: np.ndarray, icmp: int
) -> tuple[np.ndarray, np.ndarray]:
    """Where L4 starts (``ip`` where absent) and the well-formed mask, given what L4 needs."""
    need = np.select([proto == 6, proto == 17, proto == icmp], [14, 4, 1], 0)
    ok = ok & (l4 + need <= end)
    return np.where(ok & (need > 0), l4, ip), ok


def _ipv4(
    data: np.ndarray, ip: np.ndarray, end: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fields of IPv4 packets at ``ip``; the second value marks the well-formed ones."""
    ok = ip + 20 <= end
    ip = np.where(ok, ip, 0)
    h = gather_rows(data, ip, 20)
    ihl = (h[:, 0] & 0x0F).astype(np.int64) * 4
    ok &= (ihl >= 20) & (be_int(h[:, 2:4]) >= ihl)
    first = (be_int(h[:, 6:8]) & 0x1FFF) == 0
    proto = np.where(first, h[:, 9], 0).astype(np.int64)
    l4, ok = _l4_start(ok, ip, ip + ihl, proto, end, 1)
    f = _l4_fields(data, ip, l4, np.where(l4 == ip, 0, proto), 1)
    f.update(src=be_int(h[:, 12:16]), dst=be_int(h[:, 16:20]), ip_id=be_int(h[:, 4:6]), proto=proto)
    return f, ok


def _v4_bits(f: dict[str, np.ndarray]) -> np.ndarray:
    bits = _l4_traits(f["proto"], f["flags"], f["icmp_type"], 1, _ICMP_REPLIES)
    syn = (bits & Bits.SYN) != 0
    bits |= np.where(syn & (f["seq"] == f["dst"]), Bits.MIRAI, 0)
    bits |= np.where(f["ip_id"] == 54321, Bits.ZMAP, 0)
    masscan_id = (f["dst"] ^ f["port"] ^ f["seq"]) & 0xFFFF
    bits |= np.where(syn & (f["ip_id"] == masscan_id), Bits.MASSCAN, 0)
    bits |= np.where(syn & np.isin(f["port"], IOT_PORTS), Bits.IOT, 0)
    return bits


def _ipv6(
    data: np.ndarray, ip: np.ndarray, end: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    ok = ip + 40 <= end
    ip = np.where(ok, ip, 0)
    h = gather_rows(data, ip, 40)
    proto = h[:, 6].astype(np.int64)
    l4, ok = _l4_start(ok, ip, ip + 40, proto, end, 58)
    f = _l4_fields(data, ip, l4, np.where(l4 == ip, 0, proto), 58)
    f.update(src=h[:, 8:24], dst=h[:, 24:40], proto=proto)
    return f, ok


def decode(frames: Frames, registry: V6Registry, prefixes: tuple[Prefix, ...] = ()) -> Decoded:
    """Rows for every well-formed IP packet of ``frames`` (to ``prefixes`` when given)."""
    ip = ip_layer_offsets(frames)
    end = frames.offsets + frames.caplen
    is_ip = ip >= 0
    version = np.where(is_ip, frames.data[np.maximum(ip, 0)] >> 4, 0)
    parts = [_rows_v4(frames, ip, end, version == 4, prefixes)]
    parts.append(_rows_v6(frames, ip, end, version == 6, registry, prefixes))
    rows = [p[0] for p in parts]
    src, dst, ts, port, bits = (np.concatenate([r[k] for r in rows]) for k in range(5))
    out = Decoded(src, dst, ts, port, bits)
    out.not_ip = int((~is_ip).sum())
    out.malformed = sum(p[1] for p in parts)
    out.outside = sum(p[2] for p in parts)
    return out


_Rows = tuple[tuple[np.ndarray, ...], int, int]


def _counted_port(f: dict[str, np.ndarray], bits: np.ndarray) -> np.ndarray:
    """The port a packet counts for: the destination port it probes, but for a TCP reply
    (backscatter) its source port, the victim's attacked service."""
    reply = ((bits & Bits.REPLY) != 0) & (f["proto"] == 6)
    return np.where(reply, f["sport"], f["port"])


def _rows_v4(
    frames: Frames, ip: np.ndarray, end: np.ndarray, sel: np.ndarray, prefixes: tuple[Prefix, ...]
) -> _Rows:
    f, ok = _ipv4(frames.data, ip[sel], end[sel])
    keep = ok.copy()
    outside = 0
    if prefixes:
        inside = np.logical_or.reduce([p.contains_v4(f["dst"]) for p in prefixes])
        outside = int((ok & ~inside).sum())
        keep &= inside
    bits = _v4_bits(f)
    cols = (f["src"], f["dst"], frames.ts_ns[sel], _counted_port(f, bits), bits)
    return tuple(c[keep] for c in cols), int((~ok).sum()), outside


def _rows_v6(
    frames: Frames,
    ip: np.ndarray,
    end: np.ndarray,
    sel: np.ndarray,
    registry: V6Registry,
    prefixes: tuple[Prefix, ...],
) -> _Rows:
    f, ok = _ipv6(frames.data, ip[sel], end[sel])
    src = registry.lookup(f["src"][ok]) + V6_BASE
    dst = registry.lookup(f["dst"][ok])
    keep = np.ones(src.shape[0], dtype=bool)
    if prefixes:
        uniq, inverse = np.unique(dst, return_inverse=True)
        inside = [any(p.contains_v6(registry.addrs[i]) for p in prefixes) for i in uniq.tolist()]
        keep = np.asarray(inside, dtype=bool)[inverse.reshape(-1)]
    bits = _l4_traits(f["proto"], f["flags"], f["icmp_type"], 58, _ICMP6_REPLIES)
    bits |= np.where(((bits & Bits.SYN) != 0) & np.isin(f["port"], IOT_PORTS), Bits.IOT, 0)
    cols = (src, dst, frames.ts_ns[sel][ok], _counted_port(f, bits)[ok], bits[ok])
    return tuple(c[keep] for c in cols), int((~ok).sum()), int((~keep).sum())
