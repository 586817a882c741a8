"""A scripted network backend: services play byte chunks, no socket is opened.

Tests (and anyone exercising a probe) build a :class:`ScriptedBackend` from a map
``(address, port) -> handler factory``. A handler is a tiny server: :meth:`Handler.start` gives
the chunks it sends on connect, :meth:`Handler.received` the chunks it answers to one write;
``closed`` ends the stream once the queued chunks are read, ``hang`` makes reads block (a
tarpit). Every connection, write and datagram is recorded, and when a scope is given it is
checked exactly as the real backend does.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from iotscope.survey._net import NetError, SocketLease, Stream
from iotscope.survey._scope import IPAddress, Scope

__all__ = ["Chunks", "Handler", "ScriptedBackend"]


class Handler:
    """Base scripted server: override :meth:`start` and :meth:`received`."""

    closed = False
    hang = True
    cert: str | None = None

    def start(self) -> list[bytes]:
        return []

    def received(self, data: bytes) -> list[bytes]:
        return []


@dataclass
class Chunks(Handler):
    """Greeting chunks, then one list of reply chunks per write; EOF after the last reply."""

    greeting: Sequence[bytes] = ()
    replies: Sequence[Sequence[bytes]] = ()
    hang: bool = False
    cert: str | None = None
    _next: int = field(default=0, init=False)

    def start(self) -> list[bytes]:
        self.closed = not self.replies and not self.hang
        return list(self.greeting)

    def received(self, data: bytes) -> list[bytes]:
        if self._next >= len(self.replies):
            return []
        out = list(self.replies[self._next])
        self._next += 1
        self.closed = self._next >= len(self.replies) and not self.hang
        return out


class _ScriptedStream:
    def __init__(self, handler: Handler, log: list[bytes]) -> None:
        self._handler = handler
        self._queue: deque[bytes] = deque(handler.start())
        self._log = log
        self._wake = asyncio.Event()

    async def read(self, max_bytes: int) -> bytes:
        while not self._queue:
            if self._handler.closed or not self._handler.hang:
                return b""
            self._wake.clear()
            await self._wake.wait()
        chunk = self._queue.popleft()
        if len(chunk) > max_bytes:
            self._queue.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        return chunk

    async def write(self, data: bytes) -> None:
        self._log.append(data)
        self._queue.extend(self._handler.received(data))
        self._wake.set()

    async def close(self) -> None:
        self._log.append(b"<close>")

    def cert_subject(self) -> str | None:
        return self._handler.cert


Key = tuple[str, int]


class ScriptedBackend:
    """A :class:`~._net.Backend` whose services are scripted handlers."""

    def __init__(
        self,
        services: dict[Key, Callable[[], Handler]] | None = None,
        udp: dict[Key, bytes] | None = None,
        scope: Scope | None = None,
    ) -> None:
        self.services = dict(services or {})
        self.udp = dict(udp or {})
        self.scope = scope
        self.contacts: list[tuple[str, int, str]] = []
        self.writes: dict[Key, list[bytes]] = {}

    def _check(self, ip: IPAddress, port: int, kind: str) -> Key:
        if self.scope is not None:
            self.scope.check(ip)
        self.contacts.append((str(ip), port, kind))
        return (str(ipaddress.ip_address(ip)), port)

    async def is_open(self, ip: IPAddress, port: int) -> bool:
        return self._check(ip, port, "syn") in self.services

    @asynccontextmanager
    async def connect(
        self, ip: IPAddress, port: int, *, tls: bool = False
    ) -> AsyncIterator[Stream]:
        key = self._check(ip, port, "tls" if tls else "tcp")
        factory = self.services.get(key)
        if factory is None:
            raise NetError("refused")
        stream = _ScriptedStream(factory(), self.writes.setdefault(key, []))
        try:
            yield stream
        finally:
            await stream.close()

    async def datagram(self, ip: IPAddress, port: int, payload: bytes, max_bytes: int) -> bytes:
        key = self._check(ip, port, "udp")
        self.writes.setdefault(key, []).append(payload)
        return self.udp.get(key, b"")[:max_bytes]

    @asynccontextmanager
    async def raw_socket(self, ip: IPAddress, port: int) -> AsyncIterator[SocketLease]:
        self._check(ip, port, "raw")
        raise NetError("refused", "the scripted backend has no raw sockets")
        yield  # pragma: no cover
