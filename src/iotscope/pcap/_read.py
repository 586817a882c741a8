"""Reading classic pcap and pcapng files into :class:`Frames` without one object per packet.

Files are memory-mapped (never read into memory as a whole), bytes are used in place. The
format is told by the first four bytes; see :mod:`iotscope.pcap._classic` and
:mod:`iotscope.pcap._pcapng`. Malformed or truncated records are counted in ``Frames.errors``;
bytes that are not a capture at all raise :class:`iotscope.errors.ParseError`.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from pathlib import Path

from iotscope.errors import ParseError
from iotscope.pcap._classic import PCAP_MAGIC, classic_batches, read_classic
from iotscope.pcap._frames import Frames
from iotscope.pcap._pcapng import SHB, pcapng_batches, read_pcapng

__all__ = ["iter_frames", "read_frames"]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview


def read_frames(source: Source) -> Frames:
    """Read a classic pcap or pcapng capture from a path (memory-mapped) or from bytes."""
    buf = _open(source)
    if _kind(buf) == "pcap":
        return read_classic(buf)
    return read_pcapng(buf)


def _kind(buf: bytes | mmap.mmap) -> str:
    """``"pcap"`` or ``"pcapng"`` from the first four bytes, else :class:`ParseError`."""
    if len(buf) < 4:
        raise ParseError("not a capture file: too short", size=len(buf))
    head = bytes(buf[:4])
    if head in PCAP_MAGIC:
        return "pcap"
    if struct.unpack_from("<I", head)[0] == SHB:
        return "pcapng"
    raise ParseError("not a capture file: unknown magic", magic=head.hex())


def _open(source: Source) -> bytes | mmap.mmap:
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


def iter_frames(source: Source, batch: int = 1 << 20) -> Iterator[Frames]:
    """Read a capture in batches of at most ``batch`` packets (classic pcap), so that a
    multi-gigabyte file needs memory for its mapping plus one batch of columns.

    pcapng batches also end where a section ends.
    """
    buf = _open(source)
    if _kind(buf) == "pcapng":
        yield from pcapng_batches(buf, batch)
    else:
        yield from classic_batches(buf, batch)
