"""Hostile hosts: what a scanner must survive (bounded reads, timeouts, garbage).

Kinds (``Device.hostile``):
- ``tarpit``: accepts and never says a word.
- ``endless-banner``: an endless text banner with no line end a parser could stop at.
- ``garbage``: random binary bursts, then a hang-up after ``GARBAGE_LIMIT`` bytes.
- ``iac-flood``: an endless stream of telnet IAC WILL/DO option offers (RFC 854 commands).
- ``reset``: accepts, then resets the connection (RST via SO_LINGER 0).

``chunk`` is the pure part (what to send next); ``HostileProtocol`` paces it on a socket.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct

CHUNK = 4096
PACE = 0.02  # seconds between chunks: about 200 KB/s per connection
GARBAGE_LIMIT = 256 * 1024
TARPIT_SECONDS = 600.0
_BANNER = b"Welcome to the service. Please wait while the system initialises... "


def chunk(kind: str, rng: random.Random) -> bytes:
    """The next burst a hostile host of ``kind`` sends (empty for silent kinds)."""
    if kind == "endless-banner":
        return (_BANNER * (CHUNK // len(_BANNER) + 1))[:CHUNK]
    if kind == "garbage":
        return rng.randbytes(CHUNK)
    if kind == "iac-flood":
        out = bytearray()
        while len(out) < CHUNK:
            out += bytes((255, rng.choice((251, 253)), rng.randrange(256)))
        return bytes(out)
    return b""


class HostileProtocol(asyncio.Protocol):
    """One connection to a hostile host."""

    def __init__(self, kind: str, seed: str, tracker: set[asyncio.BaseTransport]) -> None:
        self.kind, self.rng, self.tracker = kind, random.Random(seed), tracker
        self.transport: asyncio.Transport | None = None
        self.sent = 0
        self.paused = False
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.tracker.add(transport)
        loop = asyncio.get_running_loop()
        if self.kind == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif self.kind == "tarpit":
            self.timer = loop.call_later(TARPIT_SECONDS, transport.close)
        else:
            self._send()

    def _send(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or self.paused:
            return
        data = chunk(self.kind, self.rng)
        transport.write(data)
        self.sent += len(data)
        if self.kind == "garbage" and self.sent >= GARBAGE_LIMIT:
            transport.close()
            return
        self.timer = asyncio.get_running_loop().call_later(PACE, self._send)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._send()

    def data_received(self, data: bytes) -> None:
        pass  # hostile hosts do not listen

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.transport is not None:
            self.tracker.discard(self.transport)
        self.transport = None
