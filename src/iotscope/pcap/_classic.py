"""Classic pcap files (libpcap ``pcap-savefile(5)``, draft-ietf-opsawg-pcap).

A 24-byte file header (magic ``0xA1B2C3D4`` for microseconds or ``0xA1B23C4D`` for
nanoseconds, in either byte order; snapshot length; link type), then records of a 16-byte
header ``ts_sec, ts_frac, incl_len, orig_len`` and ``incl_len`` bytes. A record's position
depends on the previous record's length, so finding records is a walk; see
:class:`_ClassicWalker` for how runs of equal-length records are taken vectorised. A record
whose length is bogus or runs past the end is counted as one error and ends the walk.
"""

from __future__ import annotations

import mmap
import struct
from array import array
from collections.abc import Iterator
from typing import Literal

import numpy as np

from iotscope.errors import ParseError
from iotscope.pcap._frames import Frames, empty_frames
from iotscope.pcap._layers import gather_rows

__all__ = ["MAX_CAPLEN", "PCAP_MAGIC", "classic_batches", "read_classic"]

MAX_CAPLEN = 0x40000  # libpcap's largest snapshot length (262144)
PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1),
    b"\xa1\xb2\x3c\x4d": (">", 1),
}


def classic_batches(buf: bytes | mmap.mmap, batch: int) -> Iterator[Frames]:
    """The records of a classic pcap, at most ``batch`` packets per :class:`Frames`."""
    data, order, ns_per_unit, network, max_caplen = _classic_header(buf)
    for records, errors in _walk_classic(buf, order, max_caplen, batch):
        yield _classic_frames(data, records, errors, order, ns_per_unit, network)


def _classic_header(buf: bytes | mmap.mmap) -> tuple[np.ndarray, str, int, int, int]:
    if len(buf) < 24:
        raise ParseError("not a capture file: truncated pcap header", size=len(buf))
    order, ns_per_unit = PCAP_MAGIC[bytes(buf[:4])]
    snaplen, network = struct.unpack_from(order + "II", buf, 16)
    max_caplen = max(MAX_CAPLEN, min(snaplen, 1 << 24))
    return np.frombuffer(buf, dtype=np.uint8), order, ns_per_unit, network, max_caplen


def read_classic(buf: bytes | mmap.mmap) -> Frames:
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
