"""The numpy MRT reader (``parse_mrt``) against the record-at-a-time reference
(``parse_mrt_reference``): same table, same counts, same first error (message, record number,
byte offset) on generated dumps mixing every record form either path reads, with and
without corrupted bytes or a cut tail."""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.attribution._mrt import parse_mrt, parse_mrt_reference
from iotscope.attribution._mrt_write import ORIGIN_IGP, as_path_attr, peer_index, rib_record
from iotscope.errors import ParseError

ASN = st.integers(0, 2**32 - 1)
COMMUNITY = b"\xc0\x08\x04\x00\x01\x00\x02"


def _outcome(data: bytes) -> tuple[Any, ...]:
    out = []
    for reader in (parse_mrt, parse_mrt_reference):
        try:
            r = reader(data, "dump.mrt")
        except ParseError as exc:
            out.append(("error", str(exc), exc.data))
        else:
            out.append((r.v4, r.v6, r.records, +r.skipped))
    return tuple(out)


@st.composite
def _attrs(draw: st.DrawFn) -> bytes:
    path = draw(st.lists(ASN, max_size=4))
    as_set = draw(st.lists(ASN, max_size=3)) if draw(st.booleans()) else []
    if draw(st.integers(0, 9)) == 0:
        return ORIGIN_IGP  # no AS_PATH at all
    attrs = ORIGIN_IGP + as_path_attr(path, as_set)
    if draw(st.booleans()):
        attrs += COMMUNITY
    if draw(st.integers(0, 5)) == 0:  # extended-length AS_PATH
        value = struct.pack(">BB", 2, len(path)) + b"".join(struct.pack(">I", a) for a in path)
        attrs = ORIGIN_IGP + struct.pack(">BBH", 0x50, 2, len(value)) + value
    return attrs


@st.composite
def _record(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["v4", "v4", "v4", "v6", "addpath", "v1", "other"]))
    if kind in ("v4", "addpath"):
        length = draw(st.integers(0, 32))
        net = ipaddress.IPv4Network((draw(st.integers(0, 2**32 - 1)), length), strict=False)
        prefix = str(net) if draw(st.integers(0, 3)) else draw(st.sampled_from(["10.0.0.0/8"]))
    else:
        net6 = ipaddress.IPv6Network((draw(st.integers(0, 2**128 - 1)), 48), strict=False)
        prefix = str(net6)
    entries = [(draw(st.integers(0, 1)), draw(_attrs())) for _ in range(draw(st.integers(0, 3)))]
    rec = rib_record(draw(st.integers(0, 99)), prefix, entries)
    if kind == "addpath":  # RFC 8050: subtype 8, a path identifier after the originated time
        body = bytearray(rec[12:])
        nb = (body[4] + 7) // 8
        at, out = 5 + nb + 2, body[: 5 + nb + 2]
        for _ in range(struct.unpack_from(">H", body, 5 + nb)[0]):
            alen = struct.unpack_from(">H", body, at + 6)[0]
            out += body[at : at + 6] + b"\0\0\0\1" + body[at + 6 : at + 8 + alen]
            at += 8 + alen
        rec = struct.pack(">IHHI", 0, 13, 8, len(out)) + bytes(out)
    elif kind == "v1":
        attrs = ORIGIN_IGP + b"\x40\x02\x06\x02\x02" + struct.pack(">HH", 64496, 23456)
        attrs += b"\xc0\x11\x0a\x02\x02" + struct.pack(">II", 64496, draw(ASN))
        body = struct.pack(">HH", 0, 1) + bytes(4) + struct.pack(">BBI", 8, 1, 0) + bytes(4)
        body += struct.pack(">HH", 64496, len(attrs)) + attrs
        rec = struct.pack(">IHHI", 0, 12, 1, len(body)) + body
    elif kind == "other":
        rec = struct.pack(">IHHI", 0, 16, 4, 3) + b"abc"
    return rec


@st.composite
def _dump(draw: st.DrawFn) -> bytes:
    raw = bytearray(peer_index("192.0.2.254", [("192.0.2.1", 64496), ("2001:db8::1", 64497)]))
    for rec in draw(st.lists(_record(), max_size=12)):
        raw += rec
    for _ in range(draw(st.integers(0, 3))):
        if raw:
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    if draw(st.integers(0, 4)) == 0:
        raw = raw[: draw(st.integers(0, len(raw)))]
    return bytes(raw)


@settings(max_examples=400, deadline=None)
@given(_dump())
def test_same_as_reference_on_generated_dumps(data: bytes) -> None:
    fast, reference = _outcome(data)
    assert fast == reference


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_same_as_reference_on_random_bytes(data: bytes) -> None:
    fast, reference = _outcome(data)
    assert fast == reference


def test_repeated_prefix_votes_across_records() -> None:
    attrs = {a: ORIGIN_IGP + as_path_attr([64496, a]) for a in (65001, 65002)}
    data = peer_index("192.0.2.254", [("192.0.2.1", 64496)]) + b"".join(
        rib_record(i, "198.51.100.0/24", [(0, attrs[a])])
        for i, a in enumerate([65002, 65001, 65001, 65002, 65001])
    )
    fast, reference = _outcome(data)
    assert fast == reference
    assert fast[0] == [(int(ipaddress.IPv4Address("198.51.100.0")), 24, 65001)]
