"""The network edge of the survey: the one place where sockets are opened.

Every probe and login dialogue talks through a :class:`Backend` (httpcore's injected
``network_backend`` habit): :class:`RealBackend` opens real sockets, the scripted backend of
``_scripted.py`` plays byte chunks in tests. In :class:`RealBackend` every socket, whatever it
is for (discovery connect, probe stream, TLS, UDP datagram, the socket handed to asyncssh),
comes from :func:`open_checked_socket`, which asks the :class:`~._scope.Scope` first and
raises :class:`~iotscope.errors.ScopeError` before any system call is made.

OS-level failures are translated here into :class:`NetError` (``kind``: refused, timeout,
reset, tls, unreachable) so the stages above handle one flat error.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from iotscope.survey._limits import Limits
from iotscope.survey._scope import IPAddress, Scope

__all__ = [
    "Backend",
    "NetError",
    "RealBackend",
    "Stream",
    "Timeouts",
    "open_checked_socket",
    "peer_subject",
]


class NetError(Exception):
    """A connection-level failure. ``kind`` is refused, timeout, reset, tls or unreachable."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


@dataclass(frozen=True)
class Timeouts:
    """Per-step bounds: a hostile host costs at most these, never the run."""

    connect: float = 1.5
    read: float = 2.5
    probe: float = 8.0  # whole probe of one service
    login: float = 30.0  # whole login check of one service (all attempts)


class Stream(Protocol):
    """A byte stream to one service."""

    async def read(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` (b"" at end of stream); raises ``NetError``."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...

    def cert_subject(self) -> str | None:
        """The TLS peer certificate's subject (RFC 4514 string), None without TLS."""
        ...


class Backend(Protocol):
    """What the probes need from the network."""

    def connect(
        self, ip: IPAddress, port: int, *, tls: bool = False
    ) -> AbstractAsyncContextManager[Stream]: ...

    async def is_open(self, ip: IPAddress, port: int) -> bool:
        """A TCP connect that is closed at once: True when the port accepted."""
        ...

    async def datagram(self, ip: IPAddress, port: int, payload: bytes, max_bytes: int) -> bytes:
        """Send one UDP datagram, return the first reply (b"" when none came in time)."""
        ...

    def raw_socket(self, ip: IPAddress, port: int) -> AbstractAsyncContextManager[socket.socket]:
        """A connected, scope-checked TCP socket (for asyncssh's ``sock=``)."""
        ...


def open_checked_socket(scope: Scope, address: object, kind: int) -> socket.socket:
    """THE socket factory: ``ScopeError`` for an out-of-scope target, before any syscall."""
    ip = scope.check(address)
    family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
    sock = socket.socket(family, kind)
    sock.setblocking(False)
    return sock


def _map_os_error(exc: BaseException) -> NetError:
    if isinstance(exc, TimeoutError):
        return NetError("timeout")
    if isinstance(exc, ConnectionRefusedError):
        return NetError("refused")
    if isinstance(exc, ssl.SSLError):
        return NetError("tls", str(exc)[:200])
    if isinstance(exc, ConnectionError):
        return NetError("reset", type(exc).__name__)
    return NetError("unreachable", str(exc)[:200])


def peer_subject(der: bytes | None) -> str | None:
    """The RFC 4514 subject of a DER certificate (None when absent or unparseable)."""
    if not der:
        return None
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der).subject.rfc4514_string()
    except ValueError:
        return None


class _AsyncioStream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int) -> bytes:
        try:
            return await self._reader.read(max_bytes)
        except (OSError, ssl.SSLError) as exc:
            raise _map_os_error(exc) from exc

    async def write(self, data: bytes) -> None:
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, ssl.SSLError) as exc:
            raise _map_os_error(exc) from exc

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
            async with asyncio.timeout(0.5):
                await self._writer.wait_closed()

    def cert_subject(self) -> str | None:
        obj = self._writer.get_extra_info("ssl_object")
        return None if obj is None else peer_subject(obj.getpeercert(binary_form=True))


def _client_tls() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # we record certificates, we do not trust them
    with contextlib.suppress(ssl.SSLError):
        ctx.set_ciphers("ALL:@SECLEVEL=0")  # old devices: take what they offer
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    return ctx


class RealBackend:
    """Real sockets, every one scope-checked and held under the rate/concurrency limits."""

    def __init__(self, scope: Scope, limits: Limits, timeouts: Timeouts | None = None) -> None:
        self.scope = scope
        self.limits = limits
        self.timeouts = timeouts or Timeouts()
        self._tls = _client_tls()
        self.sockets_opened = 0

    async def _connected(self, ip: IPAddress, port: int) -> socket.socket:
        sock = open_checked_socket(self.scope, ip, socket.SOCK_STREAM)
        self.sockets_opened += 1
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeouts.connect):
                await loop.sock_connect(sock, (str(ip), port))
        except (OSError, TimeoutError) as exc:
            sock.close()
            raise _map_os_error(exc) from exc
        except BaseException:
            sock.close()
            raise
        return sock

    async def is_open(self, ip: IPAddress, port: int) -> bool:
        self.scope.check(ip)
        async with self.limits.slot(ip):
            try:
                sock = await self._connected(ip, port)
            except NetError:
                return False
            sock.close()
            return True

    @asynccontextmanager
    async def raw_socket(self, ip: IPAddress, port: int) -> AsyncIterator[socket.socket]:
        self.scope.check(ip)
        async with self.limits.slot(ip):
            sock = await self._connected(ip, port)
            try:
                yield sock
            finally:
                sock.close()

    @asynccontextmanager
    async def connect(
        self, ip: IPAddress, port: int, *, tls: bool = False
    ) -> AsyncIterator[Stream]:
        self.scope.check(ip)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self.limits.slot(ip))
            sock = await self._connected(ip, port)
            try:
                async with asyncio.timeout(self.timeouts.connect + self.timeouts.read):
                    reader, writer = await asyncio.open_connection(
                        sock=sock,
                        ssl=self._tls if tls else None,
                        server_hostname="" if tls else None,
                        limit=1 << 16,
                    )
            except (OSError, ssl.SSLError, TimeoutError) as exc:
                sock.close()
                raise _map_os_error(exc) from exc
            except BaseException:
                sock.close()
                raise
            stream = _AsyncioStream(reader, writer)
            try:
                yield stream
            finally:
                await stream.close()

    async def datagram(self, ip: IPAddress, port: int, payload: bytes, max_bytes: int) -> bytes:
        self.scope.check(ip)
        async with self.limits.slot(ip):
            sock = open_checked_socket(self.scope, ip, socket.SOCK_DGRAM)
            self.sockets_opened += 1
            loop = asyncio.get_running_loop()
            try:
                await loop.sock_connect(sock, (str(ip), port))
                await loop.sock_sendall(sock, payload)
                async with asyncio.timeout(self.timeouts.read):
                    return await loop.sock_recv(sock, max_bytes)
            except (OSError, TimeoutError):
                return b""
            finally:
                sock.close()
