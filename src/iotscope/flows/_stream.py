"""Bounded-memory reading of flow files: text in whole lines, captures in whole records.

``text_chunks`` cuts a file into pieces of about ``chunk_bytes`` that end at a newline;
``capture_chunks`` cuts a classic pcap or pcapng file into small self-contained captures (the
file header, or the current section's SHB and interface blocks, then whole records). Either
way at most one chunk (plus one record or line) is in memory, whatever the file's size.

Bad framing is counted, never raised, once the file is known to be what it says: a line longer
than ``max_line`` is one bad line (skipped up to its newline); a capture record whose length is
bogus ends the walk (classic pcap cannot resynchronise) and a record cut off by the end of the
file counts as one truncated record. Bytes that are not a capture at all raise ParseError.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from iotscope.errors import ParseError

__all__ = ["CHUNK_BYTES", "CaptureCounts", "capture_chunks", "text_chunks"]

CHUNK_BYTES = 4 << 20
MAX_LINE = 1 << 20
MAX_RECORD = (1 << 24) + 16  # the pcap reader's largest snapshot length, plus a header
_PCAP_MAGIC = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}
_SHB, _IDB = 0x0A0D0D0A, 1
_BOM = 0x1A2B3C4D


@dataclass
class CaptureCounts:
    """Framing problems met while cutting a capture into chunks."""

    truncated_records: int = 0
    bad_records: int = 0


def text_chunks(
    fh: BinaryIO, chunk_bytes: int = CHUNK_BYTES, max_line: int = MAX_LINE
) -> Iterator[tuple[bytes, int]]:
    """Pieces of ``fh`` ending at a newline (the last may not): ``(piece, overlong lines
    skipped before it)``. A piece is at most ``chunk_bytes + max_line`` bytes."""
    carry, skipped, skipping = b"", 0, False
    while True:
        block = fh.read(chunk_bytes)
        if not block:
            break
        if skipping:
            cut = block.find(b"\n")
            if cut < 0:
                continue
            block, skipping = block[cut + 1 :], False
        data = carry + block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
        else:
            yield data[: cut + 1], skipped
            carry, skipped = data[cut + 1 :], 0
        if len(carry) > max_line:
            carry, skipped, skipping = b"", skipped + 1, True
    if carry or skipped:
        yield carry, skipped


def capture_chunks(
    fh: BinaryIO, counts: CaptureCounts, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """Self-contained captures of about ``chunk_bytes`` each, in file order."""
    head = fh.read(4)
    if head in _PCAP_MAGIC:
        yield from _classic(fh, head, counts, chunk_bytes)
    elif len(head) == 4 and struct.unpack("<I", head)[0] == _SHB:
        yield from _pcapng(fh, head, counts, chunk_bytes)
    else:
        raise ParseError("not a capture file: unknown magic", magic=head.hex())


def _classic(fh: BinaryIO, magic: bytes, counts: CaptureCounts, size: int) -> Iterator[bytes]:
    header = magic + fh.read(20)
    if len(header) < 24:
        raise ParseError("not a capture file: truncated pcap header", size=len(header))
    length = struct.Struct(_PCAP_MAGIC[magic] + "I")
    buf, eof = b"", False
    while not eof:
        block = fh.read(size)
        eof = not block
        buf += block
        off = 0
        while len(buf) - off >= 16:
            (incl,) = length.unpack_from(buf, off + 8)
            if incl + 16 > MAX_RECORD:
                counts.bad_records += 1
                if off:
                    yield header + buf[:off]
                return
            if off + 16 + incl > len(buf):
                break
            off += 16 + incl
        if off:
            yield header + buf[:off]
        buf = buf[off:]
    if buf:
        counts.truncated_records += 1


def _pcapng(fh: BinaryIO, magic: bytes, counts: CaptureCounts, size: int) -> Iterator[bytes]:
    """Blocks (type, total length, body, total length); the current section's SHB and IDBs
    prefix every chunk so that interface numbers keep their meaning."""
    buf, prefix, body, order, eof = magic, b"", bytearray(), "<", False
    while not eof:
        block = fh.read(size)
        eof = not block
        buf += block
        off = 0
        while len(buf) - off >= 12:
            btype = struct.unpack_from("<I", buf, off)[0]
            if btype == _SHB:
                order = "<" if struct.unpack_from("<I", buf, off + 8)[0] == _BOM else ">"
            (blen,) = struct.unpack_from(order + "I", buf, off + 4)
            if blen < 12 or blen % 4 or blen > MAX_RECORD:
                counts.bad_records += 1
                if body:
                    yield prefix + bytes(body)
                return
            if off + blen > len(buf):
                break
            raw = buf[off : off + blen]
            if btype == _SHB:
                if body:
                    yield prefix + bytes(body)
                    body.clear()
                prefix = raw
            elif struct.unpack_from(order + "I", raw)[0] == _IDB:
                prefix += raw
            else:
                body += raw
            off += blen
        buf = buf[off:]
        if len(body) >= size:
            yield prefix + bytes(body)
            body.clear()
    if body:
        yield prefix + bytes(body)
    if buf:
        counts.truncated_records += 1
