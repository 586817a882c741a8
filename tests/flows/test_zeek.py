"""Zeek conn.log reader: TSV and JSON logs, unset fields, history flags, bad lines."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from iotscope.flows._zeek import read_zeek_conn

FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
]
HEADER = "\n".join(
    [
        "#separator \\x09",
        "#set_separator\t,",
        "#empty_field\t(empty)",
        "#unset_field\t-",
        "#path\tconn",
        "#open\t2023-11-14-22-13-20",
        "#fields\t" + "\t".join(FIELDS),
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t"
        "string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]",
    ]
)
ROWS = [
    # a bot's telnet session to its C2: SYN, SYN-ACK, data, FIN both ways
    "1700000000.123456\tC1\t192.0.2.10\t40000\t203.0.113.1\t23\ttcp\t-\t1.500000\t10\t20\t"
    "SF\t-\t-\t0\tShADadFf\t6\t330\t5\t280\t(empty)",
    # DNS with unset duration and byte counts
    "1700000001.000000\tC2\t192.0.2.11\t5353\t198.51.100.53\t53\tudp\tdns\t-\t-\t-\tS0\t-\t-\t0\t"
    "D\t1\t40\t0\t0\t(empty)",
    "1700000002.5\tC3\t2001:DB8::1\t8\t2001:db8::2\t0\ticmp\t-\t0.1\t-\t-\tOTH\t-\t-\t0\t-\t1\t"
    "48\t1\t48\t(empty)",
    "1700000003.0\tC4\t192.0.2.12\t1\t192.0.2.13\t2\tunknown_transport\t-\t0\t-\t-\tOTH\t-\t-\t"
    "0\t-\t1\t20\t0\t0\t(empty)",
]
BAD = [
    "garbage line",
    "1700000003.0\tC5\t999.1.1.1\t1\t192.0.2.1\t2\ttcp\t-\t0.1\t-\t-\tOTH\t-\t-\t0\t-\t1\t48\t1\t"
    "48\t(empty)",
    "1700000003.0\tC6\t192.0.2.1\t70000\t192.0.2.2\t2\ttcp\t-\t0.1\t-\t-\tOTH\t-\t-\t0\t-\t1\t48\t"
    "1\t48\t(empty)",
    "not-a-time\tC7\t192.0.2.1\t1\t192.0.2.2\t2\ttcp\t-\t0.1\t-\t-\tOTH\t-\t-\t0\t-\t1\t48\t1\t"
    "48\t(empty)",
]


def _log(rows: list[str]) -> bytes:
    return (HEADER + "\n" + "\n".join(rows) + "\n#close\t2023-11-14-23-00-00\n").encode()


def test_tsv_rows_map_to_flows() -> None:
    table, bad = read_zeek_conn(_log(ROWS), site="isp-a")
    assert bad.count == 0
    rows = table.to_pylist()
    first = rows[0]
    assert (first["src"], first["dst"], first["sport"], first["dport"]) == (
        "192.0.2.10",
        "203.0.113.1",
        40000,
        23,
    )
    assert (first["packets"], first["bytes"], first["proto"]) == (11, 610, "tcp")
    assert first["tcp_flags"] == 0x02 | 0x10 | 0x08 | 0x01  # S, A, D, F
    assert (first["end"] - first["start"]).total_seconds() == 1.5
    assert first["start"].timestamp() == 1700000000.123
    assert (first["exporter"], first["site"]) == ("zeek", "isp-a")
    dns = rows[1]
    assert (dns["packets"], dns["bytes"], dns["tcp_flags"], dns["start"]) == (
        1,
        40,
        0,
        dns["end"],
    )
    assert rows[2]["src"] == "2001:db8::1" and rows[2]["proto"] == "icmp"
    assert rows[3]["proto"] == "other"


def test_bad_lines_are_counted_and_kept() -> None:
    table, bad = read_zeek_conn(_log(ROWS[:1] + BAD + ROWS[1:2]), site="isp-a")
    assert table.num_rows == 2
    assert bad.count == len(BAD)
    assert "garbage line" in bad.samples


def test_history_flags_per_letter() -> None:
    row = ROWS[0].replace("ShADadFf", "Sh")
    table, _ = read_zeek_conn(_log([row, row.replace("\tSh\t", "\tShR\t")]), site="s")
    assert table["tcp_flags"].to_pylist() == [0x12, 0x16]


def test_concatenated_logs_and_custom_separator() -> None:
    comma = _log(ROWS[:1]).decode().replace("\t", ",").replace("#separator \\x09", "#separator ,")
    data = _log(ROWS[1:2]) + comma.encode()
    table, bad = read_zeek_conn(data, site="s")
    assert table.num_rows == 2 and bad.count == 0


def test_rows_without_header_or_fields_are_bad() -> None:
    table, bad = read_zeek_conn(("\n".join(ROWS) + "\n").encode(), site="s")
    assert table.num_rows == 0 and bad.count == len(ROWS)
    short = _log(ROWS[:2]).replace(b"\tresp_ip_bytes", b"\tother")
    table, bad = read_zeek_conn(short, site="s")
    assert table.num_rows == 0 and bad.count == 2


def test_json_logs() -> None:
    lines = [
        {
            "ts": 1700000000.25,
            "id.orig_h": "192.0.2.10",
            "id.orig_p": 40000,
            "id.resp_h": "203.0.113.1",
            "id.resp_p": 23,
            "proto": "tcp",
            "duration": 2.0,
            "history": "ShAF",
            "orig_pkts": 3,
            "resp_pkts": 2,
            "orig_ip_bytes": 150,
            "resp_ip_bytes": 100,
        },
        {
            "ts": "2023-11-14T22:13:21.000000Z",
            "id.orig_h": "192.0.2.11",
            "id.orig_p": 1,
            "id.resp_h": "192.0.2.12",
            "id.resp_p": 2,
            "proto": "udp",
        },
    ]
    data = "\n".join([*map(json.dumps, lines), "{not json", "[1]"]).encode()
    table, bad = read_zeek_conn(data, site="s")
    assert table.num_rows == 2 and bad.count == 2
    first = table.to_pylist()[0]
    assert (first["packets"], first["bytes"], first["tcp_flags"]) == (5, 250, 0x13)
    assert table.to_pylist()[1]["start"].timestamp() == 1700000001.0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_any_bytes(data: bytes) -> None:
    table, bad = read_zeek_conn(data, site="s")
    assert table.num_rows >= 0 and bad.count >= 0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.:-\tabcdefS(empty)", max_size=120), max_size=5))
def test_fuzz_rows_under_a_header(rows: list[str]) -> None:
    table, bad = read_zeek_conn(_log(rows), site="s")
    assert table.num_rows + bad.count <= len([r for r in rows if r.strip()])
