"""The UDP collector: NetFlow v5/v9 and IPFIX datagrams in, batches of flows out.

A reader on the event loop drains the socket in bursts and feeds each datagram to one
``FlowDecoder`` (exporter = the datagram's source address); every ``batch_flows`` decoded
flows or ``batch_seconds`` seconds the flows go to ``sink`` (the CLI writes them to Parquet
and JSON Lines). The collector stops on ``stop`` (the CLI sets it on SIGINT/SIGTERM), after
``max_packets`` datagrams or after ``duration`` seconds; it then flushes what is left and
returns the decoder's counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pyarrow as pa

from iotscope.errors import ConfigError
from iotscope.flows._decoder import DecodeCounts, FlowDecoder

__all__ = ["CollectorOptions", "collect", "parse_listen"]

Sink = Callable[[pa.Table], Awaitable[None]]
BURST = 512


@dataclass(frozen=True)
class CollectorOptions:
    """How the collector batches and when it stops by itself."""

    batch_flows: int = 50_000
    batch_seconds: float = 5.0
    max_packets: int | None = None
    duration: float | None = None
    receive_buffer: int = 32 << 20


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


class _Reader:
    """Drains the socket on each readiness event (up to ``BURST`` datagrams), feeding the
    decoder: one event-loop wake-up per burst, not one per datagram as a DatagramProtocol."""

    def __init__(
        self,
        sock: socket.socket,
        decoder: FlowDecoder,
        options: CollectorOptions,
        wake: asyncio.Event,
    ) -> None:
        self.sock = sock
        self.decoder = decoder
        self.options = options
        self.wake = wake
        self.done = False

    def ready(self) -> None:
        limit = self.options.max_packets
        for _ in range(BURST):
            if self.done:
                return
            try:
                data, addr = self.sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # an ICMP error queued on the socket: nothing to decode
                continue
            self.decoder.feed(data, str(addr[0]))
            if limit is not None and self.decoder.counts.packets >= limit:
                self.done = True
                self.wake.set()
            elif self.decoder.pending_records >= self.options.batch_flows:
                self.wake.set()


def _socket(host: str, port: int, buffer: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    force = getattr(socket, "SO_RCVBUFFORCE", None)  # Linux, root: beyond net.core.rmem_max
    for option in (force, socket.SO_RCVBUF):
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


async def collect(
    listen: str,
    *,
    site: str,
    sink: Sink,
    options: CollectorOptions | None = None,
    stop: asyncio.Event | None = None,
    ready: Callable[[tuple[str, int]], None] | None = None,
    decoder: FlowDecoder | None = None,
) -> DecodeCounts:
    """Receive export datagrams on ``listen`` until stopped; hand flows to ``sink`` in batches.

    ``ready`` is called with the bound address (useful with port 0) once the socket listens.
    ``decoder`` (default: a fresh one for ``site``) lets the caller keep exporter state, such
    as the sequence tracker restored from the site's state file.
    """
    opts = options or CollectorOptions()
    host, port = parse_listen(listen)
    stop = stop or asyncio.Event()
    wake = asyncio.Event()
    decoder = decoder or FlowDecoder(site)
    loop = asyncio.get_running_loop()
    sock = _socket(host, port, opts.receive_buffer)
    sock.setblocking(False)
    protocol = _Reader(sock, decoder, opts, wake)
    loop.add_reader(sock.fileno(), protocol.ready)
    if ready is not None:
        ready(sock.getsockname()[:2])
    deadline = None if opts.duration is None else time.monotonic() + opts.duration
    try:
        while not (stop.is_set() or protocol.done or _past(deadline)):
            await _wait(wake, stop, _timeout(opts.batch_seconds, deadline))
            wake.clear()
            if decoder.pending_records:  # decoded off the loop: the socket keeps being read
                await sink(await asyncio.to_thread(decoder.detach()))
    finally:
        loop.remove_reader(sock.fileno())
        sock.close()
        await sink(decoder.finish())
    return decoder.counts


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _timeout(batch_seconds: float, deadline: float | None) -> float:
    if deadline is None:
        return batch_seconds
    return max(0.0, min(batch_seconds, deadline - time.monotonic()))


async def _wait(wake: asyncio.Event, stop: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
