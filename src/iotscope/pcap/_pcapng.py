"""pcapng files (draft-ietf-opsawg-pcapng).

Section Header Block (byte-order magic ``0x1A2B3C4D``, section 4.1), Interface Description
Block (link type, snaplen, ``if_tsresol`` and ``if_tsoffset`` options, section 4.2), Enhanced
Packet Block (4.3), Simple Packet Block (4.4) and the obsolete Packet Block (appendix); other
blocks are skipped by their length. Blocks are walked one by one (blocks, not packets, carry
the structure), packet fields are then gathered for all packet blocks at once. A block whose
length is bad ends the walk with one error; a packet block naming an unknown interface or
claiming more bytes than it holds is one error and skipped.
"""

from __future__ import annotations

import mmap
import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from iotscope.errors import ParseError
from iotscope.pcap._frames import Frames, concat_frames, empty_frames

__all__ = ["SHB", "pcapng_batches", "read_pcapng"]

SHB = 0x0A0D0D0A
_IDB, _OPB, _SPB, _EPB = 1, 2, 3, 6
_BYTE_ORDER_MAGIC = 0x1A2B3C4D


def _u32(data: np.ndarray, idx: np.ndarray, order: str) -> np.ndarray:
    """Unsigned 32-bit integers at byte offsets ``idx`` (all in range) in byte order ``order``."""
    b = [data[idx + k].astype(np.uint32) for k in range(4)]
    if order == "<":
        return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


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

    def packets(self) -> int:
        return len(self.epb) + len(self.spb)


def read_pcapng(buf: bytes | mmap.mmap) -> Frames:
    """Every packet of a pcapng capture."""
    return concat_frames(np.frombuffer(buf, dtype=np.uint8), list(pcapng_batches(buf, 1 << 62)))


def pcapng_batches(buf: bytes | mmap.mmap, batch: int) -> Iterator[Frames]:
    """The packets of a pcapng capture, at most ``batch`` per :class:`Frames` (a batch also
    ends where a section does), each with the errors met while walking it."""
    data = np.frombuffer(buf, dtype=np.uint8)
    for sec, errors in _walk_pcapng(buf, batch):
        frames, bad = _section_frames(data, sec)
        yield concat_frames(data, [frames] if frames is not None else [], errors + bad)


def _shb_order(buf: bytes | mmap.mmap, off: int) -> str | None:
    if off + 12 > len(buf):
        return None
    for order in "<>":
        if struct.unpack_from(order + "I", buf, off + 8)[0] == _BYTE_ORDER_MAGIC:
            return order
    return None


def _walk_pcapng(buf: bytes | mmap.mmap, batch: int) -> Iterator[tuple[_Section, int]]:
    """Sections (split every ``batch`` packet blocks) with their interfaces and packet-block
    offsets, each with its count of bad blocks (1 at most: a bad block ends the walk)."""
    order = _shb_order(buf, 0)
    if order is None:
        raise ParseError("not a capture file: pcapng section header without byte-order magic")
    end, off = len(buf), 0
    sec = _Section(order)
    runs = _EpbRuns(np.frombuffer(buf, dtype=np.uint8))
    while off < end:
        blen = _block_length(buf, off, sec.order)
        if blen is None:
            yield sec, 1
            return
        btype = struct.unpack_from(sec.order + "I", buf, off)[0]
        taken = runs.take(sec, off, blen, batch - sec.packets()) if btype == _EPB else 0
        if taken:
            off += taken * blen
            off = _epbs_one_by_one(sec, buf, off, batch - sec.packets(), runs)
            if sec.packets() >= batch:
                yield sec, 0
                sec = _Section(sec.order, list(sec.ifaces))
            continue
        if btype == SHB:
            if sec.packets():
                yield sec, 0
            sec = _Section(_shb_order(buf, off) or sec.order)
        else:
            _note_block(sec, buf, off, btype, blen)
            if sec.packets() >= batch:
                yield sec, 0
                sec = _Section(sec.order, list(sec.ifaces))
        off += blen
    yield sec, 0


_RUN_MIN, _RUN_MAX, _COOLDOWN = 32, 1 << 16, 512


class _EpbRuns:
    """Takes runs of Enhanced Packet Blocks of one total length at once (as the classic
    walker does for records): strided views check that each block of the run has type 6 and
    the same length; after a run breaks early, ``_COOLDOWN`` blocks go one by one."""

    def __init__(self, data: np.ndarray) -> None:
        self.data, self.run, self.cooldown = data, _RUN_MIN, 0

    def take(self, sec: _Section, off: int, blen: int, room: int) -> int:
        """How many EPBs from ``off`` were noted in ``sec`` (0: do this block by hand)."""
        k = min(room, self.run, (self.data.shape[0] - off) // blen)
        if k < 2:
            self.cooldown = _COOLDOWN
            return 0
        same = np.ones(k, dtype=bool)
        last = off + (k - 1) * blen
        want = struct.pack(sec.order + "II", _EPB, blen)
        for j, byte in enumerate(want):
            same &= self.data[off + j : last + j + 1 : blen] == byte
        taken = k if same.all() else max(int(np.argmin(same)), 1)  # the block at off is an EPB
        self.run = min(2 * self.run, _RUN_MAX) if taken == k else _RUN_MIN
        self.cooldown = 0 if taken == k else _COOLDOWN
        sec.epb.frombytes(np.arange(off, off + taken * blen, blen, dtype=np.int64).tobytes())
        sec.opb.frombytes(bytes(taken))
        return taken


def _epbs_one_by_one(
    sec: _Section, buf: bytes | mmap.mmap, off: int, room: int, runs: _EpbRuns
) -> int:
    """After a run broke: note up to ``runs.cooldown`` following EPBs one by one (a tight loop:
    type and length in one unpack); stop at any other or doubtful block. Returns the offset."""
    if not runs.cooldown:
        return off
    head = struct.Struct(sec.order + "II").unpack_from
    end = len(buf)
    epb, opb = sec.epb.append, sec.opb.append
    for _ in range(min(runs.cooldown, room)):
        if off + 12 > end:
            break
        btype, blen = head(buf, off)
        if btype != _EPB or blen < 32 or blen % 4 or off + blen > end:
            break
        epb(off)
        opb(0)
        off += blen
    runs.cooldown = 0
    return off


def _block_length(buf: bytes | mmap.mmap, off: int, order: str) -> int | None:
    """The total length of the block at ``off`` (a new SHB sets its own byte order), or None
    when it cannot be a block: shorter than 12, not a multiple of 4, past the end."""
    if off + 12 > len(buf):
        return None
    if struct.unpack_from("<I", buf, off)[0] == SHB:
        shb_order = _shb_order(buf, off)
        if shb_order is None:
            return None
        order = shb_order
    blen = int(struct.unpack_from(order + "I", buf, off + 4)[0])
    if blen < 12 or blen % 4 or off + blen > len(buf):
        return None
    return blen


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
    merged = concat_frames(data, frames)
    if len(frames) == 1:
        return merged, bad
    return merged.select(np.argsort(merged.offsets, kind="stable")), bad


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
    for i, spec in enumerate(ifaces):
        sel = iface == i
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
