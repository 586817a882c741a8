"""A small pcapng writer for tests (draft-ietf-opsawg-pcapng sections 4.1-4.4)."""

from __future__ import annotations

import struct


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def block(order: str, btype: int, body: bytes) -> bytes:
    body = _pad(body)
    length = 12 + len(body)
    return struct.pack(order + "II", btype, length) + body + struct.pack(order + "I", length)


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + _pad(value)


def shb(order: str) -> bytes:
    body = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)
    return block(order, 0x0A0D0D0A, body)


def idb(order: str, linktype: int, *, tsresol: int | None = None, snaplen: int = 0) -> bytes:
    opts = b""
    if tsresol is not None:
        opts = option(order, 9, bytes([tsresol])) + option(order, 0, b"")
    return block(order, 1, struct.pack(order + "HHI", linktype, 0, snaplen) + opts)


def epb(order: str, iface: int, ts_units: int, packet: bytes, wirelen: int | None = None) -> bytes:
    head = struct.pack(
        order + "IIIII",
        iface,
        ts_units >> 32,
        ts_units & 0xFFFFFFFF,
        len(packet),
        len(packet) if wirelen is None else wirelen,
    )
    return block(order, 6, head + packet)


def spb(order: str, packet: bytes) -> bytes:
    return block(order, 3, struct.pack(order + "I", len(packet)) + packet)
