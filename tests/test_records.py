"""Records: validated on construction, immutable, JSON field names per the CLI contract."""

from __future__ import annotations

import ipaddress
import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from iotscope.records import C2Candidate, Finding, Flow, Identity, Login, Sighting
from tests.conftest import FIXED_NOW


def test_finding_json_contract() -> None:
    f = Finding(
        ip="127.77.0.5",
        port=23,
        service="telnet",
        time=FIXED_NOW,
        banner="login:",
        identity=Identity(vendor="Xiongmai"),
        login=Login(
            protocol="telnet", outcome="accepted", username="root", credential="mirai-2016#1"
        ),
    )
    doc = json.loads(f.to_json())
    assert doc["ip"] == "127.77.0.5"
    assert doc["time"] == "2026-11-01T03:00:00Z"
    assert set(doc["identity"]) == {"vendor", "product", "model", "version", "device_type", "cpe"}
    assert {"protocol", "outcome", "username", "credential"} <= set(doc["login"])


def test_records_are_immutable() -> None:
    ident = Identity(vendor="Dahua")
    with pytest.raises(ValidationError):
        ident.vendor = "x"  # type: ignore[misc]


def test_unknown_fields_and_bad_values_refused() -> None:
    with pytest.raises(ValidationError):
        Identity(vendr="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Login(protocol="telnet", outcome="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Finding(ip="not-an-ip", port=23, service="telnet", time=FIXED_NOW)
    with pytest.raises(ValidationError):
        Finding(ip="127.0.0.1", port=70000, service="telnet", time=FIXED_NOW)


def test_times_become_utc() -> None:
    jst = timezone(timedelta(hours=9))
    s = Sighting(
        src="198.51.100.1",
        first_seen=datetime(2026, 11, 1, 12, 0, tzinfo=jst),
        last_seen=datetime(2026, 11, 1, 3, 0),
        packets=1,
        targets=1,
        mirai_fingerprint=1.0,
        classification="mirai",
    )
    assert s.first_seen == FIXED_NOW
    assert s.last_seen == FIXED_NOW
    assert s.src == ipaddress.ip_address("198.51.100.1")


def test_flow_and_c2_contract_fields() -> None:
    flow = Flow(
        start=FIXED_NOW,
        end=FIXED_NOW,
        src="10.0.0.1",
        dst="203.0.113.9",
        sport=40000,
        dport=23,
        proto="tcp",
        packets=3,
        bytes=180,
        tcp_flags=0x1B,
        exporter="e",
        site="isp-a",
    )
    assert list(json.loads(flow.to_json())) == [
        "start",
        "end",
        "src",
        "dst",
        "sport",
        "dport",
        "proto",
        "packets",
        "bytes",
        "tcp_flags",
        "exporter",
        "site",
    ]
    c2 = C2Candidate(
        ip="203.0.113.9",
        port=23,
        proto="tcp",
        score=0.97,
        clients=4,
        infected_clients=2,
        first_seen=FIXED_NOW,
        last_seen=FIXED_NOW,
        reasons=("heartbeat",),
        site="isp-a",
    )
    assert json.loads(c2.to_json())["reasons"] == ["heartbeat"]


def test_identity_is_empty() -> None:
    assert Identity().is_empty()
    assert not Identity(version="1").is_empty()
