"""Ports, shards (ZMap's 0-based I/N) and ZMap CSV input."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from iotscope.errors import ConfigError
from iotscope.survey import Scope, parse_ports, parse_shard, read_zmap_csv
from iotscope.survey._scope import parse_networks


def test_default_and_ranges() -> None:
    ports = parse_ports("23,22, 8000-8002,U:1900,23")
    assert ports.tcp == (22, 23, 8000, 8001, 8002)
    assert ports.udp == (1900,)
    assert ports.labels()[-1] == "U:1900"


@pytest.mark.parametrize("spec", ["", "0", "70000", "80-79", "abc", "U:53"])
def test_bad_ports(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_ports(spec)


def test_shards_are_disjoint_and_cover() -> None:
    ips = [ipaddress.ip_address(f"127.50.{i // 256}.{i % 256}") for i in range(4000)]
    shards = [parse_shard(f"{i}/4") for i in range(4)]
    owners = [[s.owns(ip) for s in shards].count(True) for ip in ips]
    assert set(owners) == {1}
    sizes = [sum(s.owns(ip) for ip in ips) for s in shards]
    assert min(sizes) > 800  # roughly balanced
    assert all(parse_shard(None).owns(ip) for ip in ips[:10])


@pytest.mark.parametrize("spec", ["4/4", "1", "a/b", "-1/4", "0/0"])
def test_bad_shard(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_shard(spec)


SCOPE = Scope.from_networks(parse_networks(["127.60.0.0/24"]), parse_networks(["127.60.0.128/25"]))


def test_zmap_csv_with_header(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text(
        "saddr,daddr,sport,dport,success\n"
        "127.60.0.5,127.0.0.1,23,40000,1\n"
        "127.60.0.5,127.0.0.1,80,40001,1\n"
        "127.60.0.6,127.0.0.1,22,40002,0\n"
        "127.60.0.200,127.0.0.1,23,40003,1\n"  # excluded
        "192.0.2.1,127.0.0.1,23,40004,1\n"  # outside
        "not-an-ip,127.0.0.1,23,1,1\n"
        "127.60.0.7,127.0.0.1,99999,1,1\n"
    )
    out = read_zmap_csv(path, SCOPE)
    assert out.hosts == {ipaddress.ip_address("127.60.0.5"): {23, 80}}
    assert (out.rows, out.out_of_scope, out.bad_rows, out.not_success) == (7, 2, 2, 1)


def test_zmap_bare_saddr_list(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text("127.60.0.1\n127.60.0.2\n\n127.60.0.250\n")
    out = read_zmap_csv(path, SCOPE)
    assert sorted(map(str, out.hosts)) == ["127.60.0.1", "127.60.0.2"]
    assert out.hosts[ipaddress.ip_address("127.60.0.1")] == set()
    assert out.out_of_scope == 1


def test_zmap_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        read_zmap_csv(tmp_path / "absent.csv", SCOPE)
