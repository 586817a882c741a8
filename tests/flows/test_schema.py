"""Column helpers of the flow table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from iotscope.flows import FLOW_SCHEMA, empty_flows
from iotscope.flows._schema import (
    constant,
    ipv4_strings,
    ipv6_strings,
    proto_numbers,
    proto_strings,
)


def test_proto_names_and_numbers_round_trip() -> None:
    names = proto_strings(np.array([6, 17, 1, 58, 47, 0]))
    assert names.to_pylist() == ["tcp", "udp", "icmp", "icmp", "other", "other"]
    assert proto_numbers(pa.array(["tcp", "udp", "icmp", "other", "gre"])).tolist() == [
        6,
        17,
        1,
        255,
        255,
    ]


def test_address_strings() -> None:
    assert ipv4_strings(np.array([0xC0000201, 0, 0xFFFFFFFF])).to_pylist() == [
        "192.0.2.1",
        "0.0.0.0",
        "255.255.255.255",
    ]
    raw = np.frombuffer(bytes.fromhex("20010db8000000000000000000000001"), dtype=np.uint8).reshape(
        1, 16
    )
    assert ipv6_strings(raw).to_pylist() == ["2001:db8::1"]


def test_constant_and_empty() -> None:
    assert constant("isp-a", 3).to_pylist() == ["isp-a"] * 3
    assert len(constant("x", 0)) == 0
    assert empty_flows().schema == FLOW_SCHEMA
