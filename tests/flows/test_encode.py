"""The encoders' wire format, read back here with struct (RFC 3954 §5, RFC 7011 §3)."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from iotscope.errors import ConfigError
from iotscope.flows import encode_ipfix, encode_netflow_v9, flows_table
from tests.conftest import require_tool

T0 = 1_700_000_000_000


def _table(n: int, src: str = "192.0.2.1") -> pa.Table:
    return flows_table(
        start_ms=[T0 + 10 * i for i in range(n)],
        end_ms=[T0 + 10 * i + 1500 for i in range(n)],
        src=[src] * n,
        dst=[f"198.51.100.{i % 250}" for i in range(n)],
        sport=[1024 + i for i in range(n)],
        dport=[23] * n,
        proto=["tcp", "udp", "icmp", "other"] * (n // 4) + ["tcp"] * (n % 4),
        packets=[i + 1 for i in range(n)],
        octets=[60 * (i + 1) for i in range(n)],
        tcp_flags=[0x1B] * n,
        exporter="",
        site="isp-a",
    )


def _sets(payload: bytes, offset: int) -> list[tuple[int, bytes]]:
    out = []
    while offset < len(payload):
        set_id, length = struct.unpack_from(">HH", payload, offset)
        out.append((set_id, payload[offset + 4 : offset + length]))
        offset += length
    return out


def test_v9_header_template_cadence_and_records() -> None:
    packets = encode_netflow_v9(_table(100), records_per_packet=10, template_every=4)
    assert len(packets) == 10
    with_template = [i for i, (_, p) in enumerate(packets) if _sets(p, 20)[0][0] == 0]
    assert with_template == [0, 4, 8]
    export_ns, first = packets[0]
    version, count, uptime, secs, seq, source = struct.unpack_from(">HHIIII", first)
    assert (version, count, seq, source) == (9, 11, 0, 1)
    assert secs * 1000 == export_ns // 1_000_000
    data = dict(_sets(first, 20))[256]
    src, dst, sport, dport, proto, pkts, octets, flags, fs, ls = struct.unpack_from(
        ">IIHHBQQBII", data
    )
    boot = secs * 1000 - uptime
    assert (src, sport, dport, proto, pkts, octets, flags) == (0xC0000201, 1024, 23, 6, 1, 60, 27)
    assert (boot + fs, boot + ls) == (T0, T0 + 1500)
    assert dst == 0xC6336400


def test_ipfix_header_sequence_and_records() -> None:
    packets = encode_ipfix(_table(30), records_per_packet=8, observation_domain=7)
    seqs = [struct.unpack_from(">HHIII", p)[3] for _, p in packets]
    assert seqs == [0, 8, 16, 24]
    version, length, _, _, domain = struct.unpack_from(">HHIII", packets[1][1])
    assert (version, length, domain) == (10, len(packets[1][1]), 7)
    data = dict(_sets(packets[1][1], 16))[256]
    start, end, src, *_rest, flags = struct.unpack_from(">QQIIHHBQQH", data)
    assert (start, end, src, flags) == (T0 + 80, T0 + 1580, 0xC0000201, 0x1B)


def test_export_times_never_go_back() -> None:
    times = [t for t, _ in encode_ipfix(_table(50), records_per_packet=3)]
    assert times == sorted(times)


def test_mixed_families_and_bad_options_are_refused() -> None:
    with pytest.raises(ConfigError):
        encode_ipfix(_table(2, src="2001:db8::1"))  # IPv6 source, IPv4 destinations
    with pytest.raises(ConfigError):
        encode_ipfix(_table(2, src="192.0.2.300"))
    with pytest.raises(ConfigError):
        encode_netflow_v9(_table(2), records_per_packet=0)
    with pytest.raises(ConfigError):
        encode_netflow_v9(_table(2), template_id=255)


def test_empty_table_gives_no_packets() -> None:
    assert encode_netflow_v9(_table(0)) == []
    assert encode_ipfix(_table(0)) == []


def test_tshark_reads_what_we_encode(tmp_path: Path) -> None:
    """Wireshark's cflow dissector, an independent reader, sees the flows we encoded."""
    tshark = require_tool("tshark")
    from iotscope.pcap import PcapWriter, ethernet, ipv4_udp

    table = _table(30)
    fields = ["srcaddr", "dstaddr", "srcport", "dstport", "protocol", "packets", "octets"]
    for name, encode in (("v9", encode_netflow_v9), ("ipfix", encode_ipfix)):
        capture = tmp_path / f"{name}.pcap"
        with PcapWriter(capture) as w:
            for ts, payload in encode(table, records_per_packet=7):
                w.write(ts, ethernet(ipv4_udp("192.0.2.254", "127.0.0.1", 40000, 2055, payload)))
        cmd = [tshark, "-r", str(capture), "-d", "udp.port==2055,cflow", "-T", "fields"]
        cmd += ["-E", "separator=/t", "-E", "aggregator=,", "-E", "occurrence=a"]
        for f in fields:
            cmd += ["-e", f"cflow.{f}"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        columns: list[list[str]] = [[] for _ in fields]
        for line in out.strip().splitlines():
            for i, value in enumerate(line.split("\t")):
                columns[i] += value.split(",")
        want = table.sort_by("end")
        assert columns[0] == want["src"].to_pylist(), name
        assert columns[1] == want["dst"].to_pylist(), name
        assert [int(v) for v in columns[2]] == want["sport"].to_pylist(), name
        assert [int(v) for v in columns[4]] == [
            {"tcp": 6, "udp": 17, "icmp": 1}.get(p, 255) for p in want["proto"].to_pylist()
        ], name
        assert [int(v) for v in columns[5]] == want["packets"].to_pylist(), name
        assert [int(v) for v in columns[6]] == want["bytes"].to_pylist(), name
