"""Reading classic pcap and pcapng files into :class:`Frames` without one object per packet.

Record boundaries are found by a minimal walk (one ``unpack_from`` per record: a pcap record's
position depends on the previous record's length, so the walk is inherently sequential); every
header field is then gathered for all packets at once with numpy.

Formats:

- classic pcap (libpcap ``pcap-savefile(5)``, draft-ietf-opsawg-pcap): 24-byte file header,
  magic ``0xA1B2C3D4`` (microseconds) or ``0xA1B23C4D`` (nanoseconds) in either byte order,
  then 16-byte record headers ``ts_sec, ts_frac, incl_len, orig_len``.
- pcapng (draft-ietf-opsawg-pcapng): Section Header Block (byte-order magic ``0x1A2B3C4D``,
  section 4.1), Interface Description Block (link type, snaplen, ``if_tsresol`` and
  ``if_tsoffset`` options, section 4.2), Enhanced Packet Block (4.3), Simple Packet Block (4.4),
  the obsolete Packet Block (appendix); other blocks are skipped by their length.

A truncated or bogus record is counted in ``Frames.errors``; when a record's length cannot be
trusted the walk stops there (there is no way to find the next record). Bytes that are not a
capture at all raise :class:`iotscope.errors.ParseError`.
"""

from __future__ import annotations

import mmap
import os
import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from iotscope.errors import ParseError
from iotscope.pcap._frames import Frames, empty_frames
from iotscope.pcap._layers import gather_rows

__all__ = ["iter_frames", "read_frames"]

MAX_CAPLEN = 0x40000  # libpcap's largest snapshot length (262144)
_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1),
}
_SHB = 0x0A0D0D0A
_IDB, _OPB, _SPB, _EPB = 1, 2, 3, 6
_BYTE_ORDER_MAGIC = 0x1A2B3C4D


def read_frames(source: str | os.PathLike[str] | bytes | bytearray | memoryview) -> Frames:
    """Read a classic pcap or pcapng capture from a path (memory-mapped) or from bytes."""
    buf = _open(source)
    if _kind(buf) == "pcap":
        return _read_classic(buf)
    return _read_pcapng(buf)


def _kind(buf: bytes | mmap.mmap) -> str:
    """``"pcap"`` or ``"pcapng"`` from the first four bytes, else :class:`ParseError`."""
    if len(buf) < 4:
        raise ParseError("not a capture file: too short", size=len(buf))
    head = bytes(buf[:4])
    if head in _PCAP_MAGIC:
        return "pcap"
    if struct.unpack_from("<I", head)[0] == _SHB:
        return "pcapng"
    raise ParseError("not a capture file: unknown magic", magic=head.hex())


def _open(source: str | os.PathLike[str] | bytes | bytearray | memoryview) -> bytes | mmap.mmap:
    if isinstance(source, bytes):
        return source
    if isinstance(source, bytearray | memoryview):
        return bytes(source)
    path = Path(source)
    try:
        with path.open("rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return b""
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise ParseError("cannot read capture", path=str(path), reason=exc.strerror) from exc


def _u32(data: np.ndarray, idx: np.ndarray, order: str) -> np.ndarray:
    """Unsigned 32-bit integers at byte offsets ``idx`` (all in range) in byte order ``order``."""
    b = [data[idx + k].astype(np.uint32) for k in range(4)]
    if order == "<":
        return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


# --- classic pcap -----------------------------------------------------------------------------


def iter_frames(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview, batch: int = 1 << 20
) -> Iterator[Frames]:
    """Read a capture in batches of at most ``batch`` packets (classic pcap), so that a
    multi-gigabyte file needs memory for its mapping plus one batch of columns.

    pcapng is yielded as one batch (its packet offsets are collected first).
    """
    buf = _open(source)
    _kind(buf)
    if bytes(buf[:4]) not in _PCAP_MAGIC:
        yield _read_pcapng(buf)
        return
    data, order, ns_per_unit, network, max_caplen = _classic_header(buf)
    for records, errors in _walk_classic(buf, order, max_caplen, batch):
        yield _classic_frames(data, records, errors, order, ns_per_unit, network)


def _classic_header(buf: bytes | mmap.mmap) -> tuple[np.ndarray, str, int, int, int]:
    if len(buf) < 24:
        raise ParseError("not a capture file: truncated pcap header", size=len(buf))
    order, ns_per_unit = _PCAP_MAGIC[bytes(buf[:4])]
    snaplen, network = struct.unpack_from(order + "II", buf, 16)
    max_caplen = max(MAX_CAPLEN, min(snaplen, 1 << 24))
    return np.frombuffer(buf, dtype=np.uint8), order, ns_per_unit, network, max_caplen


def _read_classic(buf: bytes | mmap.mmap) -> Frames:
    data, order, ns_per_unit, network, max_caplen = _classic_header(buf)
    parts = list(_walk_classic(buf, order, max_caplen, 1 << 62))
    records, errors = parts[0]
    return _classic_frames(data, records, errors, order, ns_per_unit, network)


def _classic_frames(
    data: np.ndarray, records: array[int], errors: int, order: str, ns_per_unit: int, network: int
) -> Frames:
    if not records:
        return empty_frames(data, errors)
    hdr = np.frombuffer(records, dtype=np.int64)
    fields = gather_rows(data, hdr, 16).view(order + "u4")  # (n, 4) record headers
    sec, frac = fields[:, 0].astype(np.int64), fields[:, 1].astype(np.int64)
    return Frames(
        data=data,
        offsets=hdr + 16,
        caplen=fields[:, 2].astype(np.uint32),
        wirelen=fields[:, 3].astype(np.uint32),
        ts_ns=sec * 1_000_000_000 + frac * ns_per_unit,
        linktype=np.full(hdr.shape[0], network & 0xFFFF, dtype=np.uint16),
        errors=errors,
    )


def _walk_classic(
    buf: bytes | mmap.mmap, order: str, max_caplen: int, batch: int
) -> Iterator[tuple[array[int], int]]:
    """Offsets of complete record headers, ``batch`` at a time, each with its error count
    (1 for a record whose length is bogus or runs past the end: the walk stops there)."""
    walker = _ClassicWalker(buf, order, max_caplen)
    while True:
        records, errors, done = walker.next_batch(batch)
        yield records, errors
        if done:
            return


_RUN_MIN, _RUN_MAX, _SCALAR_BURST = 32, 1 << 16, 512


class _ClassicWalker:
    """Walks record headers; runs of equal-length records are taken vectorised.

    Darknet captures are mostly probes of one or a few sizes, so consecutive records often
    share a length. From each position the walker checks, with strided numpy views, how many
    records of the current length follow (``_speculate``: 32, then doubling while it keeps
    holding); when the run breaks it falls back to ``_SCALAR_BURST`` one-record steps. Every
    record is still checked: a run is only taken where each header says the same length.
    """

    def __init__(self, buf: bytes | mmap.mmap, order: str, max_caplen: int) -> None:
        self.buf, self.data = buf, np.frombuffer(buf, dtype=np.uint8)
        self.unpack = struct.Struct(order + "I").unpack_from
        self.byteorder: Literal["little", "big"] = "little" if order == "<" else "big"
        self.max_caplen, self.off, self.end, self.run = max_caplen, 24, len(buf), _RUN_MIN

    def next_batch(self, limit: int) -> tuple[array[int], int, bool]:
        """Up to ``limit`` record offsets, the error count, and whether the walk is over."""
        records: array[int] = array("q")
        while len(records) < limit and self.off + 16 <= self.end:
            room = limit - len(records)
            taken = self._speculate(records, room)
            if taken >= self.run:
                self.run = min(2 * self.run, _RUN_MAX)
                continue
            self.run = _RUN_MIN
            if not self._scalar(records, min(room - taken, _SCALAR_BURST)):
                return records, 1, True
        done = self.off + 16 > self.end
        return records, int(done and self.off != self.end), done

    def _scalar(self, records: array[int], count: int) -> bool:
        """Up to ``count`` records one by one; False at a bogus or cut-off record."""
        unpack, buf, end, max_caplen, off = (
            self.unpack,
            self.buf,
            self.end,
            self.max_caplen,
            self.off,
        )
        append = records.append
        for _ in range(count):
            if off + 16 > end:
                break
            caplen = unpack(buf, off + 8)[0]
            nxt = off + 16 + caplen
            if caplen > max_caplen or nxt > end:
                self.off = off
                return False
            append(off)
            off = nxt
        self.off = off
        return True

    def _speculate(self, records: array[int], room: int) -> int:
        """Take the run of records with the same length as the one at ``self.off``."""
        off = self.off
        caplen = self.unpack(self.buf, off + 8)[0]
        stride = 16 + caplen
        k = min(room, self.run, (self.end - off) // stride)
        if caplen > self.max_caplen or k < 2:
            return 0
        same = np.ones(k, dtype=bool)
        last = off + 8 + (k - 1) * stride
        for j, byte in enumerate(caplen.to_bytes(4, self.byteorder)):
            same &= self.data[off + 8 + j : last + j + 1 : stride] == byte
        taken = k if same.all() else int(np.argmin(same))
        records.frombytes(np.arange(off, off + taken * stride, stride, dtype=np.int64).tobytes())
        self.off = off + taken * stride
        return taken


# --- pcapng -----------------------------------------------------------------------------------


@dataclass
class _Iface:
    linktype: int
    snaplen: int
    tsresol: int = 6  # if_tsresol byte: 10^-6 s by default (pcapng section 4.2)
    tsoffset: int = 0


@dataclass
class _Section:
    order: str
    ifaces: list[_Iface] = field(default_factory=list)
    epb: array[int] = field(default_factory=lambda: array("q"))  # EPB and obsolete PB
    opb: array[int] = field(default_factory=lambda: array("b"))
    spb: array[int] = field(default_factory=lambda: array("q"))


def _read_pcapng(buf: bytes | mmap.mmap) -> Frames:
    data = np.frombuffer(buf, dtype=np.uint8)
    sections, errors = _walk_pcapng(buf)
    parts = [_section_frames(data, s) for s in sections]
    errors += sum(bad for _, bad in parts)
    frames = [f for f, _ in parts if f is not None]
    if not frames:
        return empty_frames(data, errors)
    return Frames(
        data=data,
        offsets=np.concatenate([f.offsets for f in frames]),
        caplen=np.concatenate([f.caplen for f in frames]),
        wirelen=np.concatenate([f.wirelen for f in frames]),
        ts_ns=np.concatenate([f.ts_ns for f in frames]),
        linktype=np.concatenate([f.linktype for f in frames]),
        errors=errors,
    )


def _shb_order(buf: bytes | mmap.mmap, off: int) -> str | None:
    if off + 12 > len(buf):
        return None
    for order in "<>":
        if struct.unpack_from(order + "I", buf, off + 8)[0] == _BYTE_ORDER_MAGIC:
            return order
    return None


def _walk_pcapng(buf: bytes | mmap.mmap) -> tuple[list[_Section], int]:
    """Sections with their interfaces and packet-block offsets; the count of bad blocks."""
    order = _shb_order(buf, 0)
    if order is None:
        raise ParseError("not a capture file: pcapng section header without byte-order magic")
    end = len(buf)
    sections: list[_Section] = []
    off = 0
    while off < end:
        if off + 12 > end:
            return sections, 1
        btype = struct.unpack_from("<I", buf, off)[0]
        if btype == _SHB:
            new_order = _shb_order(buf, off)
            if new_order is None:
                return sections, 1
            order = new_order
        blen = struct.unpack_from(order + "I", buf, off + 4)[0]
        if blen < 12 or blen % 4 or off + blen > end:
            return sections, 1
        if btype == _SHB:
            sections.append(_Section(order))
        else:
            _note_block(sections[-1], buf, off, struct.unpack_from(order + "I", buf, off)[0], blen)
        off += blen
    return sections, 0


def _note_block(sec: _Section, buf: bytes | mmap.mmap, off: int, btype: int, blen: int) -> None:
    if btype in (_EPB, _OPB):
        sec.epb.append(off)
        sec.opb.append(btype == _OPB)
    elif btype == _SPB:
        sec.spb.append(off)
    elif btype == _IDB and blen >= 20:
        linktype, _, snaplen = struct.unpack_from(sec.order + "HHI", buf, off + 8)
        iface = _Iface(linktype, snaplen)
        _read_idb_options(iface, buf, off + 16, off + blen - 4, sec.order)
        sec.ifaces.append(iface)


def _read_idb_options(
    iface: _Iface, buf: bytes | mmap.mmap, off: int, end: int, order: str
) -> None:
    """``if_tsresol`` (code 9) and ``if_tsoffset`` (code 14) of pcapng section 4.2."""
    while off + 4 <= end:
        code, length = struct.unpack_from(order + "HH", buf, off)
        if code == 0 or off + 4 + length > end:
            return
        if code == 9 and length >= 1:
            iface.tsresol = buf[off + 4]
        elif code == 14 and length >= 8:
            iface.tsoffset = struct.unpack_from(order + "q", buf, off + 4)[0]
        off += 4 + (length + 3) // 4 * 4


def _section_frames(data: np.ndarray, sec: _Section) -> tuple[Frames | None, int]:
    """Gather one section's packets; packets of unknown interfaces or bad lengths are errors."""
    parts = [p for p in (_epb_frames(data, sec), _spb_frames(data, sec)) if p is not None]
    bad = sum(b for _, b in parts)
    frames = [f for f, _ in parts]
    if not frames:
        return None, bad
    if len(frames) == 1:
        return frames[0], bad
    merged = Frames(
        data=data,
        offsets=np.concatenate([f.offsets for f in frames]),
        caplen=np.concatenate([f.caplen for f in frames]),
        wirelen=np.concatenate([f.wirelen for f in frames]),
        ts_ns=np.concatenate([f.ts_ns for f in frames]),
        linktype=np.concatenate([f.linktype for f in frames]),
    )
    order = np.argsort(merged.offsets, kind="stable")
    return merged.select(order), bad


def _epb_frames(data: np.ndarray, sec: _Section) -> tuple[Frames, int] | None:
    if not sec.epb:
        return None
    blk = np.frombuffer(sec.epb, dtype=np.int64)
    blen = _u32(data, blk + 4, sec.order).astype(np.int64)
    ok = blen >= 32
    blk, blen = blk[ok], blen[ok]
    bad = int((~ok).sum())
    iface = _u32(data, blk + 8, sec.order)
    is_opb = np.frombuffer(sec.opb, dtype=np.int8)[ok] != 0
    opb_iface = iface & 0xFFFF if sec.order == "<" else iface >> 16  # a u16 then drops_count
    iface = np.where(is_opb, opb_iface, iface).astype(np.int64)
    caplen = _u32(data, blk + 20, sec.order)
    ok = (iface < len(sec.ifaces)) & (caplen.astype(np.int64) <= blen - 32)
    bad += int((~ok).sum())
    blk, iface, caplen = blk[ok], iface[ok], caplen[ok]
    raw = (_u32(data, blk + 12, sec.order).astype(np.uint64) << np.uint64(32)) | _u32(
        data, blk + 16, sec.order
    ).astype(np.uint64)
    frames = Frames(
        data=data,
        offsets=blk + 28,
        caplen=caplen,
        wirelen=_u32(data, blk + 24, sec.order),
        ts_ns=_iface_ts_ns(raw, iface, sec.ifaces),
        linktype=_iface_linktypes(iface, sec.ifaces),
    )
    return frames, bad


def _spb_frames(data: np.ndarray, sec: _Section) -> tuple[Frames, int] | None:
    """Simple Packet Blocks: interface 0, no timestamp (0), caplen from the block length."""
    if not sec.spb:
        return None
    if not sec.ifaces:
        return empty_frames(data), len(sec.spb)
    blk = np.frombuffer(sec.spb, dtype=np.int64)
    blen = _u32(data, blk + 4, sec.order).astype(np.int64)
    wirelen = _u32(data, blk + 8, sec.order)
    caplen = np.minimum(wirelen.astype(np.int64), np.maximum(blen - 16, 0))
    if sec.ifaces[0].snaplen:
        caplen = np.minimum(caplen, sec.ifaces[0].snaplen)
    zeros = np.zeros(blk.shape[0], dtype=np.int64)
    frames = Frames(
        data=data,
        offsets=blk + 12,
        caplen=caplen.astype(np.uint32),
        wirelen=wirelen,
        ts_ns=zeros,
        linktype=_iface_linktypes(zeros, sec.ifaces),
    )
    return frames, 0


def _iface_linktypes(iface: np.ndarray, ifaces: list[_Iface]) -> np.ndarray:
    table = np.asarray([i.linktype for i in ifaces], dtype=np.uint16)
    return table[iface]


def _iface_ts_ns(raw: np.ndarray, iface: np.ndarray, ifaces: list[_Iface]) -> np.ndarray:
    out = np.zeros(raw.shape[0], dtype=np.int64)
    for i in np.unique(iface):
        sel = iface == i
        spec = ifaces[int(i)]
        ns = _units_to_ns(raw[sel], spec.tsresol)
        offset = (spec.tsoffset * 1_000_000_000 + 2**63) % 2**64 - 2**63  # wraps like int64
        with np.errstate(over="ignore"):
            out[sel] = ns + np.int64(offset)
    return out


def _units_to_ns(raw: np.ndarray, tsresol: int) -> np.ndarray:
    """``if_tsresol``: MSB clear means units of 10^-n seconds, set means 2^-n (section 4.2)."""
    exp = tsresol & 0x7F
    with np.errstate(over="ignore"):
        if not tsresol & 0x80:
            if exp <= 9:
                return (raw * np.uint64(10 ** (9 - exp))).view(np.int64)
            return (raw // np.uint64(10 ** min(exp - 9, 19))).view(np.int64)
        if exp >= 64:
            return np.zeros(raw.shape[0], dtype=np.int64)
        sec = raw >> np.uint64(exp)
        frac = (raw & np.uint64((1 << exp) - 1)).astype(np.float64) / float(1 << exp)
        return (sec * np.uint64(1_000_000_000)).view(np.int64) + (frac * 1e9).astype(np.int64)
