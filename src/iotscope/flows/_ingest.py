"""File ingest: Zeek conn.log, nfdump CSV and pcaps of NetFlow/IPFIX export packets, streamed.

``ingest_files`` reads the files in the order given, each in chunks of ``chunk_bytes``
(:mod:`iotscope.flows._stream`): memory holds one chunk's flows, whatever the file's size. For
``netflow-pcap`` one ``FlowDecoder`` serves every file, so templates seen in the first file
decode data in the next (data still waiting for a template after the last file is counted as
``no_template``). A Zeek TSV chunk is read under the ``#separator``/``#fields`` header seen last;
an nfdump chunk under the CSV header line, and nothing after nfdump's ``Summary`` is flow data.

Each file's flows land in Parquet as the parts ``part-<source key>-<n>`` of its sites and days
(:mod:`iotscope.flows._staging`), the source key being the file's format and content hash:
ingesting the same file again replaces its parts, and a killed ingest leaves nothing visible.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from iotscope.errors import ConfigError, ParseError
from iotscope.flows._decoder import DecodeCounts, FlowDecoder
from iotscope.flows._nfdump import read_nfdump_csv
from iotscope.flows._schema import empty_flows
from iotscope.flows._sequence import SequenceTracker
from iotscope.flows._staging import StagedParts, sweep_stale
from iotscope.flows._state import save_ingest
from iotscope.flows._stream import CHUNK_BYTES, CaptureCounts, capture_chunks, text_chunks
from iotscope.flows._text import BadLines
from iotscope.flows._zeek import read_zeek_conn

__all__ = ["FORMATS", "Format", "IngestReport", "ingest_files", "read_netflow_pcap", "source_key"]

Format = Literal["zeek", "nfdump-csv", "netflow-pcap"]
FORMATS: tuple[Format, ...] = ("zeek", "nfdump-csv", "netflow-pcap")
FLUSH_RECORDS = 500_000
_NFDUMP_HEADER = re.compile(rb"(?m)^ts,[^\n]*")
_NFDUMP_SUMMARY = re.compile(rb"(?m)^Summary")
_ZEEK_HEADER = re.compile(rb"^#(?:separator|fields)\b[^\n]*\n?", re.MULTILINE)


@dataclass
class IngestReport:
    """What one ingest did: flows written, bad lines, decoder counts, Parquet parts."""

    files: int = 0
    flows: int = 0
    chunks: int = 0
    bad_lines: BadLines = field(default_factory=BadLines)
    decode: DecodeCounts = field(default_factory=DecodeCounts)
    capture: CaptureCounts = field(default_factory=CaptureCounts)
    truncated_datagrams: int = 0
    parts: list[Path] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    sequences: SequenceTracker = field(default_factory=SequenceTracker)


def source_key(digest: str, fmt: str) -> str:
    """A stable name for a file's Parquet parts: its format and a hash of its content."""
    return f"{fmt}-{digest[:24]}"


class _Hashing:
    """A binary reader that hashes what passes through it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.sha = fh, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha.update(data)
        return data


def read_netflow_pcap(data: bytes, decoder: FlowDecoder) -> tuple[pa.Table, int]:
    """Feed every UDP datagram of a capture to ``decoder`` (exporter = the datagram's source
    address); return the flows decoded so far and the count of truncated UDP packets."""
    from iotscope.pcap import read_frames, udp_columns

    try:
        frames = read_frames(data)
        cols = udp_columns(frames)
    except Exception as exc:  # the pcap reader's own errors: a bad file, not a crash
        raise ConfigError("cannot read capture", reason=str(exc)) from exc
    view, tables = cols.data.data, []
    uniques, which = np.unique(cols.src, axis=0, return_inverse=True)
    names = [_address(row) for row in uniques]
    bounds = zip(cols.start.tolist(), cols.end.tolist(), which.ravel().tolist(), strict=True)
    for start, end, source in bounds:
        decoder.feed(bytes(view[start:end]), names[source])
        if decoder.pending_records >= FLUSH_RECORDS:
            tables.append(decoder.flush())
    tables.append(decoder.flush())
    return pa.concat_tables(tables), cols.truncated + frames.errors


def _address(row: npt.NDArray[np.uint8]) -> str:
    addr = ipaddress.IPv6Address(row.tobytes())
    return str(addr.ipv4_mapped or addr)


def _pcap_chunks(
    fh: _Hashing, decoder: FlowDecoder, report: IngestReport, size: int
) -> Iterator[pa.Table]:
    try:
        for capture in capture_chunks(fh, report.capture, size):  # type: ignore[arg-type]
            table, truncated = read_netflow_pcap(capture, decoder)
            report.truncated_datagrams += truncated
            yield table
    except ParseError as exc:
        raise ConfigError("cannot read capture", reason=str(exc)) from exc


def _zeek_chunks(fh: _Hashing, site: str, report: IngestReport, size: int) -> Iterator[pa.Table]:
    context: dict[bytes, bytes] = {}
    for piece, overlong in text_chunks(fh, size):  # type: ignore[arg-type]
        report.bad_lines.extend(["(line longer than the limit)"] * overlong, overlong)
        head = b"".join(context.get(k, b"") for k in (b"separator", b"fields"))
        for m in _ZEEK_HEADER.finditer(piece):
            line = m.group(0).rstrip(b"\r\n") + b"\n"
            context[b"separator" if line.startswith(b"#separator") else b"fields"] = line
        if piece.lstrip()[:1] == b"{":
            head = b""
        table, bad = read_zeek_conn(head + piece, site=site)
        report.bad_lines.extend(bad.samples, bad.count)
        yield table


def _nfdump_chunks(fh: _Hashing, site: str, report: IngestReport, size: int) -> Iterator[pa.Table]:
    header = b""
    for piece, overlong in text_chunks(fh, size):  # type: ignore[arg-type]
        report.bad_lines.extend(["(line longer than the limit)"] * overlong, overlong)
        table, bad = read_nfdump_csv(header + piece, site=site)
        report.bad_lines.extend(bad.samples, bad.count)
        yield table
        if not header and (m := _NFDUMP_HEADER.search(piece)):
            header = m.group(0).rstrip(b"\r\n") + b"\n"
        if header and _NFDUMP_SUMMARY.search(piece):
            while fh.read(size):  # nfdump's summary and after: not flow data, but hashed
                pass
            return


def _chunks(
    fh: _Hashing, fmt: Format, site: str, decoder: FlowDecoder, report: IngestReport, size: int
) -> Iterator[pa.Table]:
    if fmt == "netflow-pcap":
        return _pcap_chunks(fh, decoder, report, size)
    if fmt == "zeek":
        return _zeek_chunks(fh, site, report, size)
    return _nfdump_chunks(fh, site, report, size)


def _ingest_one(
    path: Path,
    fmt: Format,
    ctx: tuple[str, Path, FlowDecoder, int],
    report: IngestReport,
    emit: Callable[[pa.Table], None],
    last: bool,
) -> None:
    site, root, decoder, size = ctx
    staged = StagedParts(root)
    try:
        with path.open("rb") as raw:
            fh = _Hashing(raw)
            for table in _chunks(fh, fmt, site, decoder, report, size):
                staged.write(table)
                emit(table)
                report.chunks += 1
            if fmt == "netflow-pcap" and last:
                table = decoder.finish()
                staged.write(table)
                emit(table)
            key = source_key(fh.sha.hexdigest(), fmt)
            report.parts += staged.commit(key)
            report.keys.append(key)
    except OSError as exc:
        staged.abort()
        raise ConfigError("cannot read flow file", path=str(path), reason=str(exc)) from exc
    except BaseException:
        staged.abort()
        raise


def ingest_files(
    paths: Sequence[Path],
    *,
    fmt: str,
    site: str,
    root: Path,
    on_flows: Callable[[pa.Table], None] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> IngestReport:
    """Ingest ``paths`` in order into Parquet under ``root``, ``chunk_bytes`` at a time.

    ``on_flows`` sees each chunk's flows (the CLI writes them as JSON Lines).
    """
    if fmt not in FORMATS:
        raise ConfigError("unknown flow file format", format=fmt, known=FORMATS)
    decoder = FlowDecoder(site)
    report = IngestReport(decode=decoder.counts, sequences=decoder.sequences)
    sweep_stale(root)

    def emit(table: pa.Table) -> None:
        report.flows += table.num_rows
        if on_flows is not None and table.num_rows:
            on_flows(table)

    for i, path in enumerate(paths):
        last = i == len(paths) - 1
        _ingest_one(path, fmt, (site, root, decoder, chunk_bytes), report, emit, last)
        report.files += 1
    if not paths:
        emit(empty_flows())
    if fmt == "netflow-pcap":
        save_ingest(root, site, report.keys, decoder.sequences)
    return report
