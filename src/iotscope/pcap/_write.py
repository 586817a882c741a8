"""Writing classic pcap files (libpcap ``pcap-savefile(5)``), one packet or millions at once.

Files are written little-endian with magic ``0xA1B2C3D4`` (microsecond timestamps) or
``0xA1B23C4D`` (nanosecond), version 2.4. :func:`write_ipv4_tcp_batch` builds IPv4 + TCP
packets for whole arrays with numpy (header checksum RFC 791/1071, TCP checksum over the
pseudo-header RFC 9293 section 3.1) and writes them in chunks of bounded memory.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np

from iotscope.pcap._build import DEFAULT_DST_MAC, DEFAULT_SRC_MAC
from iotscope.pcap._frames import LINKTYPE_ETHERNET, LINKTYPE_RAW

__all__ = [
    "PcapWriter",
    "ipv4_tcp_batch",
    "with_ethernet",
    "write_interleaved",
    "write_ipv4_tcp_batch",
]

_BATCH_ROWS = 1 << 20


class PcapWriter:
    """Context manager writing a classic pcap file; the link type is chosen at open."""

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[bytes],
        linktype: int = LINKTYPE_ETHERNET,
        *,
        nanosecond: bool = False,
        snaplen: int = 262144,
    ) -> None:
        if isinstance(target, str | os.PathLike):
            self._own = True
            self._fh: IO[bytes] = Path(target).open("wb")  # noqa: SIM115 (closed in close())
        else:
            self._own = False
            self._fh = target
        self.nanosecond = nanosecond
        self.snaplen = snaplen
        self.count = 0
        magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
        self._fh.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._own:
            self._fh.close()
        else:
            self._fh.flush()

    def _split(self, ts_ns: int) -> tuple[int, int]:
        sec, frac = divmod(ts_ns, 1_000_000_000)
        return sec, frac if self.nanosecond else frac // 1000

    def write(self, ts_ns: int, packet: bytes, wirelen: int | None = None) -> None:
        """One packet, cut to the snapshot length; ``wirelen`` defaults to its full length."""
        sec, frac = self._split(ts_ns)
        cap = packet[: self.snaplen]
        full = len(packet) if wirelen is None else wirelen
        self._fh.write(struct.pack("<IIII", sec, frac, len(cap), full) + cap)
        self.count += 1

    def write_many(self, ts_ns: Sequence[int] | np.ndarray, packets: Sequence[bytes]) -> None:
        """Packets of any lengths, in the order given."""
        for ts, pkt in zip(ts_ns, packets, strict=True):
            self.write(int(ts), pkt)

    def write_bytes(self, records: bytes) -> None:
        """Already-built records (16-byte headers and packets), written as they are."""
        self._fh.write(records)

    def write_rows(self, ts_ns: np.ndarray, rows: np.ndarray) -> None:
        """Equal-length packets (a 2-D uint8 array, one row each) in one vectorised write."""
        n, width = rows.shape
        cap = min(width, self.snaplen)
        sec, frac = np.divmod(np.asarray(ts_ns, dtype=np.int64), 1_000_000_000)
        hdr = np.empty((n, 4), dtype="<u4")
        hdr[:, 0] = sec
        hdr[:, 1] = frac if self.nanosecond else frac // 1000
        hdr[:, 2] = cap
        hdr[:, 3] = width
        out = np.empty((n, 16 + cap), dtype=np.uint8)
        out[:, :16] = hdr.view(np.uint8).reshape(n, 16)
        out[:, 16:] = rows[:, :cap]
        self._fh.write(out.tobytes())
        self.count += n


def write_interleaved(
    path: str | os.PathLike[str],
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    linktype: int = LINKTYPE_ETHERNET,
    *,
    nanosecond: bool = False,
) -> int:
    """Write groups of equal-length packets (``(ts_ns, rows)``, rows a 2-D uint8 array, one
    width per group) as one capture in time order; vectorised, ``_BATCH_ROWS`` at a time."""
    ts = np.concatenate([np.asarray(t, dtype=np.int64) for t, _ in groups])
    group = np.concatenate([np.full(len(t), g, dtype=np.int64) for g, (t, _) in enumerate(groups)])
    row = np.concatenate([np.arange(len(t), dtype=np.int64) for t, _ in groups])
    widths = np.array([rows.shape[1] for _, rows in groups], dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    with PcapWriter(path, linktype, nanosecond=nanosecond) as out:
        for lo in range(0, order.shape[0], _BATCH_ROWS):
            part = order[lo : lo + _BATCH_ROWS]
            out.write_bytes(_interleave(out, ts[part], group[part], row[part], groups, widths))
            out.count += part.shape[0]
    return int(order.shape[0])


def _interleave(
    out: PcapWriter,
    ts: np.ndarray,
    group: np.ndarray,
    row: np.ndarray,
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    widths: np.ndarray,
) -> bytes:
    """Records for the given packets (in this order) as one buffer, built group by group."""
    size = 16 + widths[group]
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    buf = np.empty(int(size.sum()), dtype=np.uint8)
    sec, frac = np.divmod(ts, 1_000_000_000)
    hdr = np.empty((ts.shape[0], 4), dtype="<u4")
    hdr[:, 0], hdr[:, 1] = sec, frac if out.nanosecond else frac // 1000
    hdr[:, 2] = hdr[:, 3] = widths[group]
    _scatter_rows(buf, start, hdr.view(np.uint8).reshape(-1, 16))
    for g, (_, rows) in enumerate(groups):
        sel = np.flatnonzero(group == g)
        if sel.size:
            _scatter_rows(buf, start[sel] + 16, rows[row[sel]])
    return buf.tobytes()


def _scatter_rows(buf: np.ndarray, at: np.ndarray, rows: np.ndarray) -> None:
    """``buf[at[i] : at[i] + width] = rows[i]`` for every i, one memcpy per row."""
    width = rows.shape[1]
    if width == 0:
        return
    blocks = np.ndarray(
        shape=(buf.shape[0] - width + 1,),
        dtype=np.dtype((np.void, width)),
        buffer=buf,
        strides=(1,),
    )
    blocks[at] = np.ascontiguousarray(rows).view(np.dtype((np.void, width))).reshape(-1)


def _put16(m: np.ndarray, col: int, value: np.ndarray | int) -> None:
    v = np.asarray(value, dtype=np.int64)
    m[:, col] = (v >> 8) & 0xFF
    m[:, col + 1] = v & 0xFF


def _put32(m: np.ndarray, col: int, value: np.ndarray | int) -> None:
    v = np.asarray(value, dtype=np.int64)
    _put16(m, col, v >> 16)
    _put16(m, col + 2, v & 0xFFFF)


def _fold(total: np.ndarray) -> np.ndarray:
    """Ones' complement of the ones' complement 16-bit sum (RFC 1071)."""
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _word_sum(m: np.ndarray) -> np.ndarray:
    words = (m[:, 0::2].astype(np.int64) << 8) | m[:, 1::2]
    return words.sum(axis=1)


def ipv4_tcp_batch(
    src_u32: np.ndarray,
    dst_u32: np.ndarray,
    sport: np.ndarray | int,
    dport: np.ndarray | int,
    seq: np.ndarray | int,
    flags: np.ndarray | int = 0x02,
    ttl: np.ndarray | int = 64,
    window: np.ndarray | int = 14600,
    *,
    ack: np.ndarray | int = 0,
    ip_id: np.ndarray | int = 0,
    options: bytes = b"",
) -> np.ndarray:
    """IPv4 + TCP packets (no payload) as an ``(n, 40 + len(options))`` uint8 array; the same
    TCP ``options`` (zero-padded to 32 bits) in every packet."""
    options += b"\0" * (-len(options) % 4)
    tcp_len = 20 + len(options)
    n = np.asarray(src_u32).shape[0]
    ip = np.zeros((n, 20), dtype=np.uint8)
    ip[:, 0], ip[:, 9] = 0x45, 6
    _put16(ip, 2, 20 + tcp_len)
    _put16(ip, 4, ip_id)
    ip[:, 8] = np.asarray(ttl, dtype=np.int64) & 0xFF
    _put32(ip, 12, src_u32)
    _put32(ip, 16, dst_u32)
    _put16(ip, 10, _fold(_word_sum(ip)))
    tcp = np.zeros((n, tcp_len), dtype=np.uint8)
    tcp[:, 20:] = np.frombuffer(options, dtype=np.uint8)
    _put16(tcp, 0, sport)
    _put16(tcp, 2, dport)
    _put32(tcp, 4, np.asarray(seq, dtype=np.int64) & 0xFFFFFFFF)
    _put32(tcp, 8, np.asarray(ack, dtype=np.int64) & 0xFFFFFFFF)
    tcp[:, 12] = (tcp_len // 4) << 4
    tcp[:, 13] = np.asarray(flags, dtype=np.int64) & 0xFF
    _put16(tcp, 14, window)
    pseudo = _word_sum(ip[:, 12:20]) + 6 + tcp_len
    _put16(tcp, 16, _fold(pseudo + _word_sum(tcp)))
    return np.concatenate([ip, tcp], axis=1)


def with_ethernet(rows: np.ndarray) -> np.ndarray:
    """Prefix every row with an Ethernet II header (EtherType IPv4)."""
    eth = np.empty((rows.shape[0], 14), dtype=np.uint8)
    eth[:, :6] = np.frombuffer(DEFAULT_DST_MAC, np.uint8)
    eth[:, 6:12] = np.frombuffer(DEFAULT_SRC_MAC, np.uint8)
    eth[:, 12:14] = (0x08, 0x00)
    return np.concatenate([eth, rows], axis=1)


def write_ipv4_tcp_batch(
    path: str | os.PathLike[str],
    ts_ns: np.ndarray,
    src_u32: np.ndarray,
    dst_u32: np.ndarray,
    sport: np.ndarray | int,
    dport: np.ndarray | int,
    seq: np.ndarray | int,
    flags: np.ndarray | int = 0x02,
    ttl: np.ndarray | int = 64,
    window: np.ndarray | int = 14600,
    *,
    ack: np.ndarray | int = 0,
    ip_id: np.ndarray | int = 0,
    linktype: int = LINKTYPE_ETHERNET,
    nanosecond: bool = False,
) -> int:
    """Write one IPv4 + TCP packet per array row to a new pcap; return the packet count.

    Scalars broadcast. Rows are written in the order given (sort by ``ts_ns`` first for a
    time-ordered capture), built and written 1M at a time. ``linktype`` is Ethernet or RAW.
    """
    if linktype not in (LINKTYPE_ETHERNET, LINKTYPE_RAW):
        raise ValueError(f"write_ipv4_tcp_batch writes Ethernet or RAW, not linktype {linktype}")
    n = np.asarray(src_u32).shape[0]
    cols = [ts_ns, src_u32, dst_u32, sport, dport, seq, flags, ttl, window, ack, ip_id]
    arrays = [np.broadcast_to(np.asarray(c, dtype=np.int64), (n,)) for c in cols]
    with PcapWriter(path, linktype, nanosecond=nanosecond) as out:
        for lo in range(0, n, _BATCH_ROWS):
            part = [a[lo : lo + _BATCH_ROWS] for a in arrays]
            rows = ipv4_tcp_batch(*part[1:9], ack=part[9], ip_id=part[10])
            out.write_rows(part[0], with_ethernet(rows) if linktype == LINKTYPE_ETHERNET else rows)
    return n
