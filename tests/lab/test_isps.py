"""Make-believe ISPs splitting the lab network."""

from __future__ import annotations

import ipaddress
import random

import pytest

from iotscope.lab._isps import PRIVATE_ASN, split_isps


@pytest.mark.parametrize("network", ["127.150.0.0/16", "127.150.3.0/24", "127.0.0.0/8"])
def test_prefixes_cover_the_network_exactly(network: str) -> None:
    net = ipaddress.IPv4Network(network)
    isps = split_isps(net, random.Random(1))
    prefixes = [ipaddress.IPv4Network(p) for isp in isps for p in isp.prefixes]
    assert list(ipaddress.collapse_addresses(prefixes)) == [net]
    assert sum(p.num_addresses for p in prefixes) == net.num_addresses  # no overlap
    assert all(PRIVATE_ASN[0] <= isp.asn <= PRIVATE_ASN[1] for isp in isps)
    assert len({isp.asn for isp in isps}) == len(isps) == 5


def test_tiny_network_gets_fewer_isps() -> None:
    isps = split_isps(ipaddress.IPv4Network("127.150.3.0/31"), random.Random(1))
    assert 1 <= len(isps) <= 2


def test_seeded() -> None:
    net = ipaddress.IPv4Network("127.150.0.0/16")
    assert split_isps(net, random.Random(3)) == split_isps(net, random.Random(3))
