"""The UDP collector: NetFlow v5/v9 and IPFIX datagrams in, batches of flows out.

Two processes, so that reading the socket never waits for decoding (a burst must land in memory,
not overflow the socket buffer)::

    exporters --UDP--> receiver process         ring           collector process (event loop)
                       recvfrom_into only  ==> (shared   ==>   pump: ring -> FlowDecoder.feed
                       (_receiver.py)           memory)        batches: detach -> a worker
                                                               thread decodes -> sink

- The receiver process (:mod:`iotscope.flows._receiver`) drains the socket into a ring of
  ``ring_bytes``; when the ring is full it reads and counts the datagrams it drops.
- The pump (a task on the event loop) copies datagrams out of the ring and feeds one
  ``FlowDecoder`` (exporter = the datagram's source address) in arrival order, so the exporters'
  sequence accounting is unchanged. At ``batch_flows`` records it waits until the batch loop
  has taken them, so a slow sink fills the ring, never this process's memory.
- The batch loop (``collect`` itself): every ``batch_flows`` decoded flows or ``batch_seconds``
  seconds, the decoder's records are decoded into a table in a worker thread (``detach``) and
  handed to ``sink`` (the CLI writes them to Parquet and JSON Lines).

Memory is bounded by the ring, the pending records, and the batch being written. The socket
asks for ``receive_buffer`` with SO_RCVBUFFORCE (root), else SO_RCVBUF (capped by
net.core.rmem_max). The collector stops on ``stop`` (the CLI sets it on SIGINT/SIGTERM) or after
``duration`` seconds, once the datagrams in the ring are decoded (what is still in the socket
buffer then goes with the socket), or after ``max_packets`` datagrams. It returns the decoder's
counts; ``stats`` (:class:`ReceiveStats`) gets the receive path's: the socket buffer granted,
datagrams dropped by the full ring and by the kernel. If the receiver process dies, what it had
received is still handed over, then ``collect`` raises ``IotscopeError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pyarrow as pa

from iotscope.errors import ConfigError, IotscopeError
from iotscope.flows._decoder import DecodeCounts, FlowDecoder
from iotscope.flows._receiver import MIN_RING, Receiver, ReceiveStats, socket_drops

__all__ = ["CollectorOptions", "ReceiveStats", "collect", "parse_listen"]

Sink = Callable[[pa.Table], Awaitable[None]]
TAKE = 256  # datagrams the pump feeds between two yields to the event loop
# Linux's SO_RCVBUFFORCE (not in Python's socket module): a root or CAP_NET_ADMIN process may
# set a socket buffer beyond net.core.rmem_max.
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform == "linux" else None)


@dataclass(frozen=True)
class CollectorOptions:
    """How the collector batches, how much it may buffer, and when it stops by itself."""

    batch_flows: int = 50_000
    batch_seconds: float = 5.0
    max_packets: int | None = None
    duration: float | None = None
    receive_buffer: int = 32 << 20
    ring_bytes: int = 64 << 20

    def __post_init__(self) -> None:
        if self.ring_bytes < MIN_RING:
            raise ConfigError("the ring is too small", bytes=self.ring_bytes, minimum=MIN_RING)


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[V6]:PORT`` -> (host, port); raises ConfigError when invalid."""
    host, sep, port = listen.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError as exc:
        raise ConfigError("--listen must be ADDRESS:PORT", listen=listen) from exc
    if not sep or not 0 <= number <= 65535:
        raise ConfigError("--listen must be ADDRESS:PORT", listen=listen)
    return host, number


def _socket(host: str, port: int, buffer: int) -> socket.socket:
    """A bound UDP socket with the largest receive buffer we may set: SO_RCVBUFFORCE (root),
    else SO_RCVBUF (capped by net.core.rmem_max)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    for option in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, option, buffer)
                break
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError("cannot listen", host=host, port=port, reason=str(exc)) from exc
    return sock


class _Pump:
    """Feeds the decoder from the ring until the receiver has finished and the ring is empty,
    or ``max_packets`` datagrams were fed (``limited``). At ``batch_flows`` pending records it
    waits until the batch loop has taken them (``room``)."""

    def __init__(self, receiver: Receiver, decoder: FlowDecoder, opts: CollectorOptions) -> None:
        self.receiver, self.decoder, self.opts = receiver, decoder, opts
        self.wake = asyncio.Event()  # a batch is due, or the pump has ended
        self.room = asyncio.Event()  # the batch loop took the decoder's records
        self.taken: deque[tuple[bytes, str]] = deque()  # out of the ring, not fed yet
        self.limited = False
        self.peak_ring = 0

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            self.wake.set()

    async def _run(self) -> None:
        while not self.limited:
            if self.decoder.pending_records >= self.opts.batch_flows:
                self.room.clear()
                self.wake.set()
                await self.room.wait()
            elif self.taken:
                self._feed()
                await asyncio.sleep(0)
            else:
                self.receiver.poll()
                self.peak_ring = max(self.peak_ring, self.receiver.waiting_bytes)
                self.taken.extend(self.receiver.take(TAKE))
                if self.taken:
                    continue
                if self.receiver.finished:
                    return
                await _readable(self.receiver.fileno())

    def _feed(self) -> None:
        limit, batch = self.opts.max_packets, self.opts.batch_flows
        while self.taken and self.decoder.pending_records < batch:
            self.decoder.feed(*self.taken.popleft())
            if limit is not None and self.decoder.counts.packets >= limit:
                self.limited = True
                return


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _readable(fd: int) -> None:
    """Wait until ``fd`` is readable."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(fd, _settle, ready)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def collect(
    listen: str,
    *,
    site: str,
    sink: Sink,
    options: CollectorOptions | None = None,
    stop: asyncio.Event | None = None,
    ready: Callable[[tuple[str, int]], None] | None = None,
    decoder: FlowDecoder | None = None,
    stats: ReceiveStats | None = None,
) -> DecodeCounts:
    """Receive export datagrams on ``listen`` until stopped; hand flows to ``sink`` in batches.

    ``ready`` is called with the bound address (useful with port 0) once the socket listens.
    ``decoder`` (default: a fresh one for ``site``) lets the caller keep exporter state, such
    as the sequence tracker restored from the site's state file. ``stats``, when given, is kept
    up to date with the receive path's figures (at each batch and at the end).
    """
    opts = options or CollectorOptions()
    host, port = parse_listen(listen)
    stop = stop or asyncio.Event()
    decoder = decoder or FlowDecoder(site)
    stats = stats if stats is not None else ReceiveStats()
    sock = _socket(host, port, opts.receive_buffer)
    try:
        receiver = Receiver(sock, opts.ring_bytes)
    except (OSError, AttributeError) as exc:  # AttributeError: no os.memfd_create (not Linux)
        sock.close()
        raise IotscopeError("cannot start the receiver process", reason=str(exc)) from exc
    stats.receive_buffer_requested = opts.receive_buffer
    stats.receive_buffer_effective = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    stats.ring_bytes = receiver.size
    if ready is not None:
        ready(sock.getsockname()[:2])
    pump = _Pump(receiver, decoder, opts)
    task = asyncio.create_task(pump.run())
    try:
        await _batches(pump, task, sink, stop, opts, stats, sock)
        await task  # raises what failed in the pump
    finally:
        task.cancel()
        code = receiver.close()
        _update(stats, receiver, pump, sock)
        sock.close()
        await sink(decoder.finish())
    if code != 0:
        raise IotscopeError("the receiver process failed", exit_status=code)
    return decoder.counts


async def _batches(
    pump: _Pump,
    task: asyncio.Task[None],
    sink: Sink,
    stop: asyncio.Event,
    opts: CollectorOptions,
    stats: ReceiveStats,
    sock: socket.socket,
) -> None:
    """Hand the decoder's records to ``sink`` in batches until the pump ends; on ``stop`` or
    the deadline, tell the receiver to stop (the pump then empties the ring and ends)."""
    deadline = None if opts.duration is None else time.monotonic() + opts.duration
    stopping = False
    while not task.done():
        if stopping:
            await _wait([pump.wake], opts.batch_seconds)
        else:
            await _wait([pump.wake, stop], _timeout(opts.batch_seconds, deadline))
        pump.wake.clear()
        if not stopping and (stop.is_set() or _past(deadline)):
            pump.receiver.stop()
            stopping = True
        if pump.decoder.pending_records:
            drain = pump.decoder.detach()
            pump.room.set()
            await sink(await asyncio.to_thread(drain))
        _update(stats, pump.receiver, pump, sock)


def _update(stats: ReceiveStats, receiver: Receiver, pump: _Pump, sock: socket.socket) -> None:
    stats.datagrams, stats.ring_drops = receiver.received, receiver.dropped
    stats.undecoded = max(0, receiver.received - receiver.dropped - pump.decoder.counts.packets)
    stats.peak_ring_bytes = max(stats.peak_ring_bytes, pump.peak_ring)
    drops = socket_drops(sock)
    if drops is not None:
        stats.socket_drops = drops


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _timeout(batch_seconds: float, deadline: float | None) -> float:
    if deadline is None:
        return batch_seconds
    return max(0.0, min(batch_seconds, deadline - time.monotonic()))


async def _wait(events: list[asyncio.Event], timeout: float) -> None:
    """Until one of ``events`` is set or ``timeout`` seconds have passed."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
