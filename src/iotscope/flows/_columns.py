"""Vectorised decoding of data records: raw bytes of many data sets in, a flow table out.

Each template compiles once to a ``Plan``: a numpy structured dtype over its records with one
big-endian field per column we keep (odd lengths such as 3 or 6 bytes are read as byte arrays
and gathered). ``Batch`` collects the raw records of many data sets per template, with the
export context of each set (exporter, export time, sysUptime, sampling rate), and ``drain``
decodes them all at once: no Python object per flow. Templates with variable-length fields
(RFC 7011 §7) are first normalised record by record into the same fixed layout.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from iotscope.flows._ies import ADDRESS_LENGTHS, NTP_EPOCH_OFFSET_S, ROLES, VARIABLE_LENGTH
from iotscope.flows._schema import (
    empty_flows,
    flows_table,
    ipv4_strings,
    ipv6_strings,
    proto_strings,
)
from iotscope.flows._templates import Template

__all__ = ["Batch", "Context", "Plan", "plan_for", "split_variable"]

I64 = npt.NDArray[np.int64]
Num = Callable[[str], I64]
SamplerRates = dict[tuple[str, int, int], int]
_TIME_LENGTHS = {"_ms": 8, "_s": 4, "_ntp": 8, "_up": 4, "_us": 4}


class Context(NamedTuple):
    """What the export header says about the records of one data set."""

    exporter: str
    domain: int  # v9 source id / IPFIX observation domain (0 for v5)
    export_ms: int
    uptime_ms: int  # v5/v9 header sysUptime; -1 for IPFIX
    init_ms: int  # IPFIX systemInitTimeMilliseconds from options data; -1 when unknown
    rate: int  # sampling rate: packets/bytes are multiplied by it


@dataclass(frozen=True)
class Plan:
    """Where each role sits in a (normalised) record; ``keep`` lists the template's fields."""

    dtype: np.dtype
    lengths: dict[str, int]
    keep: tuple[int, ...]  # indices of the template fields the normalised record holds


def _accepts(role: str, length: int) -> bool:
    if role in ADDRESS_LENGTHS:
        return length == ADDRESS_LENGTHS[role]
    for suffix, size in _TIME_LENGTHS.items():
        if role.endswith(suffix):
            return length == size
    return 1 <= length <= 8


def _roles(template: Template) -> dict[str, int]:
    """role -> index of the template field that supplies it (IANA fields only)."""
    found: dict[str, int] = {}
    for role, ids in ROLES.items():
        for ie in ids:
            idx = next(
                (
                    i
                    for i, f in enumerate(template.fields)
                    if f.ie == ie and not f.enterprise and _accepts(role, f.length)
                ),
                None,
            )
            if idx is not None:
                found[role] = idx
                break
    return found


def _fmt(length: int) -> str | tuple[str, int]:
    return f">u{length}" if length in (1, 2, 4, 8) else ("u1", length)


@lru_cache(maxsize=4096)
def plan_for(template: Template) -> Plan:
    """Compile ``template``'s plan (cached per template object)."""
    roles = _roles(template)
    fixed = template.record_length is not None
    keep = tuple(range(len(template.fields))) if fixed else tuple(sorted(roles.values()))
    offsets, off = {}, 0
    for i in keep:
        offsets[i] = off
        off += template.fields[i].length
    names = list(roles)
    dtype = np.dtype(
        {
            "names": names,
            "formats": [_fmt(template.fields[roles[r]].length) for r in names],
            "offsets": [offsets[roles[r]] for r in names],
            "itemsize": max(off, 1),
        }
    )
    lengths = {r: template.fields[roles[r]].length for r in names}
    return Plan(dtype, lengths, keep)


def split_variable(template: Template, body: bytes) -> tuple[bytes, int]:
    """Normalise records of a variable-length template (RFC 7011 §7): keep the planned fields.

    Returns the fixed-layout bytes and the record count; trailing bytes too short for a record
    are padding. Raises ``struct.error``/``ValueError`` on a record that runs past the set.
    """
    keep = set(plan_for(template).keep)
    out, n, off = bytearray(), 0, 0
    while len(body) - off >= template.min_record_length:
        for i, f in enumerate(template.fields):
            length = f.length
            if length == VARIABLE_LENGTH:
                length, off = body[off], off + 1
                if length == 255:
                    (length,) = struct.unpack_from(">H", body, off)
                    off += 2
            if off + length > len(body):
                raise ValueError("variable-length record runs past its set")
            if i in keep:
                out += body[off : off + length]
            off += length
        n += 1
    return bytes(out), n


def _uint(recs: np.ndarray, role: str, length: int) -> I64:
    values = recs[role]
    if values.ndim == 1:
        return values.astype(np.int64)
    gathered = np.zeros(len(values), dtype=np.uint64)
    for i in range(max(0, length - 8), length):
        gathered = (gathered << np.uint64(8)) | values[:, i].astype(np.uint64)
    return gathered.astype(np.int64)


@dataclass
class _Group:
    template: Template
    buffers: list[bytes] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)


class Batch:
    """Raw records waiting to be decoded together, grouped by template object."""

    def __init__(self) -> None:
        self._groups: dict[int, _Group] = {}
        self.records = 0

    def add(self, template: Template, records: bytes, count: int, ctx: Context) -> None:
        group = self._groups.get(id(template))
        if group is None:
            group = self._groups[id(template)] = _Group(template)
        group.buffers.append(records)
        group.counts.append(count)
        group.contexts.append(ctx)
        self.records += count

    def drain(self, site: str, samplers: SamplerRates | None = None) -> tuple[pa.Table, int]:
        """Decode everything collected; return (flows, records dropped for lacking addresses).

        ``samplers`` maps (exporter, domain, sampler id) to a sampling rate announced in options
        data: records that name their sampler (FLOW_SAMPLER_ID / selectorId) use it.
        """
        tables, no_address = [], 0
        for group in self._groups.values():
            table = _decode_group(group, site, samplers or {})
            if table is None:
                no_address += sum(group.counts)
            else:
                tables.append(table)
        self._groups.clear()
        self.records = 0
        if not tables:
            return empty_flows(), no_address
        return pa.concat_tables(tables), no_address


def _per_record(group: _Group) -> dict[str, I64]:
    counts = np.asarray(group.counts, dtype=np.int64)
    ctx = np.asarray([c[1:] for c in group.contexts], dtype=np.int64).reshape(-1, 5)
    names = ("domain", "export_ms", "uptime_ms", "init_ms", "rate")
    return {name: np.repeat(ctx[:, i], counts) for i, name in enumerate(names)}


def _exporters(group: _Group) -> tuple[list[str], npt.NDArray[np.int32]]:
    """The group's exporter names and, per record, the index of its exporter among them."""
    names = [c.exporter for c in group.contexts]
    uniques = sorted(set(names))
    idx = np.repeat([uniques.index(n) for n in names], group.counts).astype(np.int32)
    return uniques, idx


def _rates(
    ctx: dict[str, I64],
    exporters: tuple[list[str], npt.NDArray[np.int32]],
    sampler: I64,
    samplers: SamplerRates,
) -> I64:
    """Per record: the rate of the sampler the record names, else its exporter domain's."""
    rate = ctx["rate"].copy()
    names, idx = exporters
    for (exporter, domain, sampler_id), value in samplers.items():
        if exporter in names:
            hit = (
                (idx == names.index(exporter)) & (ctx["domain"] == domain) & (sampler == sampler_id)
            )
            rate[hit] = value
    return rate


def _decode_group(group: _Group, site: str, samplers: SamplerRates) -> pa.Table | None:
    plan = plan_for(group.template)
    has = plan.lengths
    if not ({"src4", "dst4"} <= has.keys() or {"src6", "dst6"} <= has.keys()):
        return None
    recs = np.frombuffer(b"".join(group.buffers), dtype=plan.dtype)
    ctx = _per_record(group)
    n = len(recs)

    def num(role: str) -> I64:
        return _uint(recs, role, has[role]) if role in has else np.zeros(n, dtype=np.int64)

    src, dst = _addresses(recs, has)
    start, end = _times(has, ctx, num)
    exporters = _exporters(group)
    rate = _rates(ctx, exporters, num("sampler"), samplers) if "sampler" in has else ctx["rate"]
    return flows_table(
        start_ms=start,
        end_ms=end,
        src=src,
        dst=dst,
        sport=num("sport"),
        dport=_dport(num),
        proto=proto_strings(num("proto") & 0xFF),
        packets=num("packets") * rate,
        octets=num("bytes") * rate,
        tcp_flags=num("tcp_flags") & 0xFFFF,
        exporter=pa.DictionaryArray.from_arrays(
            pa.array(exporters[1]), pa.array(exporters[0], pa.string())
        ).cast(pa.string()),
        site=site,
    )


def _dport(num: Num) -> I64:
    """The destination port; for ICMP records that carry the type and code in their own
    field (ICMP_TYPE, RFC 3954 §8) rather than in the port, type * 256 + code."""
    dport, icmp = num("dport"), num("icmp")
    return np.where((dport == 0) & (icmp != 0), icmp & 0xFFFF, dport)


def _addresses(recs: np.ndarray, has: dict[str, int]) -> tuple[pa.Array, pa.Array]:
    """Per record: IPv4 where the template has it and it is set, else IPv6 (v9 templates
    often carry both, RFC 3954 §8 types 8/12 and 27/28, and fill one)."""
    n = len(recs)
    has4, has6 = {"src4", "dst4"} <= has.keys(), {"src6", "dst6"} <= has.keys()
    v6 = np.full(n, has6 and not has4)
    if has4 and has6:
        set6 = recs["src6"].any(axis=1) | recs["dst6"].any(axis=1)
        v6 = np.asarray(set6 & (recs["src4"] == 0) & (recs["dst4"] == 0), dtype=bool)
    out = []
    for v4_role, v6_role in (("src4", "src6"), ("dst4", "dst6")):
        strings = ipv4_strings(recs[v4_role]) if v4_role in has else pa.nulls(n, pa.string())
        if v6.any():
            strings = pc.replace_with_mask(strings, pa.array(v6), ipv6_strings(recs[v6_role][v6]))
        out.append(strings)
    return out[0], out[1]


def _ntp_ms(value: I64) -> I64:
    u = value.astype(np.uint64)
    secs = (u >> np.uint64(32)).astype(np.int64) - NTP_EPOCH_OFFSET_S
    frac_ms = ((u & np.uint64(0xFFFFFFFF)) * np.uint64(1000)) >> np.uint64(32)
    return secs * 1000 + frac_ms.astype(np.int64)


def _times(has: dict[str, int], ctx: dict[str, I64], num: Num) -> tuple[I64, I64]:
    """Absolute start/end ms: RFC 7011 §6.1 timestamps, or sysUptime-relative (RFC 3954 §8).

    A record without any end time ends when it starts, one without any time at all gets the
    export time of its packet.
    """
    init = num("init_ms") if "init_ms" in has else ctx["init_ms"]
    start = _time("start", has, ctx, num, init)
    end = _time("end", has, ctx, num, init)
    if start is None and end is None:
        return ctx["export_ms"], ctx["export_ms"]
    if start is None:
        return end, end  # type: ignore[return-value]
    return start, start if end is None else end


def _time(edge: str, has: dict[str, int], ctx: dict[str, I64], num: Num, init: I64) -> I64 | None:
    if f"{edge}_ms" in has:
        return num(f"{edge}_ms")
    if f"{edge}_s" in has:
        return num(f"{edge}_s") * 1000
    if f"{edge}_ntp" in has:
        return _ntp_ms(num(f"{edge}_ntp"))
    if f"{edge}_up" in has:
        return _uptime_ms(num(f"{edge}_up"), ctx, init)
    if f"{edge}_delta_us" in has:
        return ctx["export_ms"] - num(f"{edge}_delta_us") // 1000
    return None


def _uptime_ms(value: I64, ctx: dict[str, I64], init: I64) -> I64:
    """v5/v9: export time + (value - header sysUptime), allowing for one 32-bit wrap of the
    uptime; IPFIX: systemInitTimeMilliseconds + value, else the export time when unknown."""
    rel = value - ctx["uptime_ms"]
    rel = np.where(rel > 2**31, rel - 2**32, rel)
    v9 = ctx["export_ms"] + rel
    ipfix = np.where(init >= 0, init + value, ctx["export_ms"])
    return np.where(ctx["uptime_ms"] >= 0, v9, ipfix)
