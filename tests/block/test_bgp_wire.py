from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.block import _bgp_wire as w

N = ipaddress.IPv4Network


def test_keepalive_is_the_bare_header() -> None:
    assert w.encode_keepalive() == b"\xff" * 16 + b"\x00\x13\x04"


def test_open_carries_4_octet_as_and_ipv4_unicast() -> None:
    raw = w.encode_open(w.speaker_open(4200000001, 90, "192.0.2.254"))
    (kind, body), *_ = w.split_messages(raw)[0]
    assert struct.unpack_from("!BHH", body) == (4, w.AS_TRANS, 90)  # RFC 6793: AS_TRANS
    got = w.decode(kind, body)
    assert isinstance(got, w.Open)
    assert (got.asn, got.as4, got.ipv4_unicast, got.router_id) == (
        4200000001,
        True,
        True,
        "192.0.2.254",
    )


def test_update_round_trip_with_rfc7999_attributes() -> None:
    attrs = w.PathAttrs(
        origin=0,
        as_path=((w.AS_SEQUENCE, (65000,)),),
        next_hop="192.0.2.1",
        communities=(w.BLACKHOLE, w.NO_EXPORT),
    )
    nets = [N("198.51.100.7/32"), N("203.0.113.0/28"), N("0.0.0.0/0")]
    raw = w.encode_update([N("198.51.100.9/32")], attrs, nets)
    [(kind, body)], rest = w.split_messages(raw)
    assert rest == b""
    got = w.decode(kind, body)
    assert got == w.Update((N("198.51.100.9/32"),), attrs, tuple(nets))
    # 65535:666 on the wire (RFC 7999 section 5), NO_EXPORT next to it
    assert bytes.fromhex("ffff029a") + bytes.fromhex("ffffff01") in raw


def test_pack_updates_splits_large_sets_within_4096_octets() -> None:
    attrs = w.PathAttrs(origin=0, next_hop="192.0.2.1", communities=(w.BLACKHOLE,))
    nets = [N(f"10.{i // 256}.{i % 256}.1/32") for i in range(3000)]
    msgs = w.pack_updates(nets[:1000], attrs, nets)
    assert all(len(m) <= 4096 for m in msgs)
    seen_w, seen_a = [], []
    for m in msgs:
        for kind, body in w.split_messages(m)[0]:
            u = w.decode(kind, body)
            assert isinstance(u, w.Update)
            seen_w += u.withdrawn
            seen_a += u.nlri
    assert (seen_w, seen_a) == (nets[:1000], nets)


@pytest.mark.parametrize(
    ("raw", "code", "subcode"),
    [
        (b"\x00" * 16 + b"\x00\x13\x04", 1, 1),  # bad marker
        (b"\xff" * 16 + b"\x00\x12\x04", 1, 2),  # length below 19
        (b"\xff" * 16 + b"\x00\x13\x09", 1, 3),  # unknown type
        (b"\xff" * 16 + b"\x00\x14\x04\x00", 1, 2),  # KEEPALIVE with a body
        (w.encode_update()[:-4] + b"\x00\x05\x00\x00", 3, 1),  # withdrawn beyond the end
    ],
)
def test_errors_name_the_notification(raw: bytes, code: int, subcode: int) -> None:
    with pytest.raises(w.BgpError) as info:
        for kind, body in w.split_messages(raw)[0]:
            w.decode(kind, body)
        if len(raw) >= 19 and not w.split_messages(raw)[0]:
            raise w.BgpError("incomplete", 1, 2)
    assert (info.value.code, info.value.subcode) == (code, subcode)


def test_update_errors() -> None:
    nlri_without_attrs = struct.pack("!HH", 0, 0) + b"\x20\xc6\x33\x64\x07"
    with pytest.raises(w.BgpError) as info:
        w.decode_update(nlri_without_attrs)
    assert (info.value.code, info.value.subcode) == (3, 3)
    bad_origin = struct.pack("!HH", 0, 4) + bytes([0x40, 1, 1, 7])
    with pytest.raises(w.BgpError, match="ORIGIN"):
        w.decode_update(bad_origin)
    long_prefix = struct.pack("!H", 2) + b"\x21\x01" + b"\x00\x00"
    with pytest.raises(w.BgpError, match="network field"):
        w.decode_update(long_prefix)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.booleans())
def test_fuzz_decoder_never_crashes(data: bytes, as4: bool) -> None:
    """A peer's bytes: every message either decodes or is a BgpError with a NOTIFICATION code."""
    raw = w.MARKER + struct.pack("!HB", 19 + len(data), data[0] % 6 if data else 4) + data[1:]
    for buf in (raw, data):
        try:
            messages, _rest = w.split_messages(buf)
            for kind, body in messages:
                w.decode(kind, body, as4)
        except w.BgpError as exc:
            assert 1 <= exc.code <= 6


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 32)), max_size=40),
    st.lists(st.integers(0, 2**32 - 1), max_size=10),
    st.integers(1, 2**32 - 1),
)
def test_fuzz_update_round_trip(
    prefixes: list[tuple[int, int]], communities: list[int], asn: int
) -> None:
    nets = [N((a, n), strict=False) for a, n in prefixes]
    attrs = w.PathAttrs(
        origin=0,
        as_path=((w.AS_SEQUENCE, (asn,)),),
        next_hop="192.0.2.1",
        communities=tuple(communities),
    )
    for m in w.pack_updates(nets[:5], attrs, nets):
        [(kind, body)], rest = w.split_messages(m)
        got = w.decode(kind, body)
        assert isinstance(got, w.Update) and rest == b""
        assert not got.nlri or got.attrs == attrs
