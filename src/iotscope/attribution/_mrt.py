"""MRT routing table dumps (RFC 6396) -> ``(prefix, origin AS)``.

Read: TABLE_DUMP_V2 (type 13: PEER_INDEX_TABLE, RIB_IPV4/IPV6_UNICAST and _MULTICAST, and the
RFC 8050 ADD-PATH variants) whose AS_PATH holds 4-byte ASNs (RFC 6396 section 4.3.4), and the
older TABLE_DUMP (type 12) whose AS_PATH holds 2-byte ASNs, where an AS4_PATH (RFC 6793) gives
the true origin behind AS_TRANS. Other record types (BGP4MP updates...) are skipped and counted.

The origin of one RIB entry is the last AS of the path's last AS_SEQUENCE segment; when the
path ends in an AS_SET (aggregation) the set's lowest ASN stands for it. A prefix seen by
several peers takes the origin most of them report (ties: the lowest ASN), so one peer's
leak does not move the prefix. Gzip and bzip2 input is recognised by its magic bytes.

:func:`parse_mrt` reads RIB_IPV4_UNICAST records column-wise with numpy and hands every other
record to the record-at-a-time :func:`parse_mrt_reference`, whose results it reproduces exactly
(tests/attribution/test_mrt_parity.py).
"""

from __future__ import annotations

import bz2
import gzip
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

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


def _empty() -> npt.NDArray[np.int64]:
    return np.zeros(0, dtype=np.int64)


@dataclass
class MrtResult:
    """What one dump held: IPv4 as columns (network, length, origin AS), IPv6 as
    ``(network int, length, origin AS)``, each in first-seen order; and counts."""

    v4_net: npt.NDArray[np.int64] = field(default_factory=_empty)
    v4_len: npt.NDArray[np.int64] = field(default_factory=_empty)
    v4_asn: npt.NDArray[np.int64] = field(default_factory=_empty)
    v6: list[tuple[int, int, int]] = field(default_factory=list)
    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def v4(self) -> list[tuple[int, int, int]]:
        """IPv4 as ``(network int, length, origin AS)`` tuples."""
        return list(
            zip(self.v4_net.tolist(), self.v4_len.tolist(), self.v4_asn.tolist(), strict=True)
        )


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


def parse_mrt_reference(data: bytes, source: str = "<bytes>") -> MrtResult:
    """The record-at-a-time reader: the reference :func:`parse_mrt` must agree with exactly
    (same table, counts and first error); kept for the parity tests and as its fallback."""
    out = _Votes()
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
        got = _one_record(data, offset, end, mtype, subtype, source, number)
        offset = end
        out.add(got, mtype, subtype)
    return out.result(number)


def _one_record(
    data: bytes, offset: int, end: int, mtype: int, subtype: int, source: str, number: int
) -> tuple[int, int, int, list[int]] | None:
    """One record's ``(version, network, length, origins)``, None for a type not read."""
    try:
        if mtype == TABLE_DUMP_V2 and subtype == 2:  # the bulk of a RIB: inline path
            return _rib_v4_unicast(data, offset + 12, end)
        return _record(mtype, subtype, memoryview(data)[offset + 12 : end])
    except (struct.error, IndexError, ValueError) as exc:
        raise ParseError(
            "bad MRT record", path=source, record=number, offset=offset, reason=str(exc)
        ) from exc


class _Votes:
    """Origins per prefix in first-seen order; a prefix seen in several records or entries
    takes the most reported origin (ties: the lowest ASN)."""

    def __init__(self) -> None:
        self.first: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self.repeats: tuple[dict[int, Counter[int]], dict[int, Counter[int]]] = ({}, {})
        self.skipped: Counter[str] = Counter()

    def add(self, got: tuple[int, int, int, list[int]] | None, mtype: int, subtype: int) -> None:
        if got is None:
            self.skipped[f"type {mtype}/{subtype}"] += 1
            return
        version, net, plen, asns = got
        if not asns:
            self.skipped["no AS_PATH origin"] += 1
            return
        # One dict entry per prefix (a key packs network and length); the rare prefix seen
        # in several records (TABLE_DUMP keeps one record per peer) gets a vote counter.
        side = 0 if version == 4 else 1
        key = (net << 8) | plen
        seen, multi = self.first[side], self.repeats[side]
        if key in seen:
            multi.setdefault(key, Counter([seen[key]])).update(asns)
        else:
            seen[key] = asns[0] if len(asns) == 1 else _vote(Counter(asns))
            if len(asns) > 1:
                multi[key] = Counter(asns)

    def lists(self, side: int) -> list[tuple[int, int, int]]:
        votes = self.repeats[side]
        return [
            (key >> 8, key & 0xFF, asn if (v := votes.get(key)) is None else _vote(v))
            for key, asn in self.first[side].items()
        ]

    def result(self, records: int) -> MrtResult:
        v4 = self.lists(0)
        cols = np.array(v4, dtype=np.int64).reshape(-1, 3)
        return MrtResult(
            v4_net=cols[:, 0].copy(),
            v4_len=cols[:, 1].copy(),
            v4_asn=cols[:, 2].copy(),
            v6=self.lists(1),
            records=records,
            skipped=self.skipped,
        )


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


_I64 = npt.NDArray[np.int64]
_Bool = npt.NDArray[np.bool_]


def parse_mrt(data: bytes, source: str = "<bytes>") -> MrtResult:
    """Every prefix and its origin AS. A truncated or malformed record raises
    :class:`ParseError` naming ``source``, the record number and its byte offset.

    Two passes, so a million-prefix RIB loads in seconds: a tight loop walks the 12-byte
    common headers (it only reads each record's length), then numpy reads every
    RIB_IPV4_UNICAST record at once: prefix, entries, attributes, AS_PATH segments, each a
    loop over the *n*-th item of all records together (as many rounds as the longest list,
    not as many as records). Records it does not take are read one at a time by the
    reference code (:func:`parse_mrt_reference`), in order, so the table, the counts and the
    first error are exactly the reference's: every other type and subtype (IPv6, multicast,
    ADD-PATH, TABLE_DUMP with its 2-byte paths and AS4_PATH, the peer index), any record
    with an entry whose path holds an AS_SET, and any record whose bytes do not fit (which
    then raises there). A real dump's IPv6 share is thus read at the reference's speed.
    """
    offsets, number, header_error = _walk_headers(data, source)
    u = np.concatenate([np.frombuffer(data, dtype=np.uint8), np.zeros(8, dtype=np.uint8)])
    off = np.array(offsets, dtype=np.int64)
    mtype, subtype = _be(u, off + 4, 2), _be(u, off + 6, 2)
    fast = np.flatnonzero((mtype == TABLE_DUMP_V2) & (subtype == 2))
    ok, net, plen, ent_rec, ent_asn, no_origin = _rib_v4_columns(
        u, off[fast], _be(u, off + 8, 4)[fast]
    )
    slow = np.ones(len(off), dtype=np.bool_)
    slow[fast[ok]] = False
    # Entries of records read by numpy: (record number, origin), in entry order per record.
    keep = ok[ent_rec]
    rec_v = fast[ent_rec[keep]]
    asn_v = ent_asn[keep]
    net_v, len_v = net[ent_rec[keep]], plen[ent_rec[keep]]
    votes = _Votes()
    if empty := int(np.count_nonzero(no_origin & ok)):
        votes.skipped["no AS_PATH origin"] += empty
    extra: list[tuple[int, int, int, int]] = []  # IPv4 from the slow path: record, net, len, AS
    for i in np.flatnonzero(slow).tolist():
        o, t, s = int(off[i]), int(mtype[i]), int(subtype[i])
        got = _one_record(
            data, o, o + 12 + int.from_bytes(data[o + 8 : o + 12], "big"), t, s, source, i + 1
        )
        if got is not None and got[0] == 4 and got[3]:
            extra.extend((i, got[1], got[2], a) for a in got[3])
        elif got is not None and got[0] == 4:
            votes.skipped["no AS_PATH origin"] += 1
        else:
            votes.add(got, t, s)  # IPv6 and skipped types: the reference's bookkeeping
    if header_error is not None:
        raise header_error
    if extra:
        x = np.array(extra, dtype=np.int64)
        rec_v = np.concatenate([rec_v, x[:, 0]])
        net_v, len_v = np.concatenate([net_v, x[:, 1]]), np.concatenate([len_v, x[:, 2]])
        asn_v = np.concatenate([asn_v, x[:, 3]])
    order = np.argsort(rec_v, kind="stable")  # record order; entry order within a record
    net4, len4, asn4 = _majority(net_v[order], len_v[order], asn_v[order])
    return MrtResult(
        v4_net=net4, v4_len=len4, v4_asn=asn4, v6=votes.lists(1), records=number,
        skipped=votes.skipped,
    )  # fmt: skip


def _walk_headers(data: bytes, source: str) -> tuple[list[int], int, ParseError | None]:
    """Offsets of the whole records, their count, and the error that stopped the walk (a
    truncated header or record; raised only after earlier records had their say)."""
    offsets: list[int] = []
    append, unpack = offsets.append, _U32.unpack_from
    offset, size = 0, len(data)
    while offset + 12 <= size:
        end = offset + 12 + unpack(data, offset + 8)[0]
        if end > size:
            break
        append(offset)
        offset = end
    if offset >= size:
        return offsets, len(offsets), None
    number = len(offsets) + 1
    if offset + 12 > size:
        return (
            offsets,
            number,
            ParseError("truncated MRT header", path=source, record=number, offset=offset),
        )
    (length,) = _U32.unpack_from(data, offset + 8)
    return (
        offsets,
        number,
        ParseError(
            "truncated MRT record", path=source, record=number, offset=offset, length=length
        ),
    )


def _be(u: npt.NDArray[np.uint8], at: _I64, width: int) -> _I64:
    """Big-endian unsigned ints of ``width`` bytes at each offset. ``u`` is the dump padded
    with 8 zero bytes and offsets are clipped to it, so a read past the end gives garbage,
    never an IndexError: callers check every bound themselves."""
    at = np.minimum(at, len(u) - 8)
    out = u[at].astype(np.int64)
    for k in range(1, width):
        out = (out << 8) | u[at + k]
    return out


def _rib_v4_columns(
    u: npt.NDArray[np.uint8], off: _I64, length: _I64
) -> tuple[_Bool, _I64, _I64, _I64, _I64, _Bool]:
    """RIB_IPV4_UNICAST records (RFC 6396 4.3.2) at ``off``, all at once: per record whether
    numpy read it fully (else the reference reads it), network, length; per entry with an
    origin its record index and origin AS; per record whether none of its entries had one."""
    n = len(off)
    start, end = off + 12, off + 12 + length
    plen = _be(u, start + 4, 1)
    nbytes = (plen + 7) >> 3
    net = np.zeros(n, dtype=np.int64)
    for k in range(4):
        net = (net << 8) | np.where(k < nbytes, _be(u, start + 5 + k, 1), 0)
    net &= 0xFFFFFFFF ^ ((np.int64(1) << (32 - np.minimum(plen, 32))) - 1)
    cur = start + 5 + nbytes + 2
    ok = (plen <= 32) & (cur <= end)
    remaining = np.where(ok, _be(u, cur - 2, 2), 0)
    recs: list[_I64] = []
    firsts: list[_I64] = []
    lasts: list[_I64] = []
    while (act := np.flatnonzero(remaining)).size:  # the k-th entry of every record
        c, e = cur[act], end[act]
        a0 = c + 8  # after peer index, originated time and attribute length
        a1 = a0 + _be(u, c + 6, 2)
        fits = a1 <= e
        ok[act[~fits]] = False
        remaining[act[~fits]] = 0
        act, a0, a1 = act[fits], a0[fits], a1[fits]
        recs.append(act)
        firsts.append(a0)
        lasts.append(a1)
        cur[act] = a1
        remaining[act] -= 1
    rec = np.concatenate(recs) if recs else np.zeros(0, dtype=np.int64)
    a0 = np.concatenate(firsts) if firsts else rec
    a1 = np.concatenate(lasts) if lasts else rec
    origin, fine = _origins(u, a0, a1)
    ok[rec[~fine]] = False
    has = origin >= 0
    with_origin = np.zeros(n, dtype=np.bool_)
    with_origin[rec[has]] = True
    return ok, net, plen, rec[has], origin[has], ~with_origin


def _origins(u: npt.NDArray[np.uint8], start: _I64, end: _I64) -> tuple[_I64, _Bool]:
    """Per entry the origin AS of the attributes at ``start:end`` (-1: no AS_PATH or no
    non-empty segment), and whether numpy could tell (False: bad bytes or an AS_SET)."""
    fine = np.ones(len(start), dtype=np.bool_)
    p_from = np.full(len(start), -1, dtype=np.int64)
    p_to = np.full(len(start), -1, dtype=np.int64)
    at = start.copy()
    while (act := np.flatnonzero(fine & (at < end))).size:  # the k-th attribute of each
        q = at[act]
        flags, code = _be(u, q, 1), _be(u, q + 1, 1)
        ext = (flags & 0x10) != 0
        first = q + np.where(ext, 4, 3)
        last = first + np.where(ext, _be(u, q + 2, 2), _be(u, q + 2, 1))
        fits = last <= end[act]
        fine[act[~fits]] = False
        is_path = fits & (code == AS_PATH)  # the last AS_PATH wins, as in the reference
        p_from[act[is_path]], p_to[act[is_path]] = first[is_path], last[is_path]
        at[act[fits]] = last[fits]
    origin = np.full(len(start), -1, dtype=np.int64)
    at = p_from
    while (act := np.flatnonzero(fine & (at < p_to))).size:  # the k-th segment of each
        q = at[act]
        seg_type, count = _be(u, q, 1), _be(u, q + 1, 1)
        stop = q + 2 + 4 * count
        fits = stop <= p_to[act]
        fine[act[~fits | ((count > 0) & (seg_type == AS_SET))]] = False
        seq = fits & (count > 0) & (seg_type != AS_SET)
        origin[act[seq]] = _be(u, stop[seq] - 4, 4)
        at[act[fits]] = stop[fits]
    return origin, fine


def _majority(net: _I64, plen: _I64, asn: _I64) -> tuple[_I64, _I64, _I64]:
    """One row per prefix in first-seen order, its origin the one most rows give (ties: the
    lowest ASN): the reference's vote, over columns."""
    key = (net << 8) | plen
    by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    repeated = np.zeros(len(key), dtype=np.bool_)
    if len(key):
        dup = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
        repeated[by_key[np.r_[dup, dup + 1]]] = True
    if not repeated.any():  # the common case: each prefix once, one origin
        return net, plen, asn
    # Vote among the rows of repeated prefixes only; keep each prefix's first row.
    rows = np.flatnonzero(repeated)
    keys, first, inverse = np.unique(key[rows], return_index=True, return_inverse=True)
    inverse, a_rows = inverse.ravel(), asn[rows]
    by = np.lexsort((a_rows, inverse))
    g, a = inverse[by], a_rows[by]
    run = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (a[1:] != a[:-1])])
    counts = np.diff(np.r_[run, len(g)])
    rg, ra = g[run], a[run]
    best = np.lexsort((ra, -counts, rg))
    pick = best[np.r_[True, rg[best][1:] != rg[best][:-1]]]  # first per prefix
    winner = np.empty(len(keys), dtype=np.int64)
    winner[rg[pick]] = ra[pick]
    keep = ~repeated
    keep[rows[first]] = True
    out_asn = asn.copy()
    out_asn[rows[first]] = winner
    return net[keep], plen[keep], out_asn[keep]
