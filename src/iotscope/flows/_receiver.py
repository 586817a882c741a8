"""The collector's receiving process: it only drains the UDP socket into a shared ring.

Why a process of its own. An exporter flushing its cache sends faster than flows are decoded and
written: in the benchmark (``where_time_goes`` in benchmarks/results/collector.json) reading a
datagram of 24 flows takes a few µs, decoding and writing it about a hundred. What the socket
buffer cannot hold is lost, so reading must never wait for decoding. A reading *thread* shares
the GIL with decoding: it reads several times slower than alone and slows decoding down as
well. This process does nothing but ``recvfrom_into`` straight into shared memory; the collector
(:mod:`iotscope.flows._collector`) decodes from the ring at its own pace, on the other core. The
file imports the standard library only, because it is also the process's script (``python -I
_receiver.py``): the receiver starts in milliseconds and holds a few MiB besides the ring.

The ring: an anonymous file (memfd) of ``size`` bytes mapped by both processes, holding records
``[payload length u32][address length u16][2 pad][payload][exporter address, ASCII]``, each
padded to 8 bytes; the length ``WRAP`` means "go on at offset 0". Positions are byte counts since
the start (offset = position % size). The receiver writes a datagram only where ``MAX_RECORD``
bytes are free; when the ring is full it still reads the datagram (into a scratch buffer) and
counts it in ``dropped``. So back-pressure is counted, never silent, and kept apart from what
the kernel drops when the socket buffer overflows (``socket_drops``) and from what never reached
us (the exporters' sequence numbers, :mod:`iotscope.flows._sequence`).

Two pipes carry every position, so the processes share no variable: on ``publish`` the receiver
writes ``(write position, datagrams received, datagrams dropped)`` after every ``PUBLISH``
datagrams and whenever the socket runs dry; on ``release`` the collector writes its read position
once it has copied records out. A pipe write and the read that sees it order memory on any CPU,
so a record is complete before the collector sees its position, and copied out before the
receiver reuses its bytes. The receiver stops when ``release`` reaches end of file (the
collector closed it, or died): it publishes a last time and exits.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import signal
import socket
import struct
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["MIN_RING", "ReceiveStats", "Receiver", "Ring", "socket_drops"]

HEADER = struct.Struct("=IH2x")  # payload length, exporter address length
WRAP = 0xFFFF_FFFF
MAX_PAYLOAD = 65_535
MAX_ADDRESS = 64  # the longest text of an IPv6 address with a scope id, rounded up
PUBLISH = 64  # datagrams between two publications while the socket stays busy
PUBLISHED = struct.Struct("=QQQ")  # write position, datagrams received, datagrams dropped
RELEASED = struct.Struct("=Q")  # read position


def _align(n: int) -> int:
    return (n + 7) & ~7


MAX_RECORD = _align(HEADER.size + MAX_PAYLOAD + MAX_ADDRESS)
MIN_RING = 4 * MAX_RECORD


@dataclass
class ReceiveStats:
    """The receive path's figures: the socket buffer asked for and granted (Linux reports twice
    the size set), the ring, and where datagrams went before decoding."""

    receive_buffer_requested: int = 0
    receive_buffer_effective: int = 0
    ring_bytes: int = 0
    datagrams: int = 0  # read from the socket by the receiver process
    ring_drops: int = 0  # read, then dropped because the ring was full (our back-pressure)
    socket_drops: int = 0  # dropped by the kernel because the socket buffer was full
    peak_ring_bytes: int = 0  # the most bytes seen waiting in the ring
    # received and kept but not decoded: in the ring while running; at the end, the ones left
    # when --max-packets stopped the decoding
    undecoded: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --- the receiver process ------------------------------------------------------------------


class Ring:
    """The ring's layout, in one place. Each process keeps its own ``Ring`` over the shared
    bytes: the receiver moves ``head`` (writing) and learns ``tail`` from the release pipe; the
    collector moves ``tail`` (reading) and learns ``head`` from the publish pipe."""

    def __init__(self, ring: memoryview) -> None:
        self.ring = ring
        self.size = len(ring)
        self.head = 0  # write position: records before it are complete
        self.tail = 0  # read position: bytes before it may be overwritten

    def slot(self) -> int | None:
        """Offset of the next record (past a WRAP marker near the end); None when full."""
        offset = self.head % self.size
        skip = self.size - offset if self.size - offset < MAX_RECORD else 0
        if self.size - (self.head - self.tail) < skip + MAX_RECORD:
            return None
        if skip:
            struct.pack_into("=I", self.ring, offset, WRAP)
            self.head += skip
            return 0
        return offset

    def payload(self, offset: int) -> memoryview:
        """Where the payload of the record at ``offset`` goes (for ``recvfrom_into``)."""
        start = offset + HEADER.size
        return self.ring[start : start + MAX_PAYLOAD]

    def commit(self, offset: int, length: int, address: bytes) -> None:
        """Complete the record at ``offset`` once its payload of ``length`` bytes is in."""
        end = offset + HEADER.size + length
        self.ring[end : end + len(address)] = address
        HEADER.pack_into(self.ring, offset, length, len(address))
        self.head += _align(HEADER.size + length + len(address))

    def read(self, limit: int) -> list[tuple[bytes, str]]:
        """Up to ``limit`` complete records from ``tail`` on, copied out, as ``(payload,
        exporter)``; ``tail`` moves past them."""
        out: list[tuple[bytes, str]] = []
        while len(out) < limit and self.tail < self.head:
            offset = self.tail % self.size
            length, address = HEADER.unpack_from(self.ring, offset)
            if length == WRAP:
                self.tail += self.size - offset
                continue
            end = offset + HEADER.size + length
            out.append((bytes(self.ring[end - length : end]),
                        bytes(self.ring[end : end + address]).decode()))  # fmt: skip
            self.tail += _align(HEADER.size + length + address)
        return out


class _Receiving:
    """The receive loop and its counters; the pipes are non-blocking."""

    def __init__(self, sock: socket.socket, ring: memoryview, publish: int, release: int) -> None:
        self.sock, self.writer = sock, Ring(ring)
        self.publish_fd, self.release_fd = publish, release
        self.received = self.dropped = 0
        self.closed = False  # the collector closed ``release``: stop
        self.scratch = memoryview(bytearray(MAX_PAYLOAD))

    def run(self) -> None:
        """Receive until the collector closes ``release``. This runs once a datagram, so it
        keeps to local names and encodes each exporter's address once."""
        writer, recv, scratch = self.writer, self.sock.recvfrom_into, self.scratch
        names: dict[str, bytes] = {}
        busy = 0
        while not self.closed:
            offset = writer.slot()
            if offset is None:
                self.refresh()
                offset = writer.slot()
            try:
                length, address = recv(scratch if offset is None else writer.payload(offset))
            except BlockingIOError:
                self.idle()
                continue
            except OSError:  # an ICMP error queued on the socket: no datagram
                continue
            self.received += 1
            if offset is None:
                self.dropped += 1
            else:
                name = names.get(address[0])
                if name is None:
                    if len(names) > 4096:  # spoofed sources: keep the cache small
                        names.clear()
                    name = names[address[0]] = str(address[0]).encode()[:MAX_ADDRESS]
                writer.commit(offset, length, name)
            busy += 1
            if busy == PUBLISH:
                busy = 0
                self.announce()
                self.refresh()

    def idle(self) -> None:
        """The socket is dry: publish, then sleep until a datagram or the collector's word."""
        self.announce()
        readable, _, _ = select.select([self.sock.fileno(), self.release_fd], [], [])
        if self.release_fd in readable:
            self.refresh()

    def announce(self) -> None:
        """Publish the write position and counters (skipped if the pipe is full: the next
        publication carries newer values)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self.publish_fd, PUBLISHED.pack(self.writer.head, self.received, self.dropped))

    def refresh(self) -> None:
        """Take the collector's latest read position; end of file means stop."""
        try:
            data = os.read(self.release_fd, RELEASED.size * 1024)
        except BlockingIOError:
            return
        if not data:
            self.closed = True
            return
        (self.writer.tail,) = RELEASED.unpack_from(data, len(data) - RELEASED.size)


def main(argv: list[str]) -> int:
    """``_receiver.py SOCKET_FD RING_FD RING_BYTES PUBLISH_FD RELEASE_FD`` (inherited fds)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the collector decides when we stop
    sock_fd, ring_fd, size, publish, release = (int(a) for a in argv)
    sock = socket.socket(fileno=sock_fd)
    sock.setblocking(False)
    ring = mmap.mmap(ring_fd, size)
    os.close(ring_fd)
    os.set_blocking(publish, False)
    os.set_blocking(release, False)
    receiving = _Receiving(sock, memoryview(ring), publish, release)
    try:
        receiving.run()
    finally:
        os.set_blocking(publish, True)
        with contextlib.suppress(BrokenPipeError):  # the collector is gone
            os.write(publish, PUBLISHED.pack(receiving.writer.head, receiving.received,
                                             receiving.dropped))  # fmt: skip
        os.close(publish)
    return 0


# --- the collector's side ------------------------------------------------------------------


class Receiver:
    """The collector's handle on the receiver process and the ring it fills.

    ``poll`` reads what the receiver published, ``take`` copies datagrams out and releases their
    bytes, ``stop`` asks the receiver to end, ``close`` reaps it. ``fileno`` is readable whenever
    something was published (for the event loop's ``add_reader``).
    """

    def __init__(self, sock: socket.socket, size: int) -> None:
        size -= size % 8  # records are 8-byte aligned, so a WRAP marker always fits
        if size < MIN_RING:
            raise ValueError(f"the ring needs at least {MIN_RING} bytes")
        self.size = size
        ring_fd = _anonymous_file(size)
        self.mapping = mmap.mmap(ring_fd, size)
        self.ring = Ring(memoryview(self.mapping))
        publish_r, publish_w = os.pipe()
        release_r, release_w = os.pipe()
        fds = (sock.fileno(), ring_fd, publish_w, release_r)
        args = [str(fds[0]), str(ring_fd), str(size), str(publish_w), str(release_r)]
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", str(Path(__file__)), *args],
                pass_fds=fds, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        except OSError:
            for fd in (publish_r, release_w):
                os.close(fd)
            self.ring.ring.release()
            self.mapping.close()
            raise
        finally:
            for fd in (ring_fd, publish_w, release_r):
                os.close(fd)
        self.publish_fd, self.release_fd = publish_r, release_w
        os.set_blocking(publish_r, False)
        os.set_blocking(release_w, False)
        self.received = self.dropped = 0
        self.finished = False  # the receiver published its last word (it has stopped)

    def fileno(self) -> int:
        return self.publish_fd

    @property
    def waiting_bytes(self) -> int:
        """Bytes of the ring published and not yet taken."""
        return self.ring.head - self.ring.tail

    def poll(self) -> None:
        """Read the receiver's publications (only the newest matters)."""
        while not self.finished:
            try:
                data = os.read(self.publish_fd, PUBLISHED.size * 1024)
            except BlockingIOError:
                return
            if not data:
                self.finished = True
                return
            last = PUBLISHED.unpack_from(data, len(data) - PUBLISHED.size)
            self.ring.head, self.received, self.dropped = last

    def take(self, limit: int) -> list[tuple[bytes, str]]:
        """Up to ``limit`` published datagrams as ``(payload, exporter)``, copied out of the
        ring, whose bytes are then released to the receiver."""
        out = self.ring.read(limit)
        if out and self.release_fd >= 0:  # after ``stop`` the receiver writes no more
            self._release()
        return out

    def _release(self) -> None:
        # BlockingIOError: the receiver is busy and reads the newest position later
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self.release_fd, RELEASED.pack(self.ring.tail))

    def stop(self) -> None:
        """Ask the receiver to stop (end of file on its pipe); ``poll`` sees it finish."""
        if self.release_fd >= 0:
            os.close(self.release_fd)
            self.release_fd = -1

    def close(self, timeout: float = 10.0) -> int:
        """Stop and reap the receiver; return its exit status."""
        self.stop()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.poll()
        os.close(self.publish_fd)
        self.ring.ring.release()
        self.mapping.close()
        return code

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.process.returncode is None:
            self.close()


def _anonymous_file(size: int) -> int:
    """A file descriptor of ``size`` zero bytes in memory (a memfd: Linux only; elsewhere
    ``os.memfd_create`` is missing and the collector does not start)."""
    fd = os.memfd_create("iotscope-ring")  # close-on-exec: the receiver gets it by pass_fds
    os.ftruncate(fd, size)
    return fd


def socket_drops(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped on ``sock`` because its buffer was full (the ``drops``
    column of /proc/net/udp and udp6, found by the socket's inode); None where unknown."""
    inode = str(os.fstat(sock.fileno()).st_ino)
    for table in ("udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            return None
        for line in lines:
            fields = line.split()
            if len(fields) >= 13 and fields[9] == inode:
                return int(fields[12])
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
