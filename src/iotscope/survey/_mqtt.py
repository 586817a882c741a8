"""MQTT 3.1.1, sans-IO: the CONNECT we send and the CONNACK we parse (OASIS MQTT 3.1.1 §3.1-3.2).

CONNACK return codes (§3.2.2.3): 0 accepted, 1 unacceptable protocol version, 2 identifier
rejected, 3 server unavailable, 4 bad user name or password, 5 not authorized.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from iotscope.errors import ParseError

__all__ = ["DISCONNECT", "Connack", "build_connect", "parse_connack"]

DISCONNECT = b"\xe0\x00"  # §3.14
CONNACK_CODES = {
    0: "accepted",
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
}


def _string(value: str) -> bytes:
    raw = value.encode("utf-8")[:65535]
    return struct.pack("!H", len(raw)) + raw


def _remaining_length(n: int) -> bytes:
    """The variable-length encoding of §2.2.3."""
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def build_connect(
    client_id: str, username: str | None = None, password: str | None = None, keepalive: int = 30
) -> bytes:
    """A CONNECT packet, clean session, with optional user name and password (§3.1)."""
    flags = 0x02
    payload = _string(client_id)
    if username is not None:
        flags |= 0x80
        payload += _string(username)
        if password is not None:
            flags |= 0x40
            payload += _string(password)
    variable = _string("MQTT") + bytes((4, flags)) + struct.pack("!H", keepalive)
    body = variable + payload
    return b"\x10" + _remaining_length(len(body)) + body


@dataclass(frozen=True)
class Connack:
    session_present: bool
    code: int

    @property
    def accepted(self) -> bool:
        return self.code == 0

    @property
    def meaning(self) -> str:
        return CONNACK_CODES.get(self.code, f"unknown code {self.code}")


def parse_connack(data: bytes) -> Connack | None:
    """The CONNACK at the start of ``data``; None if incomplete; ParseError otherwise."""
    if not data:
        return None
    if data[0] != 0x20:
        raise ParseError("not a CONNACK", first=data[:8].hex())
    if len(data) < 2:
        return None
    if data[1] != 2:
        raise ParseError("CONNACK with a bad remaining length", length=data[1])
    if len(data) < 4:
        return None
    if data[2] & 0xFE:
        raise ParseError("CONNACK with reserved flags set", flags=data[2])
    return Connack(session_present=bool(data[2] & 1), code=data[3])
