"""MQTT 3.1.1 broker front door: CONNECT/CONNACK codes, PINGREQ, SUBSCRIBE, DISCONNECT."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.lab._creds import OPEN, Pair
from iotscope.lab._mqtt import MqttSession, encode_length, split_packet

PAIR = Pair("hub", "hub", True)


def _str(value: bytes) -> bytes:
    return len(value).to_bytes(2, "big") + value


def connect(user: str | None = None, password: str | None = None, level: int = 4) -> bytes:
    flags = 0x02 | (0x80 if user is not None else 0) | (0x40 if password is not None else 0)
    body = (
        _str(b"MQTT" if level == 4 else b"MQIsdp") + bytes((level, flags, 0, 60)) + _str(b"probe")
    )
    if user is not None:
        body += _str(user.encode())
    if password is not None:
        body += _str(password.encode())
    return bytes((0x10, len(body))) + body


def test_anonymous_broker_accepts() -> None:
    s = MqttSession(OPEN)
    assert s.feed(connect()) == b"\x20\x02\x00\x00"
    assert s.feed(b"\xc0\x00") == b"\xd0\x00"
    sub = b"\x00\x01" + _str(b"#") + b"\x00"
    assert s.feed(bytes((0x82, len(sub))) + sub) == b"\x90\x03\x00\x01\x00"
    assert s.feed(b"\xe0\x00") == b"" and s.closed


def test_password_broker_codes() -> None:
    assert MqttSession(PAIR).feed(connect()) == b"\x20\x02\x00\x05"
    bad = MqttSession(PAIR)
    assert bad.feed(connect("hub", "nope")) == b"\x20\x02\x00\x04" and bad.closed
    good = MqttSession(PAIR)
    assert good.feed(connect("hub", "hub")) == b"\x20\x02\x00\x00" and not good.closed


def test_mqtt_31_and_bad_level() -> None:
    assert MqttSession(OPEN).feed(connect(level=3)) == b"\x20\x02\x00\x00"
    s = MqttSession(OPEN)
    data = bytearray(connect())
    data[8] = 9  # protocol level
    assert s.feed(bytes(data)) == b"\x20\x02\x00\x01" and s.closed


def test_split_across_feeds_and_publish_qos1() -> None:
    s = MqttSession(OPEN)
    packet = connect()
    assert s.feed(packet[:3]) == b""
    assert s.feed(packet[3:]) == b"\x20\x02\x00\x00"
    pub = _str(b"t") + b"\x00\x07" + b"hi"
    assert s.feed(bytes((0x32, len(pub))) + pub) == b"\x40\x02\x00\x07"


def test_many_topics_suback_uses_a_long_length() -> None:
    s = MqttSession(OPEN)
    s.feed(connect())
    sub = b"\x00\x02" + (_str(b"a") + b"\x00") * 200
    reply = s.feed(bytes((0x82,)) + encode_length(len(sub)) + sub)
    assert reply[:3] == b"\x90\xca\x01" and len(reply) == 3 + 202


def test_first_packet_must_be_connect() -> None:
    s = MqttSession(OPEN)
    assert s.feed(b"\xc0\x00") == b"" and s.closed


def test_oversized_length_closes() -> None:
    s = MqttSession(OPEN)
    assert s.feed(b"\x10\xff\xff\xff\x7f") == b"" and s.closed
    assert split_packet(b"\x10\x80") is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=100), max_size=8))
def test_fuzz_never_crashes(chunks: list[bytes]) -> None:
    s = MqttSession(PAIR)
    for chunk in chunks:
        assert isinstance(s.feed(chunk), bytes)
