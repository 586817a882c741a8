"""The columnar flow table every reader and decoder of ``iotscope.flows`` produces.

One row is one flow (unidirectional for NetFlow/IPFIX, bidirectional for Zeek). The column
names and meanings are the JSON Lines contract of ARCHITECTURE.md (``iotscope.records.Flow``);
here they stay columnar (pyarrow) so that no Python object is built per flow.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "FLOW_SCHEMA",
    "PROTO_NAMES",
    "PROTO_NUMBERS",
    "constant",
    "empty_flows",
    "flows_table",
    "ipv4_strings",
    "ipv6_strings",
    "proto_numbers",
    "proto_strings",
]

UTC_MS = pa.timestamp("ms", tz="UTC")

FLOW_SCHEMA = pa.schema(
    [
        pa.field("start", UTC_MS),
        pa.field("end", UTC_MS),
        pa.field("src", pa.string()),
        pa.field("dst", pa.string()),
        pa.field("sport", pa.int32()),
        pa.field("dport", pa.int32()),
        pa.field("proto", pa.string()),
        pa.field("packets", pa.int64()),
        pa.field("bytes", pa.int64()),
        pa.field("tcp_flags", pa.int32()),
        pa.field("exporter", pa.string()),
        pa.field("site", pa.string()),
    ]
)

# IANA protocol numbers of the names the contract knows; anything else is "other".
PROTO_NUMBERS: dict[str, int] = {"icmp": 1, "tcp": 6, "udp": 17, "other": 255}
PROTO_NAMES: dict[int, str] = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmp"}

_DICT = pa.array(["other", "icmp", "tcp", "udp"])
_LUT = np.zeros(256, dtype=np.int8)
for _num, _name in PROTO_NAMES.items():
    _LUT[_num] = _DICT.to_pylist().index(_name)


def proto_strings(numbers: npt.NDArray[np.integer]) -> pa.Array:
    """Lowercase protocol names for IANA protocol numbers (ICMPv6, 58, counts as icmp)."""
    idx = _LUT[np.asarray(numbers, dtype=np.uint8)]
    return pa.DictionaryArray.from_arrays(pa.array(idx, pa.int8()), _DICT).cast(pa.string())


def proto_numbers(names: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.uint8]:
    """IANA protocol numbers for contract names (unknown names become 255, "other")."""
    lookup = pa.array(["icmp", "tcp", "udp"])
    idx = pc.index_in(names, value_set=lookup).to_numpy(zero_copy_only=False)
    table = np.array([1, 6, 17, 255], dtype=np.uint8)
    idx = np.where(np.isnan(idx.astype(float)), 3, idx).astype(np.int64)
    return table[idx]


_OCTETS = pa.array([str(i) for i in range(256)], pa.string())


def ipv4_strings(addrs: npt.NDArray[np.integer]) -> pa.Array:
    """Dotted-quad strings for host-order uint32 addresses, built in C (no per-row objects)."""
    a = np.asarray(addrs, dtype=np.uint32)
    parts = [((a >> shift) & 0xFF).astype(np.uint8) for shift in (24, 16, 8, 0)]
    octets = [pc.take(_OCTETS, pa.array(part)) for part in parts]
    return pc.binary_join_element_wise(*octets, ".")


def ipv6_strings(raw: npt.NDArray[np.uint8]) -> pa.Array:
    """RFC 5952 strings for an (n, 16) array of IPv6 addresses (rare: one object per row)."""
    return pa.array([str(ipaddress.IPv6Address(bytes(row))) for row in raw], pa.string())


def constant(value: str, n: int) -> pa.Array:
    """A string column of ``n`` copies of ``value`` (dictionary-decoded, no per-row work)."""
    idx = pa.array(np.zeros(n, dtype=np.int8))
    return pa.DictionaryArray.from_arrays(idx, pa.array([value])).cast(pa.string())


def _strings(values: pa.Array | pa.ChunkedArray | Sequence[str]) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(values, pa.string())


def empty_flows() -> pa.Table:
    return FLOW_SCHEMA.empty_table()


def flows_table(
    *,
    start_ms: npt.ArrayLike,
    end_ms: npt.ArrayLike,
    src: pa.Array | Sequence[str],
    dst: pa.Array | Sequence[str],
    sport: npt.ArrayLike,
    dport: npt.ArrayLike,
    proto: pa.Array | Sequence[str],
    packets: npt.ArrayLike,
    octets: npt.ArrayLike,
    tcp_flags: npt.ArrayLike,
    exporter: str | pa.Array,
    site: str,
) -> pa.Table:
    """Assemble a FLOW_SCHEMA table from column arrays (numpy or arrow)."""
    n = len(np.asarray(start_ms))
    columns = [
        pa.array(np.asarray(start_ms, dtype=np.int64), UTC_MS),
        pa.array(np.asarray(end_ms, dtype=np.int64), UTC_MS),
        _strings(src),
        _strings(dst),
        pa.array(np.asarray(sport, dtype=np.int32)),
        pa.array(np.asarray(dport, dtype=np.int32)),
        _strings(proto),
        pa.array(np.asarray(packets, dtype=np.int64)),
        pa.array(np.asarray(octets, dtype=np.int64)),
        pa.array(np.asarray(tcp_flags, dtype=np.int32)),
        constant(exporter, n) if isinstance(exporter, str) else _strings(exporter),
        constant(site, n),
    ]
    return pa.Table.from_arrays(columns, schema=FLOW_SCHEMA)
