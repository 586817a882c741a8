"""Encode a flow table as NetFlow v9 (RFC 3954) or IPFIX (RFC 7011) export packets.

The lab uses these to write what an ISP's routers would export; the tests and the benchmark use
them to feed the decoders. Records are packed with a numpy structured dtype (big-endian, no
per-flow Python object). Only IPv4 flows are encoded (the template below); a table with any
other address is refused with a ``ConfigError`` naming the row.

Each packet's export time is the end of the latest flow in it, rounded up to a whole second
(both headers carry seconds), and flows are exported in order of their end, as a router's
cache expires them. Every ``template_every``-th packet (the first included) carries the template.
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iotscope.errors import ConfigError
from iotscope.flows._schema import FLOW_SCHEMA, proto_numbers

__all__ = ["encode_ipfix", "encode_netflow_v9"]

# (IE / field type id, length, numpy dtype, column) of the records we export.
V9_FIELDS: tuple[tuple[int, int, str, str], ...] = (
    (8, 4, ">u4", "src"),  # IPV4_SRC_ADDR
    (12, 4, ">u4", "dst"),  # IPV4_DST_ADDR
    (7, 2, ">u2", "sport"),  # L4_SRC_PORT
    (11, 2, ">u2", "dport"),  # L4_DST_PORT
    (4, 1, "u1", "proto"),  # PROTOCOL
    (2, 8, ">u8", "packets"),  # IN_PKTS
    (1, 8, ">u8", "bytes"),  # IN_BYTES
    (6, 1, "u1", "tcp_flags"),  # TCP_FLAGS
    (22, 4, ">u4", "first"),  # FIRST_SWITCHED (sysUptime ms)
    (21, 4, ">u4", "last"),  # LAST_SWITCHED
)
IPFIX_FIELDS: tuple[tuple[int, int, str, str], ...] = (
    (152, 8, ">u8", "first"),  # flowStartMilliseconds
    (153, 8, ">u8", "last"),  # flowEndMilliseconds
    (8, 4, ">u4", "src"),  # sourceIPv4Address
    (12, 4, ">u4", "dst"),  # destinationIPv4Address
    (7, 2, ">u2", "sport"),  # sourceTransportPort
    (11, 2, ">u2", "dport"),  # destinationTransportPort
    (4, 1, "u1", "proto"),  # protocolIdentifier
    (2, 8, ">u8", "packets"),  # packetDeltaCount
    (1, 8, ">u8", "bytes"),  # octetDeltaCount
    (6, 2, ">u2", "tcp_flags"),  # tcpControlBits
)


def _ipv4(column: pa.ChunkedArray, name: str) -> npt.NDArray[np.uint32]:
    parts = pc.split_pattern(column, ".")
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(lengths != 4)
    if bad.size:
        row = int(bad[0])
        raise ConfigError("only IPv4 flows can be encoded", column=name, row=row)
    try:
        octets = pc.cast(pc.list_flatten(parts), pa.uint8()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid as exc:
        raise ConfigError("bad IPv4 address", column=name, reason=str(exc)) from exc
    o = octets.astype(np.uint32).reshape(-1, 4)
    return (o[:, 0] << 24) | (o[:, 1] << 16) | (o[:, 2] << 8) | o[:, 3]


def _prepare(table: pa.Table) -> dict[str, npt.NDArray[np.int64]]:
    """Columns as int arrays, rows sorted by flow end (a stable sort)."""
    t = table.select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)
    t = t.take(pc.sort_indices(t, [("end", "ascending")]))
    cols: dict[str, npt.NDArray[np.int64]] = {
        "start": pc.cast(t["start"], pa.int64()).to_numpy(),
        "end": pc.cast(t["end"], pa.int64()).to_numpy(),
        "src": _ipv4(t["src"], "src").astype(np.int64),
        "dst": _ipv4(t["dst"], "dst").astype(np.int64),
        "proto": proto_numbers(t["proto"]).astype(np.int64),
    }
    for name in ("sport", "dport", "packets", "bytes", "tcp_flags"):
        cols[name] = t[name].to_numpy().astype(np.int64)
    return cols


def _records(
    fields: tuple[tuple[int, int, str, str], ...], cols: dict[str, npt.NDArray[np.int64]]
) -> npt.NDArray[np.void]:
    dtype = np.dtype([(col, fmt) for _, _, fmt, col in fields])
    recs = np.zeros(len(cols["start"]), dtype=dtype)
    for col in dtype.names or ():
        recs[col] = cols[col]
    return recs


def _export_ms(end_ms: npt.NDArray[np.int64], per_packet: int) -> npt.NDArray[np.int64]:
    """Export time of each packet: latest flow end in it, rounded up to a whole second."""
    if end_ms.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(0, end_ms.size, per_packet)
    latest = np.maximum.reduceat(end_ms, starts)
    return np.maximum.accumulate(-(-latest // 1000) * 1000)


def _template_body(template_id: int, fields: tuple[tuple[int, int, str, str], ...]) -> bytes:
    spec = b"".join(struct.pack(">HH", ie, length) for ie, length, _, _ in fields)
    return struct.pack(">HH", template_id, len(fields)) + spec


def _set(set_id: int, body: bytes) -> bytes:
    pad = (-len(body)) % 4
    return struct.pack(">HH", set_id, 4 + len(body) + pad) + body + b"\0" * pad


def _check(records_per_packet: int, template_id: int, template_every: int) -> None:
    if records_per_packet < 1 or template_every < 1:
        raise ConfigError("records_per_packet and template_every must be >= 1")
    if not 256 <= template_id <= 65535:
        raise ConfigError("template ids are 256..65535", template_id=template_id)


def encode_netflow_v9(
    table: pa.Table,
    *,
    source_id: int = 1,
    boot_time_ms: int | None = None,
    records_per_packet: int = 24,
    template_id: int = 256,
    template_every: int = 20,
) -> list[tuple[int, bytes]]:
    """NetFlow v9 export packets (RFC 3954 §5) for ``table``: ``(export time ns, UDP payload)``.

    FIRST/LAST_SWITCHED are sysUptime milliseconds; the exporter "booted" at ``boot_time_ms``
    (default: one minute before the earliest flow start). The header's count is the number of
    records (template and data) in the packet; its sequence number counts packets (§5.1).
    """
    _check(records_per_packet, template_id, template_every)
    cols = _prepare(table)
    boot = boot_time_ms if boot_time_ms is not None else _default_boot(cols["start"])
    exports = _export_ms(cols["end"], records_per_packet)
    if cols["start"].size and (cols["start"].min() < boot or exports[-1] - boot >= 2**32):
        raise ConfigError("flows must lie within 49.7 days after boot_time_ms", boot=boot)
    cols["first"], cols["last"] = cols["start"] - boot, cols["end"] - boot
    raw = _records(V9_FIELDS, cols)
    template = _set(0, _template_body(template_id, V9_FIELDS))
    out: list[tuple[int, bytes]] = []
    for i, export in enumerate(exports.tolist()):
        chunk = raw[i * records_per_packet : (i + 1) * records_per_packet]
        sets, count = _set(template_id, chunk.tobytes()), len(chunk)
        if i % template_every == 0:
            sets, count = template + sets, count + 1
        header = struct.pack(">HHIIII", 9, count, export - boot, export // 1000, i, source_id)
        out.append((export * 1_000_000, header + sets))
    return out


def _default_boot(start_ms: npt.NDArray[np.int64]) -> int:
    return int(start_ms.min()) - 60_000 if start_ms.size else 0


def encode_ipfix(
    table: pa.Table,
    *,
    observation_domain: int = 1,
    records_per_packet: int = 24,
    template_id: int = 256,
    template_every: int = 20,
) -> list[tuple[int, bytes]]:
    """IPFIX messages (RFC 7011 §3) for ``table``: ``(export time ns, UDP payload)``.

    Times are absolute flowStart/EndMilliseconds; the header's sequence number counts the data
    records sent before this message in the observation domain (§3.1).
    """
    _check(records_per_packet, template_id, template_every)
    cols = _prepare(table)
    cols["first"], cols["last"] = cols["start"], cols["end"]
    raw = _records(IPFIX_FIELDS, cols)
    template = _set(2, _template_body(template_id, IPFIX_FIELDS))
    exports = _export_ms(cols["end"], records_per_packet)
    out: list[tuple[int, bytes]] = []
    for i, export in enumerate(exports.tolist()):
        chunk = raw[i * records_per_packet : (i + 1) * records_per_packet]
        sets = _set(template_id, chunk.tobytes())
        if i % template_every == 0:
            sets = template + sets
        seq = (i * records_per_packet) % 2**32
        header = struct.pack(">HHIII", 10, 16 + len(sets), export // 1000, seq, observation_domain)
        out.append((export * 1_000_000, header + sets))
    return out
