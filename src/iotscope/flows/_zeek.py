"""Zeek conn.log reader: TSV with ``#separator``/``#fields`` headers, or Zeek's JSON lines.

Mapping to a flow (Zeek's conn record is bidirectional; the flow keeps Zeek's orientation):

- start = ``ts``; end = ``ts + duration`` (unset duration: end = start)
- src/dst/sport/dport = ``id.orig_h``/``id.resp_h``/``id.orig_p``/``id.resp_p``
- packets = ``orig_pkts + resp_pkts``; bytes = ``orig_ip_bytes + resp_ip_bytes`` (IP-level
  bytes both ways, comparable with NetFlow's octet counts; unset counts read as 0)
- proto = ``proto`` (tcp, udp, icmp; anything else "other")
- tcp_flags from ``history`` (either case, i.e. either direction): S -> SYN, H -> SYN|ACK,
  A -> ACK, D -> ACK|PSH, F -> FIN, R -> RST.

``-`` is unset and ``(empty)`` an empty set (the header's ``#unset_field``/``#empty_field``).
A line with a wrong field count or an invalid value is counted in ``BadLines`` and skipped.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from iotscope.flows._schema import empty_flows, flows_table
from iotscope.flows._text import (
    MAX_SAMPLES,
    BadLines,
    canonical_addresses,
    is_address,
    read_strings,
    to_float,
    to_int,
)

__all__ = ["HISTORY_FLAGS", "read_zeek_conn"]

NEEDED = (
    "ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "duration",
    "history", "orig_pkts", "resp_pkts", "orig_ip_bytes", "resp_ip_bytes",
)  # fmt: skip
HISTORY_FLAGS = {"S": 0x02, "H": 0x12, "A": 0x10, "D": 0x18, "F": 0x01, "R": 0x04}
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")


def read_zeek_conn(data: bytes, *, site: str, exporter: str = "zeek") -> tuple[pa.Table, BadLines]:
    """Flows of one conn.log (TSV or JSON lines) and the bad lines it held."""
    text = data.decode("utf-8", errors="replace")
    bad = BadLines()
    first = text.lstrip()[:1]
    sections = _json_sections(text, bad) if first == "{" else _tsv_sections(text, bad)
    tables = [_flows(t, site, exporter, bad) for t in sections]
    return (pa.concat_tables(tables) if tables else empty_flows()), bad


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _separator(line: str) -> str | None:
    """The ``#separator`` value (``\\x09`` escapes allowed); None unless one usable char."""
    value = _unescape(line[len("#separator") :].strip())
    return value if len(value) == 1 and value not in '\r\n"' else None


def _fields(line: str, sep: str | None) -> list[str] | None:
    fields = line.split(sep)[1:] if sep else []
    return fields if fields and len(set(fields)) == len(fields) else None


def _tsv_sections(text: str, bad: BadLines) -> list[pa.Table]:
    """One string table per ``#fields`` header (concatenated logs may change it); rows under
    a missing or unusable header are bad lines."""
    sep: str | None = "\t"
    fields: list[str] | None = None
    rows: list[str] = []
    out: list[pa.Table] = []

    def close() -> None:
        if rows and fields is not None and sep is not None:
            out.append(read_strings("\n".join(rows), fields, sep, bad))
        elif rows:
            bad.extend(rows[:MAX_SAMPLES], len(rows))
        rows.clear()

    for line in text.split("\n"):
        if line.startswith("#"):
            close()
            if line.startswith("#separator"):
                sep = _separator(line)
            elif line.startswith("#fields"):
                fields = _fields(line, sep)
        elif line.strip():
            rows.append(line.rstrip("\r"))
    close()
    return [t for t in out if _has_fields(t, bad)]


def _has_fields(table: pa.Table, bad: BadLines) -> bool:
    missing = [f for f in NEEDED if f not in table.column_names]
    if missing and table.num_rows:
        bad.add(f"conn.log lacks fields {missing}", table.num_rows)
    return not missing


def _json_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, str) and "T" in value and value[:4].isdigit():
        try:
            return f"{datetime.fromisoformat(value.replace('Z', '+00:00')).timestamp():.6f}"
        except ValueError:
            return value
    return str(value)


def _json_sections(text: str, bad: BadLines) -> list[pa.Table]:
    """Zeek's JSON logs (``LogAscii::use_json``): one object per line."""
    columns: dict[str, list[str]] = {f: [] for f in NEEDED}
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            bad.add(line)
            continue
        for f in NEEDED:
            columns[f].append(_json_value(record.get(f)))
    return [pa.table({f: pa.array(v, pa.string()) for f, v in columns.items()})]


def _history_flags(history: pa.ChunkedArray) -> np.ndarray:
    flags = np.zeros(len(history), dtype=np.int32)
    for letter, bits in HISTORY_FLAGS.items():
        hit = pc.match_substring(history, letter, ignore_case=True).to_numpy(zero_copy_only=False)
        flags |= np.where(hit, bits, 0).astype(np.int32)
    return flags


def _flows(t: pa.Table, site: str, exporter: str, bad: BadLines) -> pa.Table:
    unset = ("-", "(empty)", "")
    ts, ok = to_float(t["ts"])
    duration, ok_d = to_float(t["duration"], unset=unset)
    sport, ok_sp = to_int(t["id.orig_p"], hi=65535)
    dport, ok_dp = to_int(t["id.resp_p"], hi=65535)
    counts = [to_int(t[c], unset=unset) for c in NEEDED[8:]]
    ok &= ok_d & ok_sp & ok_dp & is_address(t["id.orig_h"]) & is_address(t["id.resp_h"])
    for _, ok_c in counts:
        ok &= ok_c
    src, ok_s = canonical_addresses(t["id.orig_h"].combine_chunks())
    dst, ok_t = canonical_addresses(t["id.resp_h"].combine_chunks())
    ok &= ok_s & ok_t
    bad.extend(_bad_rows(t, ~ok), int((~ok).sum()))
    keep = pa.array(ok)
    proto = pc.utf8_lower(t["proto"])
    proto = pc.if_else(pc.is_in(proto, value_set=pa.array(["tcp", "udp", "icmp"])), proto, "other")
    is_tcp = pc.equal(proto, "tcp").to_numpy(zero_copy_only=False)
    flags = np.where(is_tcp, _history_flags(t["history"]), 0)
    start = np.round(ts * 1000).astype(np.int64)
    table = flows_table(
        start_ms=start,
        end_ms=start + np.round(duration * 1000).astype(np.int64),
        src=src,
        dst=dst,
        sport=sport,
        dport=dport,
        proto=proto.combine_chunks(),
        packets=counts[0][0] + counts[1][0],
        octets=counts[2][0] + counts[3][0],
        tcp_flags=flags,
        exporter=exporter,
        site=site,
    )
    return table.filter(keep)


def _bad_rows(t: pa.Table, mask: np.ndarray) -> list[str]:
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return []
    sample = t.take(pa.array(rows[:MAX_SAMPLES])).to_pylist()
    return ["\t".join(r.values()) for r in sample]
