"""pcapng: interfaces, link types, timestamp resolutions, sections, block errors."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ParseError
from iotscope.pcap import LINKTYPE_ETHERNET, LINKTYPE_RAW, iter_frames, read_frames
from tests.pcap import pcapng_builder as ng
from tests.pcap.captures import PACKETS, T0


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_two_interfaces_linktypes_and_resolutions(order: str) -> None:
    raw_ip = PACKETS[0][14:]
    blocks = [
        ng.shb(order),
        ng.idb(order, LINKTYPE_ETHERNET),  # default 10^-6
        ng.block(order, 0x0BAD, b"unknown block, skipped"),
        ng.idb(order, LINKTYPE_RAW, tsresol=9),  # nanoseconds
        ng.epb(order, 0, T0 // 1000, PACKETS[1]),
        ng.epb(order, 1, T0, raw_ip, wirelen=999),
        ng.idb(order, LINKTYPE_RAW, tsresol=0x80 | 20),  # 2^-20 s
        ng.epb(order, 2, (T0 // 10**9) << 20 | 1 << 19, raw_ip),
    ]
    frames = read_frames(b"".join(blocks))
    assert frames.errors == 0
    assert frames.linktype.tolist() == [LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_RAW]
    assert frames.ts_ns.tolist() == [T0 // 1000 * 1000, T0, T0 // 10**9 * 10**9 + 500_000_000]
    assert [frames.packet(i) for i in range(3)] == [PACKETS[1], raw_ip, raw_ip]
    assert frames.wirelen.tolist()[1] == 999


def test_pcapng_simple_packet_block_and_second_section() -> None:
    blocks = [
        ng.shb("<"),
        ng.idb("<", LINKTYPE_ETHERNET),
        ng.spb("<", PACKETS[2]),
        ng.shb(">"),
        ng.idb(">", LINKTYPE_RAW),
        ng.epb(">", 0, 5_000_000, PACKETS[0][14:]),
    ]
    frames = read_frames(b"".join(blocks))
    assert frames.packet(0) == PACKETS[2] and frames.ts_ns[0] == 0
    assert frames.packet(1) == PACKETS[0][14:] and frames.ts_ns[1] == 5 * 10**9
    assert frames.linktype.tolist() == [LINKTYPE_ETHERNET, LINKTYPE_RAW]


def test_pcapng_bad_interface_and_truncation_are_counted() -> None:
    blocks = [
        ng.shb("<"),
        ng.idb("<", LINKTYPE_ETHERNET),
        ng.epb("<", 7, 0, PACKETS[0]),  # no interface 7
        ng.epb("<", 0, 0, PACKETS[1]),
    ]
    whole = b"".join(blocks)
    tail = ng.epb("<", 0, 0, PACKETS[2])
    frames = read_frames(whole + tail[:-6])
    assert len(frames) == 1 and frames.errors == 2
    assert frames.packet(0) == PACKETS[1]


def test_pcapng_without_byte_order_magic_is_not_a_capture() -> None:
    with pytest.raises(ParseError):
        read_frames(struct.pack("<III", 0x0A0D0D0A, 28, 0xDEADBEEF) + bytes(16))


def test_pcapng_batches_agree_with_whole_read() -> None:
    blocks = [ng.shb("<"), ng.idb("<", LINKTYPE_ETHERNET)]
    blocks += [ng.epb("<", 0, i, PACKETS[i % 3]) for i in range(7)]
    blocks += [ng.shb(">"), ng.idb(">", LINKTYPE_RAW)]
    blocks += [ng.epb(">", 0, 100 + i, PACKETS[0][14:]) for i in range(3)]
    raw = b"".join(blocks) + b"\x06\x00"  # a cut-off block at the end
    whole = read_frames(raw)
    batches = list(iter_frames(raw, batch=3))
    assert [len(b) for b in batches] == [3, 3, 1, 3, 0]  # a batch also ends with its section
    assert [b.errors for b in batches] == [0, 0, 0, 0, 1] and whole.errors == 1
    joined = np.concatenate([b.ts_ns for b in batches])
    micros = [*range(7), *range(100, 103)]  # default if_tsresol: microseconds
    assert joined.tolist() == whole.ts_ns.tolist() == [us * 1000 for us in micros]
    assert np.concatenate([b.linktype for b in batches]).tolist() == whole.linktype.tolist()


@settings(max_examples=120, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(1, 700), st.booleans()), max_size=6),
    st.integers(1, 2000),
)
def test_runs_of_equal_blocks_read_like_one_by_one(
    runs: list[tuple[int, int, bool]], batch: int
) -> None:
    """Runs of same-length EPBs (taken vectorised) between other blocks: every packet, in
    order, whatever the batch size."""
    blocks = [ng.shb("<"), ng.idb("<", LINKTYPE_RAW)]
    packets: list[bytes] = []
    for size, count, unknown_after in runs:
        for _ in range(count):
            packets.append(bytes([len(packets) % 251]) * size)
            blocks.append(ng.epb("<", 0, len(packets), packets[-1]))
        if unknown_after:
            blocks.append(ng.block("<", 0x0BAD, b"x" * size))
    raw = b"".join(blocks)
    frames = read_frames(raw)
    assert frames.errors == 0 and [frames.packet(i) for i in range(len(frames))] == packets
    batched = list(iter_frames(raw, batch=batch))
    assert all(len(b) <= batch for b in batched)
    assert np.concatenate([b.offsets for b in batched]).tolist() == frames.offsets.tolist()
