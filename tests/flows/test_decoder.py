"""The export decoder: v5/v9/IPFIX, templates, options, sampling, time fields, bad input."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iotscope.flows import encode_ipfix, encode_netflow_v9, flows_table
from iotscope.flows._decoder import FlowDecoder
from tests.flows._wire import (
    FieldSpec,
    ipfix,
    ipfix_options_template,
    ipfix_template,
    set_,
    v5,
    v9,
    v9_options_template,
    v9_template,
)

T0 = 1_700_000_000_000
EXPORTER = "192.0.2.254"
BASIC = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 4), (1, 4), (152, 8), (153, 8)]


def _table(n: int, exporter: str = EXPORTER) -> pa.Table:
    return flows_table(
        start_ms=[T0 + 37 * i for i in range(n)],
        end_ms=[T0 + 37 * i + (i % 5) * 1000 for i in range(n)],
        src=[f"192.0.2.{i % 256}" for i in range(n)],
        dst=[f"203.0.113.{(7 * i) % 256}" for i in range(n)],
        sport=[(1000 + 13 * i) % 65536 for i in range(n)],
        dport=[[23, 2323, 48101, 53][i % 4] for i in range(n)],
        proto=[["tcp", "udp", "icmp", "other"][i % 4] for i in range(n)],
        packets=[1 + i for i in range(n)],
        octets=[40 + 1500 * i for i in range(n)],
        tcp_flags=[i % 64 for i in range(n)],
        exporter=exporter,
        site="isp-a",
    )


def _basic_record(src: int, dst: int, pkts: int = 2, octets: int = 120, start: int = T0) -> bytes:
    return struct.pack(">IIHHBIIQQ", src, dst, 4000, 23, 6, pkts, octets, start, start + 500)


def _decode(*datagrams: bytes, exporter: str = EXPORTER, **kw: int) -> tuple[pa.Table, FlowDecoder]:
    decoder = FlowDecoder("isp-a", **kw)
    for d in datagrams:
        decoder.feed(d, exporter)
    return decoder.finish(), decoder


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([("start", "ascending"), ("src", "ascending"), ("dst", "ascending")])


@pytest.mark.parametrize("encode", [encode_netflow_v9, encode_ipfix])
def test_encode_decode_round_trip(encode: object) -> None:
    table = _table(500)
    packets = encode(table, records_per_packet=17, template_every=5)  # type: ignore[operator]
    out, decoder = _decode(*(p for _, p in packets))
    assert _sorted(out).equals(_sorted(table))
    assert decoder.counts.flows == 500
    assert decoder.counts.malformed == decoder.counts.no_template == 0


@pytest.mark.parametrize("encode", [encode_netflow_v9, encode_ipfix])
def test_ipv6_flows_round_trip_with_their_own_template(encode: object) -> None:
    v4 = _table(40)
    v6 = _table(30).set_column(2, "src", pa.array([f"2001:db8::{i + 1:x}" for i in range(30)]))
    v6 = v6.set_column(3, "dst", pa.array(["2001:db8:ffff::1"] * 30))
    table = pa.concat_tables([v4, v6])
    packets = encode(table, records_per_packet=8, template_every=3)  # type: ignore[operator]
    out, decoder = _decode(*(p for _, p in packets))
    assert _sorted(out).equals(_sorted(table))
    assert decoder.counts.templates == 2 + 2  # each family's template, resent once


def test_templates_are_per_exporter_and_domain() -> None:
    a = encode_netflow_v9(_table(30, "127.0.0.1"), source_id=1, template_every=100)
    b = encode_netflow_v9(_table(30, "127.0.0.2"), source_id=1, template_every=100)
    decoder = FlowDecoder("isp-a")
    decoder.feed(a[0][1], "127.0.0.1")
    decoder.feed(b[1][1], "127.0.0.2")  # data only: 127.0.0.2 sent no template yet
    decoder.feed(encode_netflow_v9(_table(1), source_id=2)[0][1], "127.0.0.1")
    assert decoder.flush().num_rows == 24 + 1
    assert decoder.waiting_sets == 1
    decoder.feed(b[0][1], "127.0.0.2")  # its template arrives: the waiting set decodes too
    out = decoder.finish()
    assert out.num_rows == 6 + 24
    assert set(out["exporter"].to_pylist()) == {"127.0.0.2"}
    assert decoder.counts.no_template == 0


def test_v5_records_times_and_sampling() -> None:
    rec = (0xC0000201, 0xCB007109, 3, 180, 90_000, 99_500, 4000, 23, 0x12, 6)
    out, decoder = _decode(v5([rec, rec], sampling=(1 << 14) | 10))
    row = out.to_pylist()[0]
    assert (row["src"], row["dst"], row["sport"], row["dport"]) == (
        "192.0.2.1",
        "203.0.113.9",
        4000,
        23,
    )
    assert (row["packets"], row["bytes"], row["tcp_flags"], row["proto"]) == (30, 1800, 0x12, "tcp")
    assert row["start"].timestamp() * 1000 == T0 - 10_000
    assert row["end"].timestamp() * 1000 == T0 - 500
    assert decoder.counts.flows == 2


@pytest.mark.parametrize("count", [0, 31])
def test_v5_bad_count_is_malformed(count: int) -> None:
    data = v5([(1, 2, 1, 1, 1, 1, 1, 1, 0, 6)])
    data = data[:2] + struct.pack(">H", count) + data[4:]
    out, decoder = _decode(data)
    assert out.num_rows == 0 and decoder.counts.malformed == 1


def test_ipfix_template_withdrawal() -> None:
    tmpl = ipfix_template(300, BASIC)
    data = set_(300, _basic_record(1, 2))
    withdraw = set_(2, struct.pack(">HH", 300, 0))
    out, decoder = _decode(ipfix(tmpl, data), ipfix(withdraw), ipfix(data))
    assert out.num_rows == 1
    assert decoder.counts.withdrawn == 1
    assert decoder.counts.no_template == 1  # the data after the withdrawal had no template


def test_ipfix_withdraw_all_data_templates() -> None:
    opts = ipfix_options_template(400, [(149, 4)], [(34, 4)])
    withdraw_all = set_(2, struct.pack(">HH", 2, 0))
    decoder = FlowDecoder()
    decoder.feed(ipfix(ipfix_template(300, BASIC), ipfix_template(301, BASIC), opts), EXPORTER)
    decoder.feed(ipfix(withdraw_all), EXPORTER)
    assert decoder.counts.withdrawn == 2
    assert decoder.templates.get(EXPORTER, 1, 400) is not None  # options templates stay


def test_v9_template_refresh_changes_layout() -> None:
    first = v9_template(260, [(8, 4), (12, 4), (2, 4), (1, 4)])
    second = v9_template(260, [(12, 4), (8, 4), (1, 4), (2, 4)])
    record = struct.pack(">IIII", 0x0A000001, 0x0A000002, 5, 500)
    out, _ = _decode(v9(first, set_(260, record)), v9(second, set_(260, record)))
    rows = out.to_pylist()
    assert (rows[0]["src"], rows[0]["packets"], rows[0]["bytes"]) == ("10.0.0.1", 5, 500)
    assert (rows[1]["src"], rows[1]["packets"], rows[1]["bytes"]) == ("10.0.0.2", 500, 5)


def test_ipfix_options_sampling_interval_multiplies_counts() -> None:
    opts = ipfix_options_template(400, [(149, 4)], [(34, 4)])
    opts_data = set_(400, struct.pack(">II", 1, 100))
    data = set_(300, _basic_record(1, 2, pkts=3, octets=200))
    out, decoder = _decode(ipfix(opts, opts_data, ipfix_template(300, BASIC), data))
    assert (out["packets"][0].as_py(), out["bytes"][0].as_py()) == (300, 20000)
    assert decoder.counts.options_records == 1 and decoder.counts.options_templates == 1


@pytest.mark.parametrize(
    ("fields", "values", "rate"),
    [
        ([(34, 4)], (10,), 10),  # SAMPLING_INTERVAL
        ([(50, 4)], (64,), 64),  # FLOW_SAMPLER_RANDOM_INTERVAL
        ([(305, 4), (306, 4)], (1, 99), 100),  # samplingPacketInterval/Space
        ([(309, 4), (310, 4)], (1, 1000), 1000),  # samplingSize/Population
    ],
)
def test_v9_options_sampling(
    fields: list[tuple[int, int]], values: tuple[int, ...], rate: int
) -> None:
    opts = v9_options_template(500, [(1, 4)], fields)
    opts_data = set_(500, struct.pack(">I" + "I" * len(values), 0, *values))
    tmpl = v9_template(260, [(8, 4), (12, 4), (2, 4), (1, 4)])
    data = set_(260, struct.pack(">IIII", 1, 2, 1, 40))
    out, _ = _decode(v9(opts, opts_data), v9(tmpl, data))
    assert (out["packets"][0].as_py(), out["bytes"][0].as_py()) == (rate, 40 * rate)


def test_enterprise_fields_are_skipped_by_length() -> None:
    fields: list[FieldSpec] = [(8, 4), (1, 4, 9), (12, 4), (2, 2, 29305), (2, 4), (1, 4)]
    record = struct.pack(">IIIHII", 0x0A000001, 0xFFFFFFFF, 0x0A000002, 0xFFFF, 7, 700)
    out, _ = _decode(ipfix(ipfix_template(300, fields), set_(300, record)))
    row = out.to_pylist()[0]
    assert (row["src"], row["dst"], row["packets"], row["bytes"]) == (
        "10.0.0.1",
        "10.0.0.2",
        7,
        700,
    )


def test_variable_length_fields() -> None:
    fields = [(8, 4), (96, 65535), (12, 4), (2, 4), (1, 4)]
    short = struct.pack(">I", 0x0A000001) + b"\x03abc" + struct.pack(">III", 0x0A000002, 1, 10)
    long_name = b"x" * 300
    long = (
        struct.pack(">I", 0x0A000003)
        + b"\xff" + struct.pack(">H", len(long_name)) + long_name
        + struct.pack(">III", 0x0A000004, 2, 20)
    )  # fmt: skip
    out, decoder = _decode(ipfix(ipfix_template(300, fields), set_(300, short + long)))
    assert out["src"].to_pylist() == ["10.0.0.1", "10.0.0.3"]
    assert out["bytes"].to_pylist() == [10, 20]
    assert decoder.counts.malformed == 0


def test_odd_length_and_reduced_size_counters() -> None:
    fields = [(8, 4), (12, 4), (2, 3), (1, 6), (70, 3)]
    record = struct.pack(">II", 1, 2) + (70000).to_bytes(3, "big") + (2**40 + 5).to_bytes(6, "big")
    out, _ = _decode(ipfix(ipfix_template(300, fields), set_(300, record + b"\0\0\1")))
    assert (out["packets"][0].as_py(), out["bytes"][0].as_py()) == (70000, 2**40 + 5)


def test_ipv6_and_mixed_templates() -> None:
    v6 = bytes.fromhex("20010db8000000000000000000000001")
    fields = [(8, 4), (12, 4), (27, 16), (28, 16), (2, 4), (1, 4)]
    rec4 = struct.pack(">II", 0x0A000001, 0x0A000002) + b"\0" * 32 + struct.pack(">II", 1, 1)
    rec6 = struct.pack(">II", 0, 0) + v6 + v6[:-1] + b"\2" + struct.pack(">II", 1, 1)
    out, _ = _decode(v9(v9_template(260, fields), set_(260, rec4 + rec6)))
    assert out["src"].to_pylist() == ["10.0.0.1", "2001:db8::1"]
    assert out["dst"].to_pylist() == ["10.0.0.2", "2001:db8::2"]


def test_ipfix_time_fields() -> None:
    ntp = lambda ms: ((ms // 1000 + 2_208_988_800) << 32) | ((ms % 1000) << 32) // 1000 + 1  # noqa: E731
    cases = [
        ([(150, 4), (151, 4)], struct.pack(">II", T0 // 1000, T0 // 1000 + 2), (T0, T0 + 2000)),
        (
            [(154, 8), (157, 8)],
            struct.pack(">QQ", ntp(T0 + 250), ntp(T0 + 750)),
            (T0 + 250, T0 + 750),
        ),
        ([(158, 4), (159, 4)], struct.pack(">II", 3_000_000, 1_000_000), (T0 - 3000, T0 - 1000)),
        ([(152, 8)], struct.pack(">Q", T0 + 1), (T0 + 1, T0 + 1)),
        ([], b"", (T0, T0)),
    ]
    for time_fields, time_bytes, expected in cases:
        fields = [(8, 4), (12, 4), *time_fields]
        msg = ipfix(ipfix_template(300, fields), set_(300, struct.pack(">II", 1, 2) + time_bytes))
        out, _ = _decode(msg)
        got = tuple(
            int(v.timestamp() * 1000) for v in (out["start"][0].as_py(), out["end"][0].as_py())
        )
        assert got == expected, time_fields


def test_ipfix_sysuptime_with_system_init_time() -> None:
    opts = ipfix_options_template(400, [(149, 4)], [(160, 8)])
    opts_data = set_(400, struct.pack(">IQ", 1, T0 - 60_000))
    tmpl = ipfix_template(300, [(8, 4), (12, 4), (22, 4), (21, 4)])
    data = set_(300, struct.pack(">IIII", 1, 2, 60_000, 61_000))
    out, _ = _decode(ipfix(opts, opts_data, tmpl, data))
    assert int(out["start"][0].as_py().timestamp() * 1000) == T0
    assert int(out["end"][0].as_py().timestamp() * 1000) == T0 + 1000


def test_v9_uptime_wraparound() -> None:
    tmpl = v9_template(260, [(8, 4), (12, 4), (22, 4), (21, 4)])
    data = set_(260, struct.pack(">IIII", 1, 2, 2**32 - 1000, 500))
    out, _ = _decode(v9(tmpl, data, uptime_ms=1000, secs=T0 // 1000))
    assert int(out["start"][0].as_py().timestamp() * 1000) == T0 - 2000
    assert int(out["end"][0].as_py().timestamp() * 1000) == T0 - 500


def test_unknown_template_waits_bounded() -> None:
    data = ipfix(set_(300, _basic_record(1, 2)))
    out, decoder = _decode(data, data, data, ipfix(ipfix_template(300, BASIC)), max_waiting_sets=2)
    assert out.num_rows == 2
    assert decoder.counts.no_template == 1


def test_template_without_addresses_is_counted() -> None:
    out, decoder = _decode(ipfix(ipfix_template(300, [(2, 4), (1, 4)]), set_(300, b"\0" * 16)))
    assert out.num_rows == 0 and decoder.counts.no_address == 2


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"\x00\x09",
        v9()[:10],
        ipfix()[:12],
        b"\x00\x07" + b"\0" * 30,  # unknown version
        ipfix(struct.pack(">HH", 300, 0)),  # set length 0 must not loop
        ipfix(struct.pack(">HH", 300, 2)),  # shorter than a set header
        ipfix(struct.pack(">HH", 300, 400) + b"\0" * 8),  # longer than the message
        ipfix(b"\1\1"),  # truncated set header
        v9(struct.pack(">HH", 260, 0)),
        ipfix(set_(2, struct.pack(">HHHH", 300, 2, 8, 4))),  # field spec past the set
        ipfix(set_(2, struct.pack(">HHHH", 100, 1, 8, 4))),  # template id < 256
        ipfix(set_(2, struct.pack(">HHHH", 300, 1, 8, 0))),  # zero-length records
        struct.pack(">HHIII", 10, 200, 0, 0, 1),  # length beyond the datagram
    ],
)
def test_malformed_datagrams_are_counted(datagram: bytes) -> None:
    out, decoder = _decode(datagram)
    assert out.num_rows == 0
    assert decoder.counts.malformed == 1
    assert decoder.counts.packets == 1


def test_bad_set_does_not_spoil_good_sets() -> None:
    bad_tmpl = set_(2, struct.pack(">HHHH", 300, 2, 8, 4))
    good = ipfix_template(301, BASIC) + set_(301, _basic_record(1, 2))
    out, decoder = _decode(ipfix(bad_tmpl, good))
    assert out.num_rows == 1
    assert (decoder.counts.malformed, decoder.counts.malformed_sets) == (1, 1)


def test_reserved_set_ids_are_counted() -> None:
    _, decoder = _decode(ipfix(set_(5, b"\0\0\0\0")), v9(set_(7, b"")))
    assert decoder.counts.unknown_sets == 2 and decoder.counts.malformed == 0


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _fuzz(datagrams: list[bytes]) -> None:
    decoder = FlowDecoder("isp-a")
    for d in datagrams:
        decoder.feed(d, EXPORTER)
    out = decoder.finish()
    c = decoder.counts
    assert c.packets == len(datagrams)
    assert out.num_rows == c.flows


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_any_bytes(data: bytes) -> None:
    _fuzz([data])


@FUZZ
@given(st.lists(st.binary(max_size=200), max_size=6), st.integers(5, 10))
def test_fuzz_v9_sets(bodies: list[bytes], _v: int) -> None:
    template = v9_template(260, [(8, 4), (12, 4), (2, 3), (22, 4)])
    _fuzz([v9(template, *(set_(260, b) for b in bodies)), v9(*(b[:2] + b for b in bodies))])


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([2, 3, 256, 300]), st.binary(max_size=120)), max_size=6))
def test_fuzz_ipfix_sets(sets: list[tuple[int, bytes]]) -> None:
    _fuzz(
        [
            ipfix(ipfix_template(300, [(8, 4), (12, 4), (96, 65535)])),
            ipfix(*(set_(i, b) for i, b in sets)),
        ]
    )


@FUZZ
@given(st.binary(min_size=0, max_size=48 * 3), st.integers(0, 31))
def test_fuzz_v5(body: bytes, count: int) -> None:
    _fuzz([struct.pack(">HHIIIIBBH", 5, count, 0, 0, 0, 0, 0, 0, 0xFFFF) + body])


def test_identical_refresh_keeps_the_live_template() -> None:
    tmpl = ipfix_template(300, BASIC)
    decoder = FlowDecoder()
    decoder.feed(ipfix(tmpl), EXPORTER)
    live = decoder.templates.get(EXPORTER, 1, 300)
    decoder.feed(ipfix(tmpl), EXPORTER)
    assert decoder.templates.get(EXPORTER, 1, 300) is live
    decoder.feed(ipfix(ipfix_template(300, BASIC[:-1])), EXPORTER)
    assert decoder.templates.get(EXPORTER, 1, 300) is not live


def test_waiting_data_is_bounded_in_bytes_across_exporters() -> None:
    data = ipfix(set_(300, _basic_record(1, 2) * 10))  # 370 bytes of records
    decoder = FlowDecoder(max_waiting_bytes=1000)
    for i in range(5):
        decoder.feed(data, f"192.0.2.{i}")
    assert decoder.waiting_sets == 2
    decoder.feed(ipfix(ipfix_template(300, BASIC)), "192.0.2.0")
    decoder.feed(data, "192.0.2.9")  # room again after the replay
    assert decoder.finish().num_rows == 10
    assert decoder.counts.no_template == 3 + 2


_IES = st.sampled_from(
    [1, 2, 4, 6, 7, 8, 11, 12, 21, 22, 27, 28, 32, 34, 96, 150, 152, 154, 158, 160, 305]
)
_FIELD = st.one_of(
    st.tuples(_IES, st.sampled_from([0, 1, 2, 3, 4, 6, 8, 16, 65535])),
    st.tuples(_IES, st.sampled_from([1, 4, 65535]), st.integers(1, 2**32 - 1)),
)


@FUZZ
@given(
    st.lists(_FIELD, min_size=1, max_size=8),
    st.lists(st.binary(max_size=80), max_size=4),
    st.booleans(),
)
def test_fuzz_random_templates_and_data(
    fields: list[FieldSpec], bodies: list[bytes], options: bool
) -> None:
    if options and len(fields) > 1:
        template = ipfix_options_template(300, fields[:1], fields[1:])
    else:
        template = ipfix_template(300, fields)
    plain = [f[:2] for f in fields]
    _fuzz(
        [
            ipfix(template, *(set_(300, b) for b in bodies)),
            v9(v9_template(300, plain), *(set_(300, b) for b in bodies)),
        ]
    )


def test_v9_per_sampler_rates() -> None:
    opts = v9_options_template(500, [(1, 4)], [(48, 2), (49, 1), (50, 4)])
    opts_data = set_(500, struct.pack(">IHBI", 0, 1, 2, 10) + struct.pack(">IHBI", 0, 2, 2, 100))
    tmpl = v9_template(260, [(8, 4), (12, 4), (2, 4), (1, 4), (48, 2)])
    data = set_(260, b"".join(struct.pack(">IIIIH", 1, 2, 1, 40, s) for s in (1, 2, 3)))
    out, _ = _decode(v9(opts, opts_data), v9(tmpl, data))
    assert out["packets"].to_pylist() == [10, 100, 1]
    assert out["bytes"].to_pylist() == [400, 4000, 40]
