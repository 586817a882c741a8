"""File ingest: pmacct's real exports, exporter state across files, idempotent re-ingest."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pytest

from iotscope.errors import ConfigError
from iotscope.flows import encode_ipfix, encode_netflow_v9, flows_table, read_flows
from iotscope.flows._ingest import ingest_files
from iotscope.pcap import PcapWriter, ethernet, ipv4_udp

Key = tuple[str, str, int, int, str]
TCP_FLAG_NAMES = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20}


@dataclass
class Agg:
    packets: int = 0
    bytes: int = 0
    flags: int = 0
    times: set[tuple[int, int]] = field(default_factory=set)


def _pmacct(path: Path) -> dict[Key, Agg]:
    """pmacct's output, aggregated by src/dst host, ports and proto (as its config does)."""
    out: dict[Key, Agg] = defaultdict(Agg)
    for line in path.read_text().splitlines():
        r = json.loads(line)
        agg = out[(r["ip_src"], r["ip_dst"], r["port_src"], r["port_dst"], r["ip_proto"])]
        agg.packets += r["packets"]
        agg.bytes += r["bytes"]
        for name in r["tcp_flags"]:
            agg.flags |= TCP_FLAG_NAMES[name]
        if "timestamp_start" in r:
            agg.times.add((int(float(r["timestamp_start"])), int(float(r["timestamp_end"]))))
    return dict(out)


def _ours(table: pa.Table) -> dict[Key, Agg]:
    """Ours, aggregated the same way; times in pmacct's resolution (whole seconds, rounded up:
    pmacct subtracts (sysUptime - FIRST_SWITCHED) truncated to seconds from unix_secs)."""
    out: dict[Key, Agg] = defaultdict(Agg)
    for r in table.to_pylist():
        agg = out[(r["src"], r["dst"], r["sport"], r["dport"], r["proto"])]
        agg.packets += r["packets"]
        agg.bytes += r["bytes"]
        agg.flags |= r["tcp_flags"]
        agg.times.add((math.ceil(r["start"].timestamp()), math.ceil(r["end"].timestamp())))
    return dict(out)


@pytest.mark.parametrize(
    "case", ["pmacct-100-IPFIXv10-CISCO", "pmacct-101-NFv9-CISCO-cust_primitives"]
)
def test_real_exports_decode_to_what_pmacct_decoded(
    shared_data: Path, tmp_path: Path, case: str
) -> None:
    folder = shared_data / "netflow" / case
    report = ingest_files(
        [folder / "traffic-00.pcap"], fmt="netflow-pcap", site="isp-a", root=tmp_path
    )
    assert report.decode.malformed == report.decode.no_template == report.decode.no_address == 0
    ours, theirs = _ours(read_flows(tmp_path)), _pmacct(folder / "output-flow-00.json")
    assert ours.keys() == theirs.keys()
    for key, want in theirs.items():
        got = ours[key]
        assert (got.packets, got.bytes, got.flags) == (want.packets, want.bytes, want.flags), key
        if want.times:  # pmacct's IPFIX case aggregates without timestamps
            assert got.times == want.times, key


def _write_pcap(
    path: Path, packets: list[tuple[int, bytes]], exporter: str = "192.0.2.254"
) -> None:
    with PcapWriter(path) as w:
        for ts, payload in packets:
            w.write(ts, ethernet(ipv4_udp(exporter, "198.51.100.2", 50000, 2055, payload)))


def _table(n: int) -> pa.Table:
    t0 = 1_700_000_000_000
    return flows_table(
        start_ms=[t0 + 1000 * i for i in range(n)],
        end_ms=[t0 + 1000 * i + 250 for i in range(n)],
        src=[f"192.0.2.{i % 200}" for i in range(n)],
        dst=["203.0.113.7"] * n,
        sport=[30000 + i for i in range(n)],
        dport=[23] * n,
        proto=["tcp"] * n,
        packets=[3] * n,
        octets=[180] * n,
        tcp_flags=[0x1B] * n,
        exporter="192.0.2.254",
        site="isp-a",
    )


@pytest.mark.parametrize("encode", [encode_netflow_v9, encode_ipfix])
def test_files_share_exporter_state(tmp_path: Path, encode: object) -> None:
    packets = encode(_table(100), records_per_packet=10, template_every=100)  # type: ignore[operator]
    first, second = tmp_path / "a.pcap", tmp_path / "b.pcap"
    _write_pcap(first, packets[:2])  # the only template is in here
    _write_pcap(second, packets[2:])
    root = tmp_path / "flows"
    together = ingest_files([first, second], fmt="netflow-pcap", site="isp-a", root=root)
    assert together.flows == 100 and together.decode.no_template == 0
    alone = ingest_files([second], fmt="netflow-pcap", site="isp-a", root=tmp_path / "other")
    assert alone.flows == 0 and alone.decode.no_template == 8


def test_reingest_is_idempotent(tmp_path: Path) -> None:
    capture = tmp_path / "a.pcap"
    _write_pcap(capture, encode_ipfix(_table(50)))
    root = tmp_path / "flows"
    ingest_files([capture], fmt="netflow-pcap", site="isp-a", root=root)
    ingest_files([capture], fmt="netflow-pcap", site="isp-a", root=root)
    flows = read_flows(root, site="isp-a")
    assert flows.num_rows == 50
    assert flows.sort_by("start")["src"].equals(_table(50)["src"])


def test_zeek_and_nfdump_ingest(tmp_path: Path) -> None:
    nfdump = Path(__file__).parent / "data" / "nfdump-1.7.1-softflowd.csv"
    report = ingest_files([nfdump], fmt="nfdump-csv", site="isp-b", root=tmp_path)
    assert report.flows == 48 and report.parts
    assert read_flows(tmp_path, site="isp-b").num_rows == 48
    conn = tmp_path / "conn.log"
    conn.write_text("#fields\tts\tid.orig_h\n1\t2\nnot a line\n")
    report = ingest_files([conn], fmt="zeek", site="isp-b", root=tmp_path)
    assert report.flows == 0 and report.bad_lines.count == 2


def test_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        ingest_files([tmp_path / "missing.pcap"], fmt="netflow-pcap", site="s", root=tmp_path)
    with pytest.raises(ConfigError):
        ingest_files([], fmt="parquet", site="s", root=tmp_path)
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    with pytest.raises(ConfigError):
        ingest_files([junk], fmt="netflow-pcap", site="s", root=tmp_path)
