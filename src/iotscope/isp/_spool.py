"""A write-ahead spool of export datagrams, so a killed collector loses no flow it received.

NetFlow and IPFIX over UDP are never resent: a flow the collector has read from its socket but
not yet written to Parquet would be lost by a kill -9 (the plain collector batches for seconds).
Here every datagram is appended to the site's spool file (``<flows>/_spool/<site>/``) before it
is decoded, by one ``write`` system call: once that returns the bytes are in the kernel's page
cache and outlive the process. After each batch is written as Parquet parts, the spool offset
the batch reached is committed (``spool.json``, written through a rename, with the exporters'
sequence state at that point). On restart :func:`recover`:

1. deletes Parquet parts of batches that were written but whose commit the kill prevented
   (their names carry the spool position they start at: ``part-c<HHMM>-s<seg>o<off>-<n>``);
2. replays the segment: records before the committed offset only teach the decoder its
   templates (their flows are already stored), records after it are decoded and written.

A record is ``flags (1 byte), exporter length (1), payload length (4, big-endian)``, the
exporter's address and the payload; a record cut short by a kill during the write is dropped.
Segments roll over once past ``max_bytes``: the new one starts with the datagrams that carried
each exporter's latest templates (flag PREAMBLE: decoded for templates, flows dropped), then the
records not yet committed, so a replay never lacks a template it had.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from iotscope.flows._decoder import FlowDecoder
from iotscope.flows._parquet import check_site
from iotscope.flows._sequence import SequenceTracker

__all__ = ["Mark", "Spool", "SpooledDecoder", "part_run", "uncommitted_parts"]

HEADER = struct.Struct(">BBI")
PREAMBLE = 1
MAX_BYTES = 64 << 20
_PART = re.compile(r"^part-c\d{4}-s(\d+)o(\d+)-\d+\.parquet$")


@dataclass(frozen=True)
class Mark:
    """Where the spool stood when a batch was taken: segment, offset, sequence state."""

    segment: int
    offset: int
    sequences: list[dict[str, Any]] = field(default_factory=list)


def part_run(segment: int, offset: int) -> str:
    """The run name of parts holding a batch whose records start at ``segment:offset``."""
    return f"s{segment:08d}o{offset:012d}"


class Spool:
    """The site's spool: the open segment, the committed mark, the template datagrams."""

    def __init__(self, root: Path, site: str, *, max_bytes: int = MAX_BYTES) -> None:
        self.folder = root / "_spool" / check_site(site)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.committed = self._load()
        self.segment = self.committed.segment
        self._fd = os.open(self._path(self.segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self.position = self._valid_length(self.segment)
        os.ftruncate(self._fd, self.position)  # drop a record cut short by a kill
        self.templates: dict[str, collections.deque[bytes]] = {}

    def _path(self, segment: int) -> Path:
        return self.folder / f"{segment:08d}.spool"

    def _load(self) -> Mark:
        try:
            data = json.loads((self.folder / "spool.json").read_text())
            return Mark(int(data["segment"]), int(data["offset"]), list(data["sequences"]))
        except (OSError, ValueError, KeyError, TypeError):
            return Mark(1, 0, [])

    def _valid_length(self, segment: int) -> int:
        end = 0
        for _, stop, _, _, _ in self.records(segment):
            end = stop
        return end

    def records(self, segment: int | None = None) -> Iterator[tuple[int, int, int, bytes, str]]:
        """``(start, end, flags, payload, exporter)`` of each whole record of a segment."""
        try:
            data = self._path(self.segment if segment is None else segment).read_bytes()
        except FileNotFoundError:
            return
        pos = 0
        while pos + HEADER.size <= len(data):
            flags, elen, plen = HEADER.unpack_from(data, pos)
            end = pos + HEADER.size + elen + plen
            if end > len(data):
                return
            exporter = data[pos + HEADER.size : pos + HEADER.size + elen].decode("ascii", "replace")
            yield pos, end, flags, data[pos + HEADER.size + elen : end], exporter
            pos = end

    def append(self, payload: bytes, exporter: str, flags: int = 0) -> None:
        name = exporter.encode("ascii", "replace")[:255]
        record = HEADER.pack(flags, len(name), len(payload)) + name + payload
        os.write(self._fd, record)
        self.position += len(record)

    def note_templates(self, payload: bytes, exporter: str) -> None:
        """Remember a datagram that defined templates (for the next segment's preamble)."""
        self.templates.setdefault(exporter, collections.deque(maxlen=8)).append(payload)

    def commit(self, mark: Mark) -> None:
        """Make ``mark`` the committed point (the segment's bytes are synced first)."""
        os.fsync(self._fd)
        self._write_state(mark)
        self.committed = mark

    def _write_state(self, mark: Mark) -> None:
        path = self.folder / "spool.json"
        tmp = self.folder / f".spool.{os.getpid()}.tmp"
        data = {"segment": mark.segment, "offset": mark.offset, "sequences": mark.sequences}
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)

    def maybe_roll(self) -> bool:
        """Start a new segment once this one is past ``max_bytes`` (call between records)."""
        if self.position < self.max_bytes or self.committed.segment != self.segment:
            return False
        tail = [r for r in self.records() if r[0] >= self.committed.offset]
        new = self.segment + 1
        fd = os.open(self._path(new), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND)
        self._fd, old_fd = fd, self._fd
        self.segment, self.position = new, 0
        for exporter, payloads in self.templates.items():
            for payload in payloads:
                self.append(payload, exporter, PREAMBLE)
        start = self.position
        for _, _, flags, payload, exporter in tail:
            self.append(payload, exporter, flags)
        os.fsync(self._fd)
        mark = Mark(new, start, self.committed.sequences)
        self._write_state(mark)
        self.committed = mark
        os.close(old_fd)
        with contextlib.suppress(FileNotFoundError):
            self._path(new - 1).unlink()
        return True

    def close(self) -> None:
        os.close(self._fd)


class SpooledDecoder(FlowDecoder):
    """A FlowDecoder that spools each datagram before decoding it and records, for each batch
    it hands out (``detach``/``finish``), the spool mark the batch reaches."""

    def __init__(self, site: str, spool: Spool) -> None:
        super().__init__(site)
        self.spool = spool
        self.spooling = True
        self.marks: collections.deque[Mark] = collections.deque()

    def feed(self, payload: bytes, exporter: str) -> None:
        if self.spooling:
            self.spool.append(payload, exporter)
        before = self.counts.templates + self.counts.options_templates
        super().feed(payload, exporter)
        if self.counts.templates + self.counts.options_templates > before:
            self.spool.note_templates(payload, exporter)

    def _mark(self) -> None:
        self.marks.append(Mark(self.spool.segment, self.spool.position, self.sequences.to_json()))

    def detach(self) -> Callable[[], pa.Table]:
        self._mark()
        return super().detach()

    def finish(self) -> pa.Table:
        self._mark()
        return super().finish()


def uncommitted_parts(root: Path, site: str, mark: Mark) -> list[Path]:
    """Parquet parts written from spool positions at or after ``mark`` (never committed)."""
    out = []
    for path in (root / f"site={check_site(site)}").glob("day=*/part-c*.parquet"):
        m = _PART.match(path.name)
        if m and (int(m.group(1)), int(m.group(2))) >= (mark.segment, mark.offset):
            out.append(path)
    return out


def replay(decoder: SpooledDecoder) -> tuple[pa.Table, Mark]:
    """Feed the spool's segment to ``decoder`` (not spooling again): templates from every
    record, flows from the records after the committed offset; return those flows and the
    mark they reach. The decoder's sequence state resumes from the committed one."""
    spool = decoder.spool
    decoder.spooling = False
    committed = spool.committed
    crossed = False
    end = committed.offset
    for start, stop, flags, payload, exporter in spool.records():
        if not crossed and (start >= committed.offset and not flags & PREAMBLE):
            decoder.flush()  # flows of committed records: already stored
            decoder.sequences = SequenceTracker.from_json(committed.sequences)
            crossed = True
        decoder.feed(payload, exporter)
        end = stop
    if not crossed:
        decoder.flush()
        decoder.sequences = SequenceTracker.from_json(committed.sequences)
    decoder.spooling = True
    table = decoder.flush()
    return table, Mark(spool.segment, max(end, committed.offset), decoder.sequences.to_json())
