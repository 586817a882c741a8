"""The receiver process and its ring: the ring alone (Hypothesis), then the process over real
sockets on 127.0.0.1 and ::1."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.flows._collector import _socket
from iotscope.flows._receiver import MAX_RECORD, MIN_RING, Receiver, Ring, socket_drops


def _payloads(n: int, seed: int = 3) -> list[bytes]:
    """Datagrams of 1 to 9000 bytes, each numbered at its start."""
    sizes = [1 + (seed * 7919 * i) % 9000 for i in range(n)]
    return [i.to_bytes(4, "big") + bytes([i % 251]) * (size - 4) if size >= 4 else bytes(size)
            for i, size in enumerate(sizes)]  # fmt: skip


def _until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture
def bound() -> Iterator[tuple[socket.socket, int]]:
    sock = _socket("127.0.0.1", 0, 4 << 20)
    yield sock, sock.getsockname()[1]
    sock.close()


def _polled(receiver: Receiver, check: Callable[[Receiver], bool]) -> Callable[[], bool]:
    def polled() -> bool:
        receiver.poll()
        return check(receiver)

    return polled


def _take_all(receiver: Receiver, expect: int) -> list[tuple[bytes, str]]:
    out: list[tuple[bytes, str]] = []

    def more() -> bool:
        receiver.poll()
        out.extend(receiver.take(1000))
        return len(out) >= expect

    _until(more)
    return out


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 2_000), st.integers(60_000, 65_535)),  # a datagram's size
            st.sampled_from([0, 0, 0, 1, 2, 8]),  # records the reader takes before it arrives
        ),
        max_size=120,
    )
)
def test_ring_returns_every_record_it_accepted_in_order(steps: list[tuple[int, int]]) -> None:
    """The receiver's and the collector's views of one ring (no processes): whatever the sizes
    and however far the reader lags, every record the writer found room for comes out intact
    and in order, the rest was refused (counted as dropped by the receiver), and the writer
    never overwrote bytes the reader had not released."""
    writer = Ring(memoryview(bytearray(MIN_RING)))
    reader = Ring(writer.ring)
    accepted: list[tuple[bytes, str]] = []
    got: list[tuple[bytes, str]] = []
    for i, (size, reads) in enumerate(steps):
        reader.head = writer.head  # published
        got += reader.read(reads)
        writer.tail = reader.tail  # released
        offset = writer.slot()
        if offset is None:
            assert writer.size - (writer.head - writer.tail) < 2 * MAX_RECORD
            continue
        payload = bytes([i % 256]) * size
        writer.payload(offset)[:size] = payload
        exporter = f"2001:db8::{i:x}" if i % 2 else f"192.0.2.{i % 256}"
        writer.commit(offset, size, exporter.encode())
        accepted.append((payload, exporter))
        assert writer.head - writer.tail <= writer.size
    reader.head = writer.head
    got += reader.read(len(steps))
    assert got == accepted


@pytest.mark.network
def test_datagrams_come_out_whole_and_in_order_across_wraps(
    bound: tuple[socket.socket, int],
) -> None:
    """Rounds of up to ~half a ring of datagrams, taken out between rounds: the write position
    wraps many times, and every payload and exporter comes out as sent."""
    sock, port = bound
    payloads = _payloads(600)
    with Receiver(sock, MIN_RING) as receiver, socket.socket(type=socket.SOCK_DGRAM) as tx:
        got: list[tuple[bytes, str]] = []
        for start in range(0, len(payloads), 20):
            for p in payloads[start : start + 20]:
                tx.sendto(p, ("127.0.0.1", port))
            got += _take_all(receiver, 20)
        assert receiver.close() == 0
    assert [p for p, _ in got] == payloads
    assert {e for _, e in got} == {"127.0.0.1"}
    assert receiver.ring.head > 3 * MIN_RING  # wrapped at least three times
    assert receiver.received == 600 and receiver.dropped == 0


@pytest.mark.network
def test_ipv6_exporter_address() -> None:
    try:
        sock = _socket("::1", 0, 1 << 20)
    except Exception:  # pragma: no cover - a host without IPv6 loopback
        pytest.skip("no ::1")
    with sock, Receiver(sock, MIN_RING) as receiver:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as tx:
            tx.sendto(b"\x00\x0a hello", ("::1", sock.getsockname()[1]))
        assert _take_all(receiver, 1) == [(b"\x00\x0a hello", "::1")]


@pytest.mark.network
def test_a_full_ring_drops_and_counts_what_it_cannot_hold(
    bound: tuple[socket.socket, int],
) -> None:
    """Nothing is taken while 3x the ring is sent: the first datagrams wait in the ring, every
    other one was read and counted as dropped, none is lost without a count."""
    sock, port = bound
    payload_size = 8000
    n = 3 * MIN_RING // payload_size
    with Receiver(sock, MIN_RING) as receiver, socket.socket(type=socket.SOCK_DGRAM) as tx:
        for i in range(n):
            tx.sendto(i.to_bytes(4, "big") + bytes(payload_size - 4), ("127.0.0.1", port))
            if i % 32 == 31:
                time.sleep(0.002)  # let the receiver keep up: no kernel drops
        _until(_polled(receiver, lambda r: r.received >= n))
        held = receiver.received - receiver.dropped
        assert socket_drops(sock) == 0 and receiver.received == n
        assert 0 < held * (payload_size + 16) <= MIN_RING < receiver.dropped * payload_size
        got = _take_all(receiver, held)
        assert [int.from_bytes(p[:4], "big") for p, _ in got] == list(range(held))
        tx.sendto(b"after", ("127.0.0.1", port))  # room again: kept
        assert _take_all(receiver, 1) == [(b"after", "127.0.0.1")]
        assert receiver.close() == 0
    assert receiver.dropped == n - held and receiver.received == n + 1


@pytest.mark.network
def test_kernel_drops_are_read_from_proc() -> None:
    """A socket nobody reads, with the smallest buffer: what the kernel dropped is counted."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    sock.bind(("127.0.0.1", 0))
    with sock, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        assert socket_drops(sock) == 0
        for _ in range(200):
            tx.sendto(bytes(1200), sock.getsockname())
        sock.setblocking(False)
        queued = 0
        while True:
            try:
                sock.recv(2000)
            except BlockingIOError:
                break
            queued += 1
        assert queued < 200 and socket_drops(sock) == 200 - queued


@pytest.mark.network
def test_stop_ends_the_receiver_and_publishes_its_last_counts(
    bound: tuple[socket.socket, int],
) -> None:
    sock, port = bound
    receiver = Receiver(sock, MIN_RING)
    with socket.socket(type=socket.SOCK_DGRAM) as tx:
        for p in _payloads(5):
            tx.sendto(p, ("127.0.0.1", port))
    _until(_polled(receiver, lambda r: r.received == 5))
    receiver.stop()
    _until(_polled(receiver, lambda r: r.finished))
    assert len(receiver.take(100)) == 5  # still readable after the receiver has gone
    assert receiver.close() == 0 and receiver.process.returncode == 0


def test_ring_size_is_checked(bound: tuple[socket.socket, int]) -> None:
    with pytest.raises(ValueError):
        Receiver(bound[0], MIN_RING - 8)
    assert MIN_RING >= 4 * MAX_RECORD
