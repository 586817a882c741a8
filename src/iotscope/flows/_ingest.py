"""File ingest: Zeek conn.log, nfdump CSV and pcaps of NetFlow/IPFIX export packets.

``ingest_files`` reads the files in the order given; for ``netflow-pcap`` one ``FlowDecoder``
serves them all, so templates seen in the first file decode data in the next (data still
waiting for a template after the last file is counted as ``no_template``). Each file's flows
land in Parquet as the parts ``part-<source key>`` of its sites and days, the source key being
derived from the file's content: ingesting the same file again replaces its parts.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from iotscope.errors import ConfigError
from iotscope.flows._decoder import DecodeCounts, FlowDecoder
from iotscope.flows._nfdump import read_nfdump_csv
from iotscope.flows._parquet import write_parquet
from iotscope.flows._text import BadLines
from iotscope.flows._zeek import read_zeek_conn

__all__ = ["FORMATS", "Format", "IngestReport", "ingest_files", "read_netflow_pcap", "source_key"]

Format = Literal["zeek", "nfdump-csv", "netflow-pcap"]
FORMATS: tuple[Format, ...] = ("zeek", "nfdump-csv", "netflow-pcap")
FLUSH_RECORDS = 500_000


@dataclass
class IngestReport:
    """What one ingest did: flows written, bad lines, decoder counts, Parquet parts."""

    files: int = 0
    flows: int = 0
    bad_lines: BadLines = field(default_factory=BadLines)
    decode: DecodeCounts = field(default_factory=DecodeCounts)
    truncated_datagrams: int = 0
    parts: list[Path] = field(default_factory=list)


def source_key(data: bytes, fmt: str) -> str:
    """A stable name for a file's Parquet parts: its format and a hash of its content."""
    return f"{fmt}-{hashlib.sha256(data).hexdigest()[:24]}"


def read_netflow_pcap(data: bytes, decoder: FlowDecoder) -> tuple[pa.Table, int]:
    """Feed every UDP datagram of a capture to ``decoder`` (exporter = the datagram's source
    address); return the flows decoded so far and the count of truncated UDP packets."""
    from iotscope.pcap import read_frames, udp_columns

    try:
        cols = udp_columns(read_frames(data))
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
    return pa.concat_tables(tables), cols.truncated


def _address(row: npt.NDArray[np.uint8]) -> str:
    addr = ipaddress.IPv6Address(row.tobytes())
    return str(addr.ipv4_mapped or addr)


def _read(
    path: Path, fmt: Format, site: str, decoder: FlowDecoder, report: IngestReport
) -> tuple[bytes, pa.Table]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("cannot read flow file", path=str(path), reason=str(exc)) from exc
    if fmt == "netflow-pcap":
        table, truncated = read_netflow_pcap(data, decoder)
        report.truncated_datagrams += truncated
        return data, table
    reader = read_zeek_conn if fmt == "zeek" else read_nfdump_csv
    table, bad = reader(data, site=site)
    report.bad_lines.extend(bad.samples, bad.count)
    return data, table


def ingest_files(
    paths: Sequence[Path],
    *,
    fmt: str,
    site: str,
    root: Path,
    on_flows: Callable[[pa.Table], None] | None = None,
) -> IngestReport:
    """Ingest ``paths`` in order into Parquet under ``root``.

    ``on_flows`` sees each file's flows (the CLI writes them as JSON Lines).
    """
    if fmt not in FORMATS:
        raise ConfigError("unknown flow file format", format=fmt, known=FORMATS)
    decoder = FlowDecoder(site)
    report = IngestReport(decode=decoder.counts)
    for i, path in enumerate(paths):
        data, table = _read(path, fmt, site, decoder, report)
        if fmt == "netflow-pcap" and i == len(paths) - 1:
            table = pa.concat_tables([table, decoder.finish()])
        report.parts += write_parquet(table, root, source_key=source_key(data, fmt))
        report.files += 1
        report.flows += table.num_rows
        if on_flows is not None:
            on_flows(table)
    return report
