"""Export sequence tracking: NetFlow v5 (flows), v9 (packets), IPFIX (records mod 2^32)."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from iotscope.flows import encode_ipfix, encode_netflow_v9, flows_table
from iotscope.flows._decoder import FlowDecoder
from iotscope.flows._sequence import MOD, PROBE_MESSAGES, DomainSequence, SequenceTracker
from tests.flows._wire import v5

T0 = 1_700_000_000_000


def _table(n: int) -> pa.Table:
    return flows_table(
        start_ms=[T0 + i * 10 for i in range(n)],
        end_ms=[T0 + i * 10 + 5 for i in range(n)],
        src=[f"192.0.2.{i % 250 + 1}" for i in range(n)],
        dst=pa.array(["203.0.113.7"] * n),
        sport=[1024 + i for i in range(n)],
        dport=[23] * n,
        proto=pa.array(["tcp"] * n),
        packets=[3] * n,
        octets=[180] * n,
        tcp_flags=[0x12] * n,
        exporter="x",
        site="isp-a",
    )


def _feed(packets: list[bytes], exporter: str = "192.0.2.254") -> FlowDecoder:
    decoder = FlowDecoder("isp-a")
    for p in packets:
        decoder.feed(p, exporter)
    decoder.finish()
    return decoder


def _only(decoder: FlowDecoder) -> DomainSequence:
    (state,) = decoder.sequences.domains.values()
    return state


def test_v9_counts_lost_export_packets() -> None:
    packets = [p for _, p in encode_netflow_v9(_table(480), records_per_packet=24)]  # 20 packets
    kept = [p for i, p in enumerate(packets) if i not in (3, 4, 11)]
    state = _only(_feed(kept))
    assert (state.kind, state.unit, state.domain) == ("v9", "packets", 1)
    assert state.lost == 3 and state.received == 17 and state.resets == 0


def test_ipfix_counts_lost_data_records() -> None:
    packets = [p for _, p in encode_ipfix(_table(480), records_per_packet=24)]
    kept = [p for i, p in enumerate(packets) if i not in (5, 9)]
    decoder = _feed(kept)
    state = _only(decoder)
    assert (state.kind, state.unit) == ("ipfix", "flows")
    assert state.lost == 48 and state.received == 480 - 48
    assert decoder.counts.flows == state.received


def test_v5_counts_lost_flows_per_engine() -> None:
    record = (0xC0000201, 0xCB007107, 3, 180, 99_000, 99_500, 40000, 23, 0x12, 6)

    def packet(seq: int, n: int, engine: int) -> bytes:
        raw = bytearray(v5([record] * n))
        struct.pack_into(">IBB", raw, 16, seq, 0, engine)
        return bytes(raw)

    seqs = [(0, 30), (30, 30), (60, 10), (70, 30), (100, 5)]
    packets = [packet(s, n, 1) for s, n in seqs] + [packet(s, n, 2) for s, n in seqs]
    del packets[2]  # engine 1 loses 10 flows
    decoder = _feed(packets)
    by_domain = {d.domain: d for d in decoder.sequences.domains.values()}
    assert by_domain[1].lost == 10 and by_domain[1].received == 95
    assert by_domain[2].lost == 0 and by_domain[2].received == 105


def test_reordered_within_window_is_not_lost() -> None:
    packets = [p for _, p in encode_netflow_v9(_table(240), records_per_packet=24)]
    order = [0, 1, 3, 2, 4, 6, 7, 5, 8, 9]
    state = _only(_feed([packets[i] for i in order]))
    assert state.lost == 0 and state.reordered == 2 and state.duplicates == 0


def test_duplicates_are_counted_not_lost() -> None:
    packets = [p for _, p in encode_ipfix(_table(240), records_per_packet=24)]
    state = _only(_feed([*packets[:5], packets[3], *packets[5:]]))
    assert state.lost == 0 and state.duplicates == 1 and state.received == 240


def test_wraps_modulo_2_32() -> None:
    s = DomainSequence("e", "ipfix", 1)
    for seq in (MOD - 48, MOD - 24, 0, 24):
        s.observe(seq, 24, -1, 0)
    s.observe(72, 24, -1, 0)  # 48..71 lost
    assert s.lost == 24 and s.resets == 0 and s.received == 5 * 24


def test_exporter_restart_is_a_reset_not_loss() -> None:
    s = DomainSequence("e", "v9", 1)
    for i in range(100, 110):
        s.observe(i, 1, 1_000_000 + i, 0)
    s.observe(0, 1, 500, 0)  # sysUptime went back: the exporter rebooted
    s.observe(1, 1, 600, 0)
    assert s.resets == 1 and s.lost == 0 and s.received == 12
    t = DomainSequence("e", "ipfix", 1)
    t.observe(5_000_000, 10, -1, 0)
    t.observe(12, 10, -1, 0)  # far behind the window: restart
    t.observe(3_000_000_000, 10, -1, 0)  # far ahead: restart, not 3e9 lost records
    assert t.resets == 2 and t.lost == 0


def test_unknown_record_count_resyncs() -> None:
    s = DomainSequence("e", "ipfix", 1)
    s.observe(0, 10, -1, 0)
    s.observe(10, None, -1, 0)  # data for a template not seen yet: can't tell its size
    s.observe(55, 10, -1, 0)
    assert s.lost == 0 and s.unverified == 1 and s.front is not None


def test_state_round_trips_through_json() -> None:
    t = SequenceTracker()
    for seq in (0, 1, 3):
        t.observe("192.0.2.1", "v9", 7, seq, 1, uptime=seq * 1000)
    back = SequenceTracker.from_json(t.to_json())
    state = back.domains[("192.0.2.1", "v9", 7)]
    front = state.front
    assert front is not None and state.lost == 1 and state.holes == [[front - 2, front - 1]]
    back.observe("192.0.2.1", "v9", 7, 2, 1, uptime=3500)  # the late one still fills its hole
    assert state.lost == 0 and state.reordered == 1


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30), min_size=PROBE_MESSAGES + 2, max_size=80),
    data=st.data(),
    start=st.integers(0, MOD - 1),
)
def test_fuzz_lost_equals_dropped_under_local_reordering(
    sizes: list[int], data: st.DataObject, start: int
) -> None:
    assume(start != sizes[0])  # else it looks like an exporter counting its own message first
    seqs, seq = [], start
    for n in sizes:
        seqs.append((seq % MOD, n))
        seq += n
    # Loss and reordering after the messages that pick the convention: within them, a stream
    # of equal-sized messages with a drop is as consistent with an exporter counting its own
    # message (softflowd) as with an RFC one (see test_drop_between_equal_sizes_stays_rfc).
    assume(len(seqs) > PROBE_MESSAGES + 1)
    first = PROBE_MESSAGES
    dropped = set(data.draw(st.sets(st.integers(first, len(seqs) - 1), max_size=len(seqs) // 2)))
    kept = [x for i, x in enumerate(seqs) if i not in dropped]
    swaps = data.draw(st.lists(st.integers(first, max(len(kept) - 2, first)), max_size=5))
    for i in swaps:  # swap neighbours (never the first: it anchors the sequence)
        if i + 1 < len(kept):
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
    s = DomainSequence("e", "ipfix", 1)
    for q, n in kept:
        s.observe(q, n, -1, 0)
    lost_after_last = 0  # drops after the highest received message are not visible yet
    top = max(range(len(seqs)), key=lambda i: -1 if i in dropped else i)
    lost_after_last = sum(seqs[i][1] for i in dropped if i > top)
    assert s.lost == sum(seqs[i][1] for i in dropped) - lost_after_last
    assert s.received == sum(n for _, n in kept)
    assert s.duplicates == 0 and s.resets == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, MOD - 1), st.one_of(st.none(), st.integers(0, 40)),
                          st.integers(-1, MOD - 1)), max_size=50))  # fmt: skip
def test_fuzz_any_sequence_never_raises(events: list[tuple[int, int | None, int]]) -> None:
    s = DomainSequence("e", "v9", 1)
    for seq, count, uptime in events:
        s.observe(seq, count, uptime, 0)
    assert s.lost >= 0 and s.packets == len(events)
    assert DomainSequence.from_dict(s.as_dict()).lost == s.lost


@pytest.mark.parametrize("kind", ["v9", "ipfix"])
def test_fuzz_style_garbage_sequence_in_headers(kind: str) -> None:
    packets = [p for _, p in (encode_netflow_v9 if kind == "v9" else encode_ipfix)(_table(96))]
    raw = bytearray(packets[2])
    struct.pack_into(">I", raw, 12 if kind == "v9" else 8, 0xDEADBEEF)
    state = _only(_feed([packets[0], packets[1], bytes(raw), packets[3]]))
    assert state.lost == 0 and state.resets >= 1


def test_softflowd_style_inclusive_sequence_is_recognised() -> None:
    """softflowd's IPFIX sequence already counts the message's own flows (not options)."""
    s = DomainSequence("e", "ipfix", 0)
    s.observe(22, 23, -1, 0, flows=22)  # 1 options record + 22 flows, seq 22
    s.observe(48, 26, -1, 0, flows=26)
    assert s.mode == "inclusive-flows" and s.lost == 0 and s.received == 48
    s.observe(77 + 29, 29, -1, 0, flows=29)  # the message with seq 77 was lost: 29 flows
    assert s.lost == 29
    t = DomainSequence("e", "ipfix", 0)
    for seq in range(0, 24 * 20, 24):  # an RFC exporter with full messages stays RFC
        t.observe(seq, 24, -1, 0)
    assert t.mode == "rfc" and t.locked and t.lost == 0


@pytest.mark.parametrize(
    "kept",
    [
        [(2, 1), (4, 2), (6, 2), (3, 1)],  # found by the fuzz test: a late message
        [(2, 1), (4, 2), (6, 2)],  # ... and a lost one between messages of equal size
    ],
)
def test_drop_between_equal_sizes_stays_rfc(kept: list[tuple[int, int]]) -> None:
    """One coincidence is not enough to take an RFC exporter for one counting its own
    message: the loss is reported in the RFC's terms."""
    s = DomainSequence("e", "ipfix", 1)
    for q, n in kept:
        s.observe(q, n, -1, 0)
    assert s.mode == "rfc"
    assert s.received == sum(n for _, n in kept)
    assert s.lost + s.reordered == 1
