"""The network edge of the survey: the one place where sockets are opened.

Every probe and login dialogue talks through a :class:`Backend` (httpcore's injected
``network_backend`` habit): :class:`RealBackend` opens real sockets, the scripted backend of
``_scripted.py`` plays byte chunks in tests. In :class:`RealBackend` every socket, whatever it
is for (discovery connect, probe stream, TLS, UDP datagram, the socket handed to asyncssh),
comes from :func:`open_checked_socket`, which asks the :class:`~._scope.Scope` first and
raises :class:`~iotscope.errors.ScopeError` before any system call is made.

Socket ownership (the survey once died of breaking it): a connected socket is held by a
:class:`SocketLease`. Until a transport is made from it the lease closes the socket; once
``loop.create_connection(sock=...)`` made a transport, that transport owns the socket and
the lease closes the *transport* (``abort()``, which marks it closing at once), never the
socket behind it. Closing a socket behind a live transport frees its descriptor number while
asyncio still has the transport registered under it; the OS hands the number to the next
socket and ``loop.sock_connect`` refuses it (``RuntimeError: File descriptor N is used by
transport``). TLS is started on the leased plain transport (``StreamWriter.start_tls``), so
the lease always holds the bottom transport, whatever layer failed. Addresses reach the OS
as IP literals only: nothing here resolves a name.

OS-level failures are translated here into :class:`NetError` (``kind``: refused, timeout,
reset, tls, unreachable) so the stages above handle one flat error.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from iotscope.survey._limits import Limits
from iotscope.survey._scope import IPAddress, Scope

__all__ = [
    "Backend",
    "NetError",
    "RealBackend",
    "SocketLease",
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

    def raw_socket(self, ip: IPAddress, port: int) -> AbstractAsyncContextManager[SocketLease]:
        """A connected, scope-checked TCP socket, held by a lease (for asyncssh)."""
        ...


class SocketLease:
    """A connected socket and, once one is made from it, the transport that owns it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._handed = False
        self.transport: asyncio.Transport | None = None

    async def create_connection(
        self, factory: Callable[[], asyncio.BaseProtocol]
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        """``loop.create_connection(factory, sock=...)``: from now on the transport owns it."""
        if self._handed:
            raise RuntimeError("this socket was already handed to a transport")
        self._handed = True
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(factory, sock=self._sock)
        self.transport = transport
        return transport, protocol

    def close(self) -> None:
        """Abort the owning transport, or close the socket when no transport owns it.

        A transport whose creation failed was closed by asyncio itself (it is closing, so
        its descriptor may be freed); a live transport is aborted, never bypassed.
        """
        if self.transport is not None:
            self.transport.abort()
        else:
            self._sock.close()


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
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, lease: SocketLease
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._lease = lease

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
        """Close politely (TLS close_notify) for at most 0.5 s, then abort the transport."""
        try:
            self._writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                async with asyncio.timeout(0.5):
                    await self._writer.wait_closed()
        finally:
            self._lease.close()

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
    async def raw_socket(self, ip: IPAddress, port: int) -> AsyncIterator[SocketLease]:
        self.scope.check(ip)
        async with self.limits.slot(ip):
            lease = SocketLease(await self._connected(ip, port))
            try:
                yield lease
            finally:
                lease.close()

    async def _open_stream(self, lease: SocketLease, tls: bool) -> _AsyncioStream:
        reader = asyncio.StreamReader(limit=1 << 16)
        protocol = asyncio.StreamReaderProtocol(reader)
        transport, _ = await lease.create_connection(lambda: protocol)
        writer = asyncio.StreamWriter(transport, protocol, reader, asyncio.get_running_loop())
        if tls:
            await writer.start_tls(self._tls)
        return _AsyncioStream(reader, writer, lease)

    @asynccontextmanager
    async def connect(
        self, ip: IPAddress, port: int, *, tls: bool = False
    ) -> AsyncIterator[Stream]:
        self.scope.check(ip)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self.limits.slot(ip))
            lease = SocketLease(await self._connected(ip, port))
            try:
                async with asyncio.timeout(self.timeouts.connect + self.timeouts.read):
                    stream = await self._open_stream(lease, tls)
            except (OSError, ssl.SSLError, TimeoutError) as exc:
                lease.close()
                raise _map_os_error(exc) from exc
            except BaseException:
                lease.close()
                raise
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
