"""Finding the IP layer of every packet and reading fields at computed offsets, vectorised.

Link layers (tcpdump.org link-layer header types):

- Ethernet (IEEE 802.3): EtherType at byte 12; one IEEE 802.1Q or 802.1ad tag (TPID 0x8100 or
  0x88A8) moves it to byte 16. IPv4 is EtherType 0x0800, IPv6 0x86DD.
- Linux cooked capture v1 (SLL, 16-byte header, protocol at byte 14) and v2 (SLL2, 20-byte
  header, protocol at byte 0), both big-endian EtherType values.
- BSD loopback NULL (4-byte address family in the capturing host's byte order: AF_INET 2,
  AF_INET6 10, 24, 28 or 30) and LOOP (the same, always big-endian).
- RAW (version nibble decides), IPV4, IPV6.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from iotscope.pcap._frames import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    Frames,
)

__all__ = [
    "UdpColumns",
    "UdpDatagram",
    "be16",
    "be32",
    "be_int",
    "gather_rows",
    "ip_layer_offsets",
    "udp_columns",
    "udp_payloads",
]

_AF_INET6 = (10, 24, 28, 30)


def be16(data: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Big-endian (network order, RFC 1700) 16-bit values at byte offsets ``idx`` as int64."""
    return (data[idx].astype(np.int64) << 8) | data[idx + 1]


def be32(data: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Big-endian 32-bit values at byte offsets ``idx`` as int64 (never negative)."""
    return (be16(data, idx) << 16) | be16(data, idx + 2)


def gather_rows(data: np.ndarray, idx: np.ndarray, width: int) -> np.ndarray:
    """``(n, width)`` uint8: ``data[idx[i] : idx[i] + width]`` for each i (all must fit).

    One fancy-index over a strided view whose elements are ``width``-byte blocks at every
    byte position: one memcpy per row, instead of ``width`` separate gathers.
    """
    count = data.shape[0] - width + 1
    if idx.shape[0] == 0 or count <= 0:
        return np.zeros((idx.shape[0], width), dtype=np.uint8)
    blocks = np.ndarray(shape=(count,), dtype=np.dtype((np.void, width)), buffer=data, strides=(1,))
    return blocks[idx].view(np.uint8).reshape(-1, width)


def be_int(rows: np.ndarray) -> np.ndarray:
    """Big-endian unsigned integers (int64) from the byte columns of ``rows`` (<= 4 columns)."""
    out = rows[:, 0].astype(np.int64)
    for j in range(1, rows.shape[1]):
        out = (out << 8) | rows[:, j]
    return out


def _clip(data: np.ndarray, idx: np.ndarray, width: int) -> np.ndarray:
    """Offsets safe to read ``width`` bytes from (values are masked out by the caller)."""
    return np.clip(idx, 0, max(data.shape[0] - width, 0))


def _ethertype_version(ethertype: np.ndarray) -> np.ndarray:
    return np.where(ethertype == 0x0800, 4, np.where(ethertype == 0x86DD, 6, -1))


def _ethernet(data: np.ndarray, off: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, ...]:
    etype = np.where(cap >= 14, be16(data, _clip(data, off + 12, 2)), -1)
    tagged = (etype == 0x8100) | (etype == 0x88A8)
    inner = np.where(cap >= 18, be16(data, _clip(data, off + 16, 2)), -1)
    etype = np.where(tagged, inner, etype)
    return np.where(tagged, 18, 14), _ethertype_version(etype)


def _sll(data: np.ndarray, off: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, ...]:
    proto = np.where(cap >= 16, be16(data, _clip(data, off + 14, 2)), -1)
    return np.full(off.shape[0], 16), _ethertype_version(proto)


def _sll2(data: np.ndarray, off: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, ...]:
    proto = np.where(cap >= 20, be16(data, _clip(data, off, 2)), -1)
    return np.full(off.shape[0], 20), _ethertype_version(proto)


def _family_version(family: np.ndarray) -> np.ndarray:
    return np.where(family == 2, 4, np.where(np.isin(family, _AF_INET6), 6, -1))


def _null(data: np.ndarray, off: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, ...]:
    raw = be32(data, _clip(data, off, 4))
    swapped = ((raw & 0xFF) << 24) | ((raw & 0xFF00) << 8) | ((raw >> 8) & 0xFF00) | (raw >> 24)
    version = np.maximum(_family_version(raw), _family_version(swapped))
    return np.full(off.shape[0], 4), np.where(cap >= 4, version, -1)


def _loop(data: np.ndarray, off: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, ...]:
    version = _family_version(be32(data, _clip(data, off, 4)))
    return np.full(off.shape[0], 4), np.where(cap >= 4, version, -1)


def _raw(version: int) -> object:
    def decode(data: np.ndarray, off: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, ...]:
        return np.zeros(off.shape[0], dtype=np.int64), np.full(off.shape[0], version)

    return decode


_DECODERS = {
    LINKTYPE_ETHERNET: _ethernet,
    LINKTYPE_LINUX_SLL: _sll,
    LINKTYPE_LINUX_SLL2: _sll2,
    LINKTYPE_NULL: _null,
    LINKTYPE_LOOP: _loop,
    LINKTYPE_RAW: _raw(0),
    LINKTYPE_IPV4: _raw(4),
    LINKTYPE_IPV6: _raw(6),
}


def ip_layer_offsets(frames: Frames) -> np.ndarray:
    """Offset in ``frames.data`` of each packet's IPv4/IPv6 header, -1 where there is none.

    A packet has an IP layer when its link layer says IPv4 or IPv6, at least one byte of the
    IP header was captured, and its version nibble agrees (4 or 6). Whether the rest of the
    IP header was captured is for the caller to check (it is malformed, not "not IP").
    """
    out = np.full(len(frames), -1, dtype=np.int64)
    for linktype, decode in _DECODERS.items():
        sel = np.flatnonzero(frames.linktype == linktype)
        if sel.size == 0:
            continue
        off, cap = frames.offsets[sel], frames.caplen[sel].astype(np.int64)
        hdr, want = decode(frames.data, off, cap)  # type: ignore[operator]
        ip = off + hdr
        nibble = np.where(cap > hdr, frames.data[_clip(frames.data, ip, 1)] >> 4, -1)
        ok = np.where(want == 0, (nibble == 4) | (nibble == 6), nibble == want)
        out[sel] = np.where(ok & (want != -1), ip, -1)
    return out


# --- UDP datagrams (for NetFlow/IPFIX export captures) ----------------------------------------


class UdpDatagram(NamedTuple):
    ts_ns: int
    src: str
    dst: str
    sport: int
    dport: int
    payload: memoryview


@dataclass(frozen=True)
class UdpColumns:
    """Every complete, unfragmented UDP datagram of a capture as parallel arrays.

    ``src``/``dst`` are 16-byte rows (IPv4 as IPv4-mapped IPv6, ``::ffff:a.b.c.d``);
    the payload of datagram ``i`` is ``data[start[i]:end[i]]``. ``truncated`` counts UDP
    packets whose headers were cut off by the snapshot length or were inconsistent.
    """

    data: np.ndarray
    ts_ns: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    start: np.ndarray
    end: np.ndarray
    truncated: int


def _addr_rows(data: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    rows = np.zeros((at.shape[0], 16), dtype=np.uint8)
    if width == 4:
        rows[:, 10:12] = 0xFF
    rows[:, 16 - width :] = data[at[:, None] + np.arange(width)]
    return rows


def udp_columns(frames: Frames) -> UdpColumns:
    """Locate UDP (RFC 768) in IPv4 (RFC 791) and IPv6 (RFC 8200, no extension headers)."""
    data = frames.data
    ip = ip_layer_offsets(frames)
    end = frames.offsets + frames.caplen
    sel = np.flatnonzero(ip >= 0)
    ip, end = ip[sel], end[sel]
    v4 = (data[ip] >> 4) == 4
    have = np.where(v4, 20, 40) <= end - ip
    ip_c = np.where(have, ip, 0)  # header bytes present: safe to read (masked otherwise)
    ihl = (data[ip_c] & 0x0F).astype(np.int64) * 4
    proto = np.where(v4, data[ip_c + 9], data[ip_c + 6])
    unfragmented = np.where(v4, (be16(data, ip_c + 6) & 0x3FFF) == 0, True)
    ip_len = np.where(v4, be16(data, ip_c + 2), 40 + be16(data, ip_c + 4))
    udp = ip + np.where(v4, ihl, 40)
    is_udp = have & (proto == 17) & unfragmented & (np.where(v4, ihl >= 20, True))
    stop = np.minimum(end, ip + ip_len)
    ok = is_udp & (udp + 8 <= stop)
    truncated = int((is_udp & ~ok).sum())
    sel, ip, udp, stop, v4 = sel[ok], ip[ok], udp[ok], stop[ok], v4[ok]
    ulen = be16(data, udp + 4)
    stop = np.where(ulen >= 8, np.minimum(stop, udp + ulen), stop)
    src, dst = np.zeros((sel.shape[0], 16), np.uint8), np.zeros((sel.shape[0], 16), np.uint8)
    for is4, width, s_at, d_at in ((True, 4, 12, 16), (False, 16, 8, 24)):
        m = v4 == is4
        src[m] = _addr_rows(data, ip[m] + s_at, width)
        dst[m] = _addr_rows(data, ip[m] + d_at, width)
    return UdpColumns(
        data=data,
        ts_ns=frames.ts_ns[sel],
        src=src,
        dst=dst,
        sport=be16(data, udp),
        dport=be16(data, udp + 2),
        start=udp + 8,
        end=stop,
        truncated=truncated,
    )


def _addr_text(row: np.ndarray) -> str:
    addr = ipaddress.IPv6Address(row.tobytes())
    return str(addr.ipv4_mapped or addr)


def udp_payloads(frames: Frames) -> Iterator[UdpDatagram]:
    """Each complete UDP datagram: ``(ts_ns, src, dst, sport, dport, payload)``.

    One small tuple per datagram: meant for export captures (NetFlow/IPFIX), where one
    datagram carries many records. Hot paths over many datagrams use :func:`udp_columns`.
    """
    cols = udp_columns(frames)
    view = memoryview(cols.data.data)
    for i in range(cols.ts_ns.shape[0]):
        yield UdpDatagram(
            int(cols.ts_ns[i]),
            _addr_text(cols.src[i]),
            _addr_text(cols.dst[i]),
            int(cols.sport[i]),
            int(cols.dport[i]),
            view[int(cols.start[i]) : int(cols.end[i])],
        )
