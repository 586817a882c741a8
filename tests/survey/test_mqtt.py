"""MQTT 3.1.1 CONNECT / CONNACK."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ParseError
from iotscope.survey._mqtt import build_connect, parse_connack


def test_connect_layout() -> None:
    packet = build_connect("c1")
    assert packet == b"\x10\x0e\x00\x04MQTT\x04\x02\x00\x1e\x00\x02c1"
    packet = build_connect("c1", "admin", "public")
    assert packet[9] == 0xC2  # user name + password + clean session
    assert packet.endswith(b"\x00\x05admin\x00\x06public")


def test_long_payload_uses_varint_length() -> None:
    packet = build_connect("c", "u" * 200, "p")
    assert packet[1] & 0x80 and packet[2] == 1


def test_connack() -> None:
    ack = parse_connack(b"\x20\x02\x00\x00")
    assert ack is not None and ack.accepted
    ack = parse_connack(b"\x20\x02\x00\x05")
    assert ack is not None and ack.code == 5 and ack.meaning == "not authorized"
    assert parse_connack(b"\x20\x02") is None
    with pytest.raises(ParseError):
        parse_connack(b"HTTP/1.1")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=16))
def test_fuzz_connack(data: bytes) -> None:
    try:
        ack = parse_connack(data)
    except ParseError:
        return
    assert ack is None or 0 <= ack.code <= 255
