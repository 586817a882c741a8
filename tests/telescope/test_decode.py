"""Per-packet traits and skip counts from the decoder, plus a fuzz test of the ingest path."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.errors import ParseError
from iotscope.pcap import LINKTYPE_RAW, PcapWriter, ethernet, ipv4_tcp, read_frames
from iotscope.telescope import ingest_frames
from iotscope.telescope._decode import Bits, V6Registry, decode
from tests.pcap import pcapng_builder as ng


def _frames(packets: list[bytes], linktype: int = 1):  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with PcapWriter(buf, linktype) as out:
        for i, pkt in enumerate(packets):
            out.write(i * 1000, pkt)
    return read_frames(buf.getvalue())


def test_trait_bits() -> None:
    dark = "203.0.113.9"
    dst_int = 0xCB007109
    packets = [
        ipv4_tcp("192.0.2.1", dark, 1, 23, seq=dst_int),  # mirai SYN to an IoT port
        ipv4_tcp("192.0.2.1", dark, 1, 23, seq=dst_int, flags=0x12),  # SYN-ACK: a reply
        ipv4_tcp("192.0.2.1", dark, 1, 443, ip_id=54321),  # ZMap
        ipv4_tcp("192.0.2.1", dark, 1, 8000, seq=5, ip_id=(dst_int ^ 8000 ^ 5) & 0xFFFF),
        ipv4_tcp("192.0.2.1", dark, 1, 80, flags=0x14),  # RST-ACK
    ]
    rows = decode(_frames(packets, LINKTYPE_RAW), V6Registry())
    assert rows.bits.tolist() == [
        Bits.SYN | Bits.MIRAI | Bits.IOT,
        Bits.REPLY,
        Bits.SYN | Bits.ZMAP,
        Bits.SYN | Bits.MASSCAN,
        Bits.REPLY,
    ]
    assert rows.port.tolist() == [23, 1, 443, 8000, 1]  # replies count their source port
    assert rows.dst.tolist() == [dst_int] * 5


def test_fragments_count_without_ports() -> None:
    frag = bytearray(ipv4_tcp("192.0.2.1", "203.0.113.1", 1, 23))
    frag[6:8] = b"\x00\x10"  # fragment offset 16 (x 8 bytes): no TCP header here
    rows = decode(_frames([bytes(frag)], LINKTYPE_RAW), V6Registry())
    assert rows.port.tolist() == [-1] and rows.bits.tolist() == [0] and rows.malformed == 0


def test_v6_registry_is_stable_across_calls() -> None:
    reg = V6Registry()
    a = np.frombuffer(bytes(range(16)) * 3, np.uint8).reshape(3, 16)
    first = reg.lookup(a)
    second = reg.lookup(np.flipud(a.copy()))
    assert first.tolist() == [0, 0, 0] and second.tolist() == [0, 0, 0]
    assert str(reg.address(2**32)) == "1:203:405:607:809:a0b:c0d:e0f"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=12), st.sampled_from([1, 101, 113, 0]))
def test_fuzz_ingest_never_crashes(payloads: list[bytes], linktype: int) -> None:
    head = ethernet(b"")[:14] if linktype == 1 else b""
    packets = [head + b"\x45" + p if i % 2 else head + p for i, p in enumerate(payloads)]
    frames = _frames(packets, linktype)
    result = ingest_frames([frames])
    st_ = result.stats
    assert st_.counted + st_.not_ip + st_.malformed + st_.outside_prefix == len(packets)
    assert sum(s.packets for s in result.sightings) == st_.counted


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_pcapng_blocks_through_ingest(raw: bytes) -> None:
    capture = ng.shb("<") + ng.idb("<", 1) + ng.epb("<", 0, 2**63, ethernet(b"\x45" + raw)) + raw
    try:
        frames = read_frames(capture)
    except ParseError:
        return
    result = ingest_frames([frames])
    st_ = result.stats
    assert st_.counted + st_.not_ip + st_.malformed + st_.outside_prefix == len(frames)
