"""MRT routing table dumps (RFC 6396) -> ``(prefix, origin AS)``.

Read: TABLE_DUMP_V2 (type 13: PEER_INDEX_TABLE, RIB_IPV4/IPV6_UNICAST and _MULTICAST, and the
RFC 8050 ADD-PATH variants) whose AS_PATH holds 4-byte ASNs (RFC 6396 section 4.3.4), and the
older TABLE_DUMP (type 12) whose AS_PATH holds 2-byte ASNs, where an AS4_PATH (RFC 6793) gives
the true origin behind AS_TRANS. Other record types (BGP4MP updates...) are skipped and counted.

The origin of one RIB entry is the last AS of the path's last AS_SEQUENCE segment; when the
path ends in an AS_SET (aggregation) the set's lowest ASN stands for it. A prefix seen by
several peers takes the origin most of them report (ties: the lowest ASN), so one peer's
leak does not move the prefix. Gzip and bzip2 input is recognised by its magic bytes.
"""

from __future__ import annotations

import bz2
import gzip
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from iotscope.errors import ParseError

TABLE_DUMP = 12
TABLE_DUMP_V2 = 13
PEER_INDEX_TABLE = 1
_RIB_V4 = {2, 3, 8, 9}  # unicast, multicast, and their ADD-PATH forms (RFC 8050)
_RIB_V6 = {4, 5, 10, 11}
_ADD_PATH = {8, 9, 10, 11}
AS_PATH = 2
AS4_PATH = 17
AS_SET = 1
AS_TRANS = 23456
_HEADER = struct.Struct(">IHHI")


@dataclass
class MrtResult:
    """What one dump held: IPv4 and IPv6 ``(network int, length, origin AS)``, and counts."""

    v4: list[tuple[int, int, int]] = field(default_factory=list)
    v6: list[tuple[int, int, int]] = field(default_factory=list)
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when it starts with gzip's or bzip2's magic."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
    except (OSError, EOFError, ValueError) as exc:
        raise ParseError("cannot read MRT file", path=str(path), reason=str(exc)) from exc
    return raw


def parse_mrt(data: bytes, source: str = "<bytes>") -> MrtResult:
    """Every prefix and its origin AS. A truncated or malformed record raises
    :class:`ParseError` naming ``source``, the record number and its byte offset."""
    out = MrtResult()
    first: tuple[dict[int, int], dict[int, int]] = ({}, {})
    repeats: tuple[dict[int, Counter[int]], dict[int, Counter[int]]] = ({}, {})
    offset, number, size = 0, 0, len(data)
    unpack_header = _HEADER.unpack_from
    while offset < size:
        number += 1
        if offset + 12 > size:
            raise ParseError("truncated MRT header", path=source, record=number, offset=offset)
        _ts, mtype, subtype, length = unpack_header(data, offset)
        end = offset + 12 + length
        if end > size:
            raise ParseError(
                "truncated MRT record", path=source, record=number, offset=offset, length=length
            )
        try:
            if mtype == TABLE_DUMP_V2 and subtype == 2:  # the bulk of a RIB: inline path
                got: tuple[int, int, int, list[int]] | None = _rib_v4_unicast(
                    data, offset + 12, end
                )
            else:
                got = _record(mtype, subtype, memoryview(data)[offset + 12 : end])
        except (struct.error, IndexError, ValueError) as exc:
            raise ParseError(
                "bad MRT record", path=source, record=number, offset=offset, reason=str(exc)
            ) from exc
        offset = end
        if got is None:
            out.skipped[f"type {mtype}/{subtype}"] += 1
            continue
        version, net, plen, asns = got
        if not asns:
            out.skipped["no AS_PATH origin"] += 1
            continue
        # One dict entry per prefix (a key packs network and length); the rare prefix seen
        # in several records (TABLE_DUMP keeps one record per peer) gets a vote counter.
        side = 0 if version == 4 else 1
        key = (net << 8) | plen
        seen, multi = first[side], repeats[side]
        if key in seen:
            multi.setdefault(key, Counter([seen[key]])).update(asns)
        else:
            seen[key] = asns[0] if len(asns) == 1 else _vote(Counter(asns))
            if len(asns) > 1:
                multi[key] = Counter(asns)
    out.records = number
    for side, target in ((0, out.v4), (1, out.v6)):
        for key, asn in first[side].items():
            votes = repeats[side].get(key)
            target.append((key >> 8, key & 0xFF, asn if votes is None else _vote(votes)))
    return out


def _rib_v4_unicast(data: bytes, at: int, end: int) -> tuple[int, int, int, list[int]]:
    """RIB_IPV4_UNICAST (RFC 6396 4.3.2) read in place from the whole dump (no copies)."""
    plen = data[at + 4]
    if plen > 32:
        raise ValueError(f"prefix length {plen} > 32")
    nbytes = (plen + 7) >> 3
    at += 5
    net = int.from_bytes(data[at : at + nbytes], "big") << (32 - 8 * nbytes)
    net &= (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
    at += nbytes
    (count,) = _U16.unpack_from(data, at)
    at += 2
    origins = []
    for _ in range(count):
        (alen,) = _U16.unpack_from(data, at + 6)  # after peer index and originated time
        at += 8
        if at + alen > end:
            raise ValueError("attributes run past the record")
        origin = _origin_in(data, at, at + alen, True)
        at += alen
        if origin is not None:
            origins.append(origin)
    if at > end:
        raise ValueError("RIB entries run past the record")
    return 4, net, plen, origins


def _vote(counts: Counter[int]) -> int:
    best = max(counts.values())
    return min(a for a, n in counts.items() if n == best)


def _records(data: bytes, source: str) -> Iterator[tuple[int, int, int, int, memoryview]]:
    view = memoryview(data)
    offset, number, size = 0, 0, len(data)
    while offset < size:
        number += 1
        if offset + 12 > size:
            raise ParseError("truncated MRT header", path=source, record=number, offset=offset)
        _ts, mtype, subtype, length = _HEADER.unpack_from(data, offset)
        end = offset + 12 + length
        if end > size:
            raise ParseError(
                "truncated MRT record", path=source, record=number, offset=offset, length=length
            )
        yield number, offset, mtype, subtype, view[offset + 12 : end]
        offset = end


def _record(mtype: int, subtype: int, body: memoryview) -> tuple[int, int, int, list[int]] | None:
    if mtype == TABLE_DUMP_V2:
        if subtype in _RIB_V4:
            return _rib_v2(body, 4, subtype in _ADD_PATH)
        if subtype in _RIB_V6:
            return _rib_v2(body, 6, subtype in _ADD_PATH)
        return None
    if mtype == TABLE_DUMP and subtype in (1, 2):
        return _table_dump(body, 4 if subtype == 1 else 6)
    return None


def _prefix(body: memoryview, at: int, version: int) -> tuple[int, int, int]:
    """(network int, length, offset after it) of an RFC 4271-style length-prefixed prefix."""
    length = body[at]
    width = 32 if version == 4 else 128
    if length > width:
        raise ValueError(f"prefix length {length} > {width}")
    nbytes = (length + 7) // 8
    raw = bytes(body[at + 1 : at + 1 + nbytes])
    if len(raw) != nbytes:
        raise ValueError("prefix runs past the record")
    net = int.from_bytes(raw.ljust(width // 8, b"\0"), "big")
    net &= ((1 << width) - 1) ^ ((1 << (width - length)) - 1)  # clear stray host bits
    return net, length, at + 1 + nbytes


def _rib_v2(body: memoryview, version: int, add_path: bool) -> tuple[int, int, int, list[int]]:
    """RFC 6396 4.3.2: sequence, prefix, entry count, entries (peer, time, [path id], attrs)."""
    net, length, at = _prefix(body, 4, version)
    (count,) = struct.unpack_from(">H", body, at)
    at += 2
    origins = []
    for _ in range(count):
        at += 6 + (4 if add_path else 0)  # peer index, originated time, path identifier
        (alen,) = _U16.unpack_from(body, at)
        at += 2
        if at + alen > len(body):
            raise ValueError("attributes run past the record")
        origin = _origin_in(body, at, at + alen, as4=True)
        at += alen
        if origin is not None:
            origins.append(origin)
    return version, net, length, origins


def _table_dump(body: memoryview, version: int) -> tuple[int, int, int, list[int]]:
    """RFC 6396 4.2: view, sequence, prefix, length, status, time, peer IP, peer AS (2 bytes),
    attributes with 2-byte ASNs."""
    width = 4 if version == 4 else 16
    net = int.from_bytes(body[4 : 4 + width], "big")
    length = body[4 + width]
    if length > width * 8:
        raise ValueError(f"prefix length {length} > {width * 8}")
    at = 4 + width + 1 + 1 + 4 + width + 2
    (alen,) = struct.unpack_from(">H", body, at)
    attrs = body[at + 2 : at + 2 + alen]
    if len(attrs) != alen:
        raise ValueError("attributes run past the record")
    origin = origin_as(attrs, as4=False)
    return version, net, length, [] if origin is None else [origin]


def origin_as(attrs: memoryview | bytes, as4: bool) -> int | None:
    """The origin AS from BGP path attributes (RFC 4271 4.3): AS_PATH's, or AS4_PATH's
    when AS_PATH uses 2-byte ASNs and its origin is AS_TRANS (RFC 6793 4.2.3)."""
    return _origin_in(attrs, 0, len(attrs), as4)


_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def _origin_in(buf: memoryview | bytes, at: int, size: int, as4: bool) -> int | None:
    """``origin_as`` over ``buf[at:size]`` without copying (the hot path of a RIB load)."""
    path = path4 = None
    while at < size:
        flags, code = buf[at], buf[at + 1]
        if flags & 0x10:  # extended length
            (alen,) = _U16.unpack_from(buf, at + 2)
            at += 4
        else:
            alen = buf[at + 2]
            at += 3
        if at + alen > size:
            raise ValueError("attribute runs past the attributes")
        if code == AS_PATH:
            path = (at, at + alen)
        elif code == AS4_PATH:
            path4 = (at, at + alen)
        at += alen
    if path is None:
        return None
    origin = _path_origin(buf, *path, 4 if as4 else 2)
    if not as4 and path4 is not None and origin == AS_TRANS:
        origin = _path_origin(buf, *path4, 4)
    return origin


def _path_origin(buf: memoryview | bytes, at: int, end: int, width: int) -> int | None:
    """The last AS of the last segment (an AS_SET's lowest member)."""
    last = None
    unpack = (_U32 if width == 4 else _U16).unpack_from
    while at < end:
        seg_type, count = buf[at], buf[at + 1]
        at += 2
        stop = at + count * width
        if stop > end:
            raise ValueError("AS_PATH segment runs past the attribute")
        if count:
            if seg_type == AS_SET:
                last = min(unpack(buf, at + i * width)[0] for i in range(count))
            else:
                last = unpack(buf, stop - width)[0]
        at = stop
    return last
