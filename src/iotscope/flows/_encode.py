"""Encode a flow table as NetFlow v9 (RFC 3954) or IPFIX (RFC 7011) export packets.

The lab uses these to write what an ISP's routers would export; the tests and the benchmark use
them to feed the decoders. Records are packed with a numpy structured dtype (big-endian, no
per-flow Python object). IPv4 flows use template ``template_id``; IPv6 flows (rare) use
``template_id + 1`` with IPV6_SRC_ADDR/IPV6_DST_ADDR (27/28) in place of 8/12. A row with an
invalid address, or one IPv4 and one IPv6 address, is refused with a ``ConfigError``.

Each packet carries flows of one family; its export time is the end of the latest flow in it,
rounded up to a whole second (both headers carry seconds), and flows are exported in order of
their end, as a router's cache expires them. Every ``template_every``-th packet of a family (the
first included) carries that family's template.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iotscope.errors import ConfigError
from iotscope.flows._schema import FLOW_SCHEMA, proto_numbers

__all__ = ["encode_ipfix", "encode_netflow_v9"]

Fields = tuple[tuple[int, int, str, str], ...]
Columns = dict[str, npt.NDArray[np.int64]]

# (IE / field type id, length, numpy dtype, column) of the records we export.
V9_FIELDS: Fields = (
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
IPFIX_FIELDS: Fields = (
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
_V6 = {8: (27, 16, "16u1"), 12: (28, 16, "16u1")}


def _ipv6_fields(fields: Fields) -> Fields:
    """The same record with 16-byte IPv6 addresses (IE 27/28) in place of IPv4 (8/12)."""
    return tuple((*_V6[ie], col) if ie in _V6 else (ie, n, fmt, col) for ie, n, fmt, col in fields)


@dataclass(frozen=True, slots=True)
class _Chunk:
    """One packet's worth of records of one address family."""

    export_ms: int
    family: int  # 0: IPv4, 1: IPv6
    index: int  # packet number within the family
    records: bytes
    count: int


def _ipv4(column: pa.ChunkedArray, name: str) -> npt.NDArray[np.int64]:
    parts = pc.split_pattern(column, ".")
    lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
    if np.any(lengths != 4):
        row = int(np.flatnonzero(lengths != 4)[0])
        raise ConfigError("bad IPv4 address", column=name, row=row)
    try:
        octets = pc.cast(pc.list_flatten(parts), pa.uint8()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid as exc:
        raise ConfigError("bad IPv4 address", column=name, reason=str(exc)) from exc
    o = octets.astype(np.int64).reshape(-1, 4)
    return (o[:, 0] << 24) | (o[:, 1] << 16) | (o[:, 2] << 8) | o[:, 3]


def _ipv6(column: pa.ChunkedArray, name: str) -> npt.NDArray[np.uint8]:
    try:
        packed = [ipaddress.IPv6Address(a).packed for a in column.to_pylist()]
    except ValueError as exc:
        raise ConfigError("bad IPv6 address", column=name, reason=str(exc)) from exc
    return np.frombuffer(b"".join(packed), dtype=np.uint8).reshape(-1, 16)


def _sorted(table: pa.Table) -> pa.Table:
    t = table.select(FLOW_SCHEMA.names).cast(FLOW_SCHEMA)
    return t.take(pc.sort_indices(t, [("end", "ascending")]))


def _families(t: pa.Table) -> tuple[pa.Array, pa.Array]:
    """Masks of IPv4 and IPv6 rows; a row mixing the two is refused."""
    src6, dst6 = (pc.match_substring(t[c], ":").combine_chunks() for c in ("src", "dst"))
    mixed = pc.xor(src6, dst6).to_numpy(zero_copy_only=False)
    if mixed.any():
        raise ConfigError("a flow mixes IPv4 and IPv6", row=int(np.flatnonzero(mixed)[0]))
    return pc.invert(src6), src6


def _columns(t: pa.Table, v6: bool) -> Columns:
    address = _ipv6 if v6 else _ipv4
    cols: Columns = {
        "start": pc.cast(t["start"], pa.int64()).to_numpy(),
        "end": pc.cast(t["end"], pa.int64()).to_numpy(),
        "src": address(t["src"], "src"),  # type: ignore[dict-item]
        "dst": address(t["dst"], "dst"),  # type: ignore[dict-item]
        "proto": proto_numbers(t["proto"]).astype(np.int64),
    }
    for name in ("sport", "dport", "packets", "bytes", "tcp_flags"):
        cols[name] = t[name].to_numpy().astype(np.int64)
    return cols


def _records(fields: Fields, cols: Columns) -> npt.NDArray[np.void]:
    dtype = np.dtype([(col, fmt) for _, _, fmt, col in fields])
    recs = np.zeros(len(cols["start"]), dtype=dtype)
    for col in dtype.names or ():
        recs[col] = cols[col]
    return recs


def _export_ms(end_ms: npt.NDArray[np.int64], per_packet: int) -> npt.NDArray[np.int64]:
    """Export time of each packet: latest flow end in it, rounded up to a whole second."""
    starts = np.arange(0, end_ms.size, per_packet)
    latest = np.maximum.reduceat(end_ms, starts)
    return np.maximum.accumulate(-(-latest // 1000) * 1000)


def _chunks(
    table: pa.Table, fields: Fields, per_packet: int, times: Callable[[Columns], None]
) -> list[_Chunk]:
    """Records packed per packet for both families, merged in order of export time."""
    t = _sorted(table)
    out: list[_Chunk] = []
    for family, mask in enumerate(_families(t)):
        part = t.filter(mask)
        if part.num_rows == 0:
            continue
        cols = _columns(part, v6=family == 1)
        times(cols)
        raw = _records(_ipv6_fields(fields) if family else fields, cols)
        for i, export in enumerate(_export_ms(cols["end"], per_packet).tolist()):
            chunk = raw[i * per_packet : (i + 1) * per_packet]
            out.append(_Chunk(export, family, i, chunk.tobytes(), len(chunk)))
    return sorted(out, key=lambda c: (c.export_ms, c.family))


def _template_body(template_id: int, fields: Fields) -> bytes:
    spec = b"".join(struct.pack(">HH", ie, length) for ie, length, _, _ in fields)
    return struct.pack(">HH", template_id, len(fields)) + spec


def _set(set_id: int, body: bytes) -> bytes:
    pad = (-len(body)) % 4
    return struct.pack(">HH", set_id, 4 + len(body) + pad) + body + b"\0" * pad


def _check(records_per_packet: int, template_id: int, template_every: int) -> None:
    if records_per_packet < 1 or template_every < 1:
        raise ConfigError("records_per_packet and template_every must be >= 1")
    if not 256 <= template_id <= 65534:
        raise ConfigError(
            "template ids are 256..65534 (IPv6 uses the next)", template_id=template_id
        )


def _templates(set_id: int, template_id: int, fields: Fields) -> tuple[bytes, bytes]:
    return (
        _set(set_id, _template_body(template_id, fields)),
        _set(set_id, _template_body(template_id + 1, _ipv6_fields(fields))),
    )


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
    starts = pc.cast(table["start"], pa.int64()).to_numpy() if table.num_rows else np.zeros(0)
    default_boot = int(starts.min()) - 60_000 if starts.size else 0
    boot = boot_time_ms if boot_time_ms is not None else default_boot

    def uptimes(cols: Columns) -> None:
        if cols["start"].min() < boot or -(-cols["end"].max() // 1000) * 1000 - boot >= 2**32:
            raise ConfigError("flows must lie within 49.7 days after boot_time_ms", boot=boot)
        cols["first"], cols["last"] = cols["start"] - boot, cols["end"] - boot

    templates = _templates(0, template_id, V9_FIELDS)
    out: list[tuple[int, bytes]] = []
    for seq, c in enumerate(_chunks(table, V9_FIELDS, records_per_packet, uptimes)):
        sets, count = _set(template_id + c.family, c.records), c.count
        if c.index % template_every == 0:
            sets, count = templates[c.family] + sets, count + 1
        header = struct.pack(
            ">HHIIII", 9, count, c.export_ms - boot, c.export_ms // 1000, seq, source_id
        )
        out.append((c.export_ms * 1_000_000, header + sets))
    return out


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

    def absolute(cols: Columns) -> None:
        cols["first"], cols["last"] = cols["start"], cols["end"]

    templates = _templates(2, template_id, IPFIX_FIELDS)
    out: list[tuple[int, bytes]] = []
    sent = 0
    for c in _chunks(table, IPFIX_FIELDS, records_per_packet, absolute):
        sets = _set(template_id + c.family, c.records)
        if c.index % template_every == 0:
            sets = templates[c.family] + sets
        header = struct.pack(
            ">HHIII", 10, 16 + len(sets), c.export_ms // 1000, sent % 2**32, observation_domain
        )
        out.append((c.export_ms * 1_000_000, header + sets))
        sent += c.count
    return out
