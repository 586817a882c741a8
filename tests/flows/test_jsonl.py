"""Flows as JSON Lines: the contract's fields, parseable as ``iotscope.records.Flow``."""

from __future__ import annotations

import io
import json

from iotscope.flows import FLOW_SCHEMA, flows_table
from iotscope.flows._jsonl import flow_lines, write_flow_lines
from iotscope.records import Flow


def test_lines_are_flow_records() -> None:
    table = flows_table(
        start_ms=[1_700_000_000_123, 1_700_000_001_000],
        end_ms=[1_700_000_000_623, 1_700_000_002_000],
        src=["192.0.2.1", "2001:db8::1"],
        dst=["203.0.113.1", "2001:db8::2"],
        sport=[40000, 0],
        dport=[23, 2048],
        proto=["tcp", "icmp"],
        packets=[3, 1],
        octets=[180, 84],
        tcp_flags=[0x1B, 0],
        exporter="192.0.2.254",
        site="isp-a",
    )
    lines = list(flow_lines(table))
    first = json.loads(lines[0])
    assert list(first) == FLOW_SCHEMA.names
    assert (first["start"], first["end"]) == (
        "2023-11-14T22:13:20.123Z",
        "2023-11-14T22:13:20.623Z",
    )
    flows = [Flow.model_validate_json(line) for line in lines]
    assert flows[0].start.timestamp() == 1_700_000_000.123
    assert str(flows[1].src) == "2001:db8::1" and flows[1].proto == "icmp"
    sink = io.StringIO()
    assert write_flow_lines(sink, table) == 2
    assert sink.getvalue().count("\n") == 2
